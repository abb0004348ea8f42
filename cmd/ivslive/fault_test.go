package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/jackc/pgx/v5"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/ivs"
	"github.com/ivslive/ivslive/ivs/emulator"
)

// redisServer is a Redis of the test's own, so the test can kill it and
// start it again on the same port (without persistence, like a cache node
// that restarts empty).
type redisServer struct {
	t    *testing.T
	port int
	cmd  *exec.Cmd
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		testenv.Unavailable(t, "redis-server binary", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &redisServer{t: t, port: ln.Addr().(*net.TCPAddr).Port}
	ln.Close()
	r.start()
	t.Cleanup(r.kill)
	return r
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.t.TempDir())
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	testenv.Eventually(r.t, 2*time.Second, "redis-server listening", func() bool {
		c, err := net.Dial("tcp", r.addr())
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

func (r *redisServer) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
		r.cmd = nil
	}
}

// startCluster starts n instances, each a process with its own directory,
// with env.
func startCluster(t *testing.T, n int, env map[string]string) *cluster {
	t.Helper()
	c := &cluster{t: t, dead: map[int]bool{}, http: &http.Client{Timeout: 10 * time.Second}}
	for i := 0; i < n; i++ {
		dir := t.TempDir()
		e := map[string]string{"IVSLIVE_DATA_DIR": dir + "/data"}
		for k, v := range env {
			e[k] = v
		}
		c.nodes = append(c.nodes, startChild(t, dir, e))
	}
	return c
}

// cluster is N instances behind a round-robin client that skips the dead.
type cluster struct {
	t     *testing.T
	nodes []*child
	dead  map[int]bool
	next  int
	http  *http.Client
}

func (c *cluster) pick() (int, *child) {
	for range c.nodes {
		i := c.next % len(c.nodes)
		c.next++
		if !c.dead[i] {
			return i, c.nodes[i]
		}
	}
	c.t.Fatal("every instance is dead")
	return 0, nil
}

// do sends one request to the next live instance.
func (c *cluster) do(method, path string, body any) (int, json.RawMessage, error) {
	_, n := c.pick()
	return client{url: n.url, key: testKey, http: c.http}.do(method, path, body)
}

// on sends one request to instance i.
func (c *cluster) on(i int, method, path string, body any) (int, json.RawMessage, error) {
	return client{url: c.nodes[i].url, key: testKey, http: c.http}.do(method, path, body)
}

// leader returns the instance that says it leads, or -1.
func (c *cluster) leader() int {
	for i, n := range c.nodes {
		if c.dead[i] {
			continue
		}
		if _, fams := scrape(c.t, n.url+"/metrics", testKey); fams != nil && value(fams, "ivslive_leader") == 1 {
			return i
		}
	}
	return -1
}

func (c *cluster) viewers(i int) int {
	status, data, err := c.on(i, "GET", "/api/stats/viewers", nil)
	if err != nil || status != 200 {
		return -1
	}
	var d struct {
		TotalViewers int `json:"totalViewers"`
	}
	json.Unmarshal(data, &d)
	return d.TotalViewers
}

// population tracks what the simulated viewers did and the server
// acknowledged.
type population struct {
	mu      sync.Mutex
	stage   map[string]string // live viewers: user -> stage
	left    []ack             // acknowledged leaves
	pending []string          // operations that got no answer, to retry
}

func (p *population) live() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.stage)
}

// join seats a user; a request that got no answer is retried on the next
// instance (a join is idempotent for a user).
func (p *population) join(c *cluster, user string) {
	for attempt := 0; attempt < 3; attempt++ {
		status, data, err := c.do("POST", "/api/token/viewer", map[string]string{"userId": user})
		if err != nil {
			continue
		}
		if status != 200 {
			c.t.Fatalf("join %s: %d %s", user, status, data)
		}
		var d struct {
			StageARN string `json:"stageArn"`
		}
		json.Unmarshal(data, &d)
		p.mu.Lock()
		p.stage[user] = d.StageARN
		p.mu.Unlock()
		return
	}
	c.t.Fatalf("join %s got no answer three times", user)
}

