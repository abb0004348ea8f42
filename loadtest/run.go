package loadtest

import (
	"bytes"
	"context"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// engine is one run's state.
type engine struct {
	o       Options
	client  *http.Client
	start   time.Time // monotonic origin of every time.Duration below
	sem     chan struct{}
	rec     [numRoutes]recorder
	warm    recorder // requests sent during the warmup; never reported
	buffers sync.Pool

	keyHeader                        http.Header
	urlHeartbeat, urlLeave, urlStats string

	joined    []atomic.Pointer[viewer] // the first nJoined are (being) filled
	nJoined   atomic.Int64
	firstJoin sync.Once
	anyJoined chan struct{}
	fallbacks atomic.Int64

	sched   *schedule
	model   *model
	samples []Sample // written by the sampler, read once it has stopped
	series  *series  // heartbeat latencies by window; nil without SeriesEvery
}

// task is a dispatched join (v nil) or heartbeat.
type task struct {
	i int
	v *viewer
}

// Run runs the simulation described by o and returns its report. Progress
// lines go to progress when it is not nil. Errors of the server or the
// network are counted in the report, never returned; Run returns an error
// for invalid options, and ctx's error, with the report so far, when ctx
// ends first.
func Run(ctx context.Context, o Options, progress io.Writer) (*Report, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	e := &engine{o: o, client: o.HTTPClient, sem: make(chan struct{}, o.Concurrency),
		keyHeader: keyHeader(o.Key), urlHeartbeat: o.URL + "/api/viewer/heartbeat",
		urlLeave: o.URL + "/api/viewer/leave", urlStats: o.URL + "/api/stats/viewers",
		joined: make([]atomic.Pointer[viewer], o.Viewers), anyJoined: make(chan struct{}), sched: newSchedule(),
		series: newSeries(o.SeriesEvery)}
	e.buffers.New = func() any { return new(bytes.Buffer) }
	e.model = newModel(o.window()+30*time.Second, e.scanSilent)
	startWall := o.Now()
	e.start = time.Now()

	if s, ok := e.sample(ctx); ok { // the baseline: viewers that are not ours
		e.model.setBaseline(s.Server)
		s.ModelMin, s.ModelMax = s.Server, s.Server
		e.samples = append(e.samples, s)
	}

	bg, stopBg := context.WithCancel(ctx)
	var bgWG sync.WaitGroup
	bgWG.Go(func() { e.tickModel(bg) })
	bgWG.Go(func() { e.sampleEvery(bg) })
	var pr *progressPrinter
	if progress != nil {
		pr = newProgress(e, progress)
		bgWG.Go(func() { pr.run(bg) })
	}

	if o.Publisher {
		e.publisher(ctx)
	}
	e.steady(ctx)
	if ctx.Err() == nil {
		e.leaveSome(ctx)
	}
	stopBg()
	bgWG.Wait()
	if s, ok := e.sample(ctx); ok { // everything settled: the last word
		e.samples = append(e.samples, s)
	}
	if pr != nil {
		pr.final()
	}
	return e.report(startWall, startWall.Add(time.Since(e.start))), ctx.Err()
}

// steady runs the join and heartbeat phase until the duration is over.
func (e *engine) steady(ctx context.Context) {
	end := e.o.Duration
	tasks := make(chan task, e.o.Concurrency)
	var wg sync.WaitGroup
	for range e.o.Concurrency {
		wg.Go(func() {
			for t := range tasks {
				if t.v == nil {
					e.join(ctx, t.i)
				} else {
					e.heartbeat(ctx, t.v)
				}
			}
		})
		if e.o.Interval == 0 {
			wg.Go(func() { e.closedLoop(ctx, end) })
		}
	}
	e.dispatch(ctx, tasks, end)
	close(tasks)
	wg.Wait()
}

// dispatch hands due joins and heartbeats to the workers until end.
func (e *engine) dispatch(ctx context.Context, tasks chan<- task, end time.Duration) {
	n, next := e.o.Viewers, 0
	joinAt := func(i int) time.Duration { return time.Duration(float64(e.o.Ramp) * float64(i) / float64(max(n, 1))) }
	send := func(t task) bool {
		if time.Since(e.start) >= end {
			return false
		}
		select {
		case tasks <- t:
			return true
		case <-ctx.Done():
			return false
		}
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var due []*viewer
	for {
		now := time.Since(e.start)
		if now >= end || ctx.Err() != nil {
			return
		}
		wake := end
		// Heartbeats and joins take turns, at most Concurrency of each: a
		// server slower than the ramp must neither let the joined viewers
		// fall silent (and expire) behind the joins, nor keep new viewers
		// out behind the heartbeats.
		if e.o.Interval > 0 {
			var at time.Duration
			due, at = e.sched.popDue(due[:0], now, e.o.Interval, end, e.o.Concurrency)
			for _, v := range due {
				if !send(task{v: v}) {
					return
				}
			}
			clear(due)
			wake = min(wake, at)
		}
		for k := 0; next < n && joinAt(next) <= now && k < e.o.Concurrency; next, k = next+1, k+1 {
			if !send(task{i: next}) {
				return
			}
		}
		if next < n {
			wake = min(wake, joinAt(next))
		}
		if d := wake - time.Since(e.start); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-e.sched.wake:
			case <-ctx.Done():
				return
			}
		}
	}
}

// closedLoop heartbeats random joined viewers back to back until end.
func (e *engine) closedLoop(ctx context.Context, end time.Duration) {
	wait := time.NewTimer(end - time.Since(e.start))
	defer wait.Stop()
	select {
	case <-e.anyJoined:
	case <-wait.C:
		return
	case <-ctx.Done():
		return
	}
	for time.Since(e.start) < end && ctx.Err() == nil {
		if v := e.joinedAt(rand.IntN(e.joinedCount())); v != nil {
			e.heartbeat(ctx, v)
		}
	}
}

// leaveSome makes LeaveRatio of the joined viewers leave, spread evenly over
// the order they joined in.
func (e *engine) leaveSome(ctx context.Context) {
	n := e.joinedCount()
	k := int(math.Round(e.o.LeaveRatio * float64(n)))
	if k == 0 {
		return
	}
	leaving := make([]*viewer, 0, k)
	for j := range n {
		if (j+1)*k/n > j*k/n {
			leaving = append(leaving, e.joinedAt(j))
		}
	}
	var cursor atomic.Int64
	var wg sync.WaitGroup
	for range min(e.o.Concurrency, len(leaving)) {
		wg.Go(func() {
			for i := int(cursor.Add(1) - 1); i < len(leaving) && ctx.Err() == nil; i = int(cursor.Add(1) - 1) {
				e.leave(ctx, leaving[i])
			}
		})
	}
	wg.Wait()
}

// tickModel closes the model's ticks, ten per accuracy window.
func (e *engine) tickModel(ctx context.Context) {
	t := time.NewTicker(min(max(e.o.window()/10, 10*time.Millisecond), 100*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-t.C:
			e.model.tick(time.Since(e.start))
		case <-ctx.Done():
			return
		}
	}
}
