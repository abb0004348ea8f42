package redis

import (
	"context"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Batcher sends the script calls of many goroutines to Redis in shared
// pipelines (auto-pipelining, as rueidis does): while one pipeline is on the
// wire, new calls queue up and leave together in the next one. Under load,
// many heartbeats and rate-limit checks share each round trip, so the
// server pays far less than one round trip per request; alone, a call costs
// one round trip as before.
//
// It implements go-redis's Scripter (what Script.Run takes) and the small
// interface go-redis/redis_rate needs, so scripts and the rate limiter run
// through it unchanged.
type Batcher struct {
	client   goredis.UniversalClient
	queue    chan *pendingCmd
	maxBatch int
	timeout  time.Duration
	wg       sync.WaitGroup

	// mu orders sends on queue (read side) before Close closes it (write
	// side), so no call is queued after the workers' last read.
	mu     sync.RWMutex
	closed bool
}

// pendingCmd is one queued call. They are recycled: done is buffered, so
// the worker's signal never blocks, and a caller that gave up (its
// context ended) simply does not return its pendingCmd to the pool.
type pendingCmd struct {
	ctx  context.Context
	cmd  *goredis.Cmd
	done chan struct{}
}

var pendingPool = sync.Pool{New: func() any { return &pendingCmd{done: make(chan struct{}, 1)} }}

var _ goredis.Scripter = (*Batcher)(nil)

// NewBatcher starts workers: the pipelines that may be in flight at once.
// Few is better: while one is on the wire the next one fills up.
func NewBatcher(client goredis.UniversalClient, workers int) *Batcher {
	if workers < 1 {
		workers = 1
	}
	b := &Batcher{client: client, queue: make(chan *pendingCmd, 4096), maxBatch: 256, timeout: 3 * time.Second}
	for range workers {
		b.wg.Add(1)
		go b.work()
	}
	return b
}

// Close sends the calls already queued, then stops the workers. Calls made
// after Close fail with goredis.ErrClosed; none is left waiting.
func (b *Batcher) Close() error {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.mu.Unlock()
	b.wg.Wait()
	return nil
}

func (b *Batcher) work() {
	defer b.wg.Done()
	batch := make([]*pendingCmd, 0, b.maxBatch)
	for first := range b.queue {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < b.maxBatch {
			select {
			case p, ok := <-b.queue:
				if !ok {
					break fill
				}
				batch = append(batch, p)
			default:
				break fill
			}
		}
		b.send(batch)
	}
}

// send writes one batch as a pipeline. A call whose caller has already given
// up is answered with its context's error and never reaches Redis.
func (b *Batcher) send(batch []*pendingCmd) {
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	pipe := b.client.Pipeline()
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.cmd.SetErr(err)
			continue
		}
		pipe.Process(ctx, p.cmd)
	}
	if pipe.Len() > 0 {
		pipe.Exec(ctx) // each command carries its own result or error
	}
	for _, p := range batch {
		p.done <- struct{}{}
	}
}

// do queues cmd and waits for its answer, or for ctx. A caller that gives
// up gets a new command holding ctx's error; if its call is still queued,
// the worker drops it rather than send it.
func (b *Batcher) do(ctx context.Context, cmd *goredis.Cmd) *goredis.Cmd {
	if err := ctx.Err(); err != nil {
		return failed(ctx, err)
	}
	p := pendingPool.Get().(*pendingCmd)
	p.ctx, p.cmd = ctx, cmd
	if err := b.enqueue(ctx, p); err != nil {
		p.ctx, p.cmd = nil, nil
		pendingPool.Put(p)
		return failed(ctx, err)
	}
	select {
	case <-p.done:
		p.ctx, p.cmd = nil, nil
		pendingPool.Put(p)
		return cmd
	case <-ctx.Done():
		return failed(ctx, ctx.Err()) // the worker still signals p, which is dropped
	}
}

// enqueue hands p to the workers unless the Batcher is closed or ctx ends
// first.
func (b *Batcher) enqueue(ctx context.Context, p *pendingCmd) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return goredis.ErrClosed
	}
	select {
	case b.queue <- p:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func failed(ctx context.Context, err error) *goredis.Cmd {
	c := goredis.NewCmd(ctx)
	c.SetErr(err)
	return c
}

func evalArgs(name, script string, keys []string, args []any) []any {
	a := make([]any, 0, 3+len(keys)+len(args))
	a = append(a, name, script, len(keys))
	for _, k := range keys {
		a = append(a, k)
	}
	return append(a, args...)
}

// Do sends any command through the shared pipelines, as client.Do does.
func (b *Batcher) Do(ctx context.Context, args ...any) *goredis.Cmd {
	return b.do(ctx, goredis.NewCmd(ctx, args...))
}

// Eval implements goredis.Scripter.
func (b *Batcher) Eval(ctx context.Context, script string, keys []string, args ...any) *goredis.Cmd {
	return b.do(ctx, goredis.NewCmd(ctx, evalArgs("eval", script, keys, args)...))
}

// EvalSha implements goredis.Scripter.
func (b *Batcher) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *goredis.Cmd {
	return b.do(ctx, goredis.NewCmd(ctx, evalArgs("evalsha", sha1, keys, args)...))
}

// EvalRO implements goredis.Scripter.
func (b *Batcher) EvalRO(ctx context.Context, script string, keys []string, args ...any) *goredis.Cmd {
	return b.do(ctx, goredis.NewCmd(ctx, evalArgs("eval_ro", script, keys, args)...))
}

// EvalShaRO implements goredis.Scripter.
func (b *Batcher) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *goredis.Cmd {
	return b.do(ctx, goredis.NewCmd(ctx, evalArgs("evalsha_ro", sha1, keys, args)...))
}

// ScriptExists implements goredis.Scripter (not batched: rare).
func (b *Batcher) ScriptExists(ctx context.Context, hashes ...string) *goredis.BoolSliceCmd {
	return b.client.ScriptExists(ctx, hashes...)
}

// ScriptLoad implements goredis.Scripter (not batched: rare).
func (b *Batcher) ScriptLoad(ctx context.Context, script string) *goredis.StringCmd {
	return b.client.ScriptLoad(ctx, script)
}

// Del is what go-redis/redis_rate needs besides scripts (its Reset).
func (b *Batcher) Del(ctx context.Context, keys ...string) *goredis.IntCmd {
	return b.client.Del(ctx, keys...)
}