// leave ends a user's session; the record is expected exactly once even if
// an unanswered attempt had already closed it.
func (p *population) leave(c *cluster, user string) {
	p.mu.Lock()
	stage := p.stage[user]
	p.mu.Unlock()
	start := time.Now()
	for attempt := 0; attempt < 3; attempt++ {
		status, data, err := c.do("POST", "/api/viewer/leave", map[string]string{"userId": user, "stageArn": stage})
		if err != nil {
			continue
		}
		if status != 200 {
			c.t.Fatalf("leave %s: %d %s", user, status, data)
		}
		var d struct {
			SessionID  string `json:"sessionId"`
			ViewerLeft bool   `json:"viewerLeft"`
		}
		json.Unmarshal(data, &d)
		if !d.ViewerLeft && attempt == 0 {
			c.t.Fatalf("leave %s: the server had no live session for a viewer the simulator saw join", user)
		}
		p.mu.Lock()
		delete(p.stage, user)
		p.left = append(p.left, ack{user: user, stage: stage, session: d.SessionID, max: time.Since(start) + time.Hour})
		p.mu.Unlock()
		return
	}
	c.t.Fatalf("leave %s got no answer three times", user)
}

// verifyRecords checks that every acknowledged leave is recorded exactly
// once, on the right stage.
func (p *population) verifyRecords(t *testing.T, c *cluster) {
	t.Helper()
	var survivor int
	for i := range c.nodes {
		if !c.dead[i] {
			survivor = i
		}
	}
	deadline := time.Now().Add(time.Minute)
	lost := 0
	for _, a := range p.left {
		records := awaitRecords(deadline, func() (int, []byte, error) {
			return c.on(survivor, "GET", "/api/viewer/history/"+url.PathEscape(a.user), nil)
		})
		if len(records) == 0 {
			lost++
		} else if len(records) != 1 || records[0].StageARN != a.stage || records[0].EndReason != "leave" ||
			(a.session != "" && records[0].ID != a.session) {
			t.Errorf("%s: records %+v, want exactly one leave on %s", a.user, records, a.stage)
		}
	}
	t.Logf("%d acknowledged leaves checked: %d lost, none duplicated", len(p.left), lost)
	if lost > 0 {
		t.Fatalf("%d acknowledged leaves lost", lost)
	}
}

// TestFaultsAcrossInstances runs three instances on one Redis, one
// PostgreSQL and one IVS, under load, and breaks things: the leader is
// killed, Redis restarts empty, PostgreSQL goes away. It reports records
// lost (must be 0) and the takeover and recovery times.
func TestFaultsAcrossInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("processes and faults")
	}
	redis := startRedis(t)
	direct := testenv.PostgresURL(t)
	dbURL, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	pg := newProxy(t, dbURL.Host)
	dbURL.Host = pg.addr
	em, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	ivsSrv := httptest.NewServer(em)
	defer ivsSrv.Close()
	env := map[string]string{
		"API_PORT": "0", "API_SECRET_KEY": testKey, "IVS_BACKEND": "emulator", "IVS_ENDPOINT": ivsSrv.URL,
		"REDIS_URL": "redis://" + redis.addr() + "/0", "DATABASE_URL": dbURL.String(),
		"RATE_LIMIT_MAX_REQUESTS": "0", "HEALTH_CHECK_INTERVAL": "1", "SNAPSHOT_INTERVAL": "1",
		"MAX_VIEWERS_PER_STAGE": "20", "SCALE_UP_THRESHOLD": "10", "SCALE_DOWN_THRESHOLD": "2",
	}
	c := startCluster(t, 3, env)
	status, data, err := c.do("POST", "/api/token/publisher", map[string]string{"userId": "host"})
	if err != nil || status != 200 {
		t.Fatalf("publisher: %d %v", status, err)
	}
	// The host publishes, so the scaler can replicate it into the stages it
	// adds: viewers are seated only where the host's media is.
	var pub struct {
		ParticipantID string `json:"participantId"`
		StageARN      string `json:"stageArn"`
	}
	json.Unmarshal(data, &pub)
	em.SetPublishing(pub.StageARN, pub.ParticipantID, true)
	pop := &population{stage: map[string]string{}}

	t.Run("leader killed", func(t *testing.T) {
		c.t = t
		leader := -1
		testenv.Eventually(t, 10*time.Second, "a leader elected", func() bool { leader = c.leader(); return leader >= 0 })
		var took atomic.Int64 // nanoseconds until another instance led
		for step := 0; step < 120; step++ {
			pop.join(c, fmt.Sprint("u", step))
			if step >= 30 {
				pop.leave(c, fmt.Sprint("u", step-30))
			}
			if step == 40 {
				killed := time.Now()
				c.nodes[leader].kill()
				c.dead[leader] = true
				go func() {
					if testenv.Poll(20*time.Second, func() bool { return c.leaderQuiet() >= 0 }) {
						took.Store(int64(time.Since(killed)))
					}
				}()
			}
			time.Sleep(20 * time.Millisecond) // the population's pace: steps of traffic, not a wait for an outcome
		}
		testenv.Poll(15*time.Second, func() bool { return took.Load() != 0 })
		takeover := time.Duration(took.Load())
		t.Logf("leader %d killed with SIGKILL; another took over the jobs %v later", leader, takeover)
		if takeover == 0 || takeover > 10*time.Second {
			t.Fatalf("takeover after %v, want within 10 s", takeover)
		}
		// The new leader's scaler settles: its actions in flight (a stage
		// created, a drained one deleted) end with IVS and the pool agreeing.
		testenv.Poll(30*time.Second, func() bool { return stagesAgree(ivsSrv.URL, c) })
		checkStages(t, c, ivsSrv.URL)
		for i := range c.nodes {
			if !c.dead[i] {
				if got := c.viewers(i); got != pop.live() {
					t.Fatalf("instance %d counts %d viewers, the simulator %d", i, got, pop.live())
				}
			}
		}
		pop.verifyRecords(t, c)
	})

	t.Run("redis restarted", func(t *testing.T) {
		c.t = t
		want := pop.live()
		checkpointed(t, direct, want, time.Now())
		waitBacklog(t, c, 0)
		redis.kill()
		// While Redis is down, requests fail fast with 503, never hang.
		worst := time.Duration(0)
		for i := 0; i < 6; i++ {
			start := time.Now()
			status, data, err := c.do("POST", "/api/token/viewer", map[string]string{"userId": "during-outage"})
			worst = max(worst, time.Since(start))
			if err != nil || status != 503 || !strings.Contains(string(data), `"SERVICE_UNAVAILABLE"`) {
				t.Fatalf("during the Redis outage: %d %v", status, err)
			}
		}
		t.Logf("during the outage every request answered 503 in at most %v", worst)
		if worst > 5*time.Second {
			t.Fatalf("a request took %v during the outage", worst)
		}
		restarted := time.Now()
		redis.start()
		var back time.Duration
		if testenv.Poll(30*time.Second, func() bool { return c.viewers(c.firstAlive()) == want }) {
			back = time.Since(restarted)
		}
		t.Logf("Redis restarted empty; %d live sessions restored from the checkpoint %v later", want, back)
		if back == 0 {
			t.Fatalf("counts not restored: %d, want %d", c.viewers(c.firstAlive()), want)
		}
		pop.join(c, "after-redis")
		pop.leave(c, "after-redis")
	})

	t.Run("postgres stopped", func(t *testing.T) {
		c.t = t
		pg.down()
		before := len(pop.left)
		users := []string{}
		for u := range pop.stage {
			users = append(users, u)
			if len(users) == 10 {
				break
			}
		}
		for _, u := range users {
			pop.leave(c, u)
		}
		status, history, backlog := health(t, client{url: c.nodes[c.firstAlive()].url, http: c.http})
		t.Logf("PostgreSQL down: %d leaves answered 200; health %s, history %s, backlog %v", len(pop.left)-before, status, history, backlog)
		if status != "degraded" || history != "down" || backlog < 1 {
			t.Fatalf("health during the outage: %s %s %v", status, history, backlog)
		}
		pg.up(t)
		waitBacklog(t, c, 0)
		pop.verifyRecords(t, c)
	})
}

func (c *cluster) firstAlive() int {
	for i := range c.nodes {
		if !c.dead[i] {
			return i
		}
	}
	return -1
}

// leaderQuiet is leader() without failing the test from a goroutine.
func (c *cluster) leaderQuiet() int {
	for i, n := range c.nodes {
		if c.dead[i] {
			continue
		}
		req, _ := http.NewRequest("GET", n.url+"/metrics", nil)
		req.Header.Set("X-Api-Key", testKey)
		resp, err := c.http.Do(req)
		if err != nil {
			continue
		}
		var b strings.Builder
		buf := make([]byte, 32<<10)
		for {
			k, err := resp.Body.Read(buf)
			b.Write(buf[:k])
			if err != nil {
				break
			}
		}
		resp.Body.Close()
		if strings.Contains(b.String(), "\nivslive_leader 1\n") {
			return i
		}
	}
	return -1
}

// waitBacklog waits until the history backlog (Redis stream) is at most n.
func waitBacklog(t *testing.T, c *cluster, n float64) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, fmt.Sprintf("a history backlog of at most %v", n), func() bool {
		_, _, backlog := health(t, client{url: c.nodes[c.firstAlive()].url, http: c.http})
		return backlog <= n
	})
}

// checkpointed waits for the leader's checkpoint of the live sessions (every
// SNAPSHOT_INTERVAL) taken after since with the want sessions, so a
// presence store lost now is restored to them.
func checkpointed(t *testing.T, dbURL string, want int, since time.Time) {
	t.Helper()
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = "ivslive"
	db, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	testenv.Eventually(t, 30*time.Second, fmt.Sprintf("a checkpoint of %d sessions", want), func() bool {
		var n int
		var taken *time.Time
		// The sessions, without the meta row an incremental checkpoint
		// keeps; taken_at is the newest of any row (the meta row's, when
		// nothing changed since the last).
		err := db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE id <> $1), max(taken_at) FROM presence_checkpoint`,
			ivslive.CheckpointMetaID).Scan(&n, &taken)
		return err == nil && n == want && taken != nil && taken.After(since)
	})
}

// stagesAgree reports whether IVS's stages and the managed pool are the
// same set (what checkStages then checks in detail).
func stagesAgree(ivsURL string, c *cluster) bool {
	inIVS, managed, _, err := stageSets(ivsURL, c)
	return err == nil && maps.Equal(inIVS, managed)
}

// stageSets lists the stages IVS has and the stages ivslive manages, and
// counts the auto-scaled ones.
func stageSets(ivsURL string, c *cluster) (inIVS, managed map[string]bool, auto int, err error) {
	api, err := ivs.New(context.Background(), ivs.Options{Endpoint: ivsURL, Credentials: credentials.NewStaticCredentialsProvider("x", "x", "")})
	if err != nil {
		return nil, nil, 0, err
	}
	inIVS = map[string]bool{}
	for next := ""; ; {
		page, n, err := api.ListStages(context.Background(), next, 100)
		if err != nil {
			return nil, nil, 0, err
		}
		for _, s := range page {
			inIVS[s.ARN] = true
		}
		if next = n; next == "" {
			break
		}
	}
	status, data, err := c.on(c.firstAlive(), "GET", "/api/stage/list?limit=100", nil)
	if err != nil || status != 200 {
		return nil, nil, 0, fmt.Errorf("stage list: %d %v", status, err)
	}
	var list struct {
		Stages []struct {
			StageARN   string `json:"stageArn"`
			AutoScaled bool   `json:"autoScaled"`
		} `json:"stages"`
	}
	json.Unmarshal(data, &list)
	managed = map[string]bool{}
	for _, s := range list.Stages {
		managed[s.StageARN] = true
		if s.AutoScaled {
			auto++
		}
	}
	return inIVS, managed, auto, nil
}

// checkStages compares the stages IVS has with the stages ivslive manages:
// no duplicates, no orphans, at most five auto-scaled.
func checkStages(t *testing.T, c *cluster, ivsURL string) {
	t.Helper()
	inIVS, managed, auto, err := stageSets(ivsURL, c)
	if err != nil {
		t.Fatal(err)
	}
	for arn := range inIVS {
		if !managed[arn] {
			t.Errorf("IVS has a stage ivslive does not manage (a duplicate or an orphan): %s", arn)
		}
	}
	for arn := range managed {
		if !inIVS[arn] {
			t.Errorf("ivslive manages a stage IVS does not have: %s", arn)
		}
	}
	t.Logf("%d stages in IVS, all managed, %d auto-scaled", len(inIVS), auto)
	if auto > 5 {
		t.Errorf("%d auto-scaled stages, more than replication can feed", auto)
	}
}
