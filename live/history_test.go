package live_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/live"
	"github.com/ivslive/ivslive/redis"
)

func viewers(t *testing.T, env *apitest.Env, n int) {
	t.Helper()
	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"})
	for i := 0; i < n; i++ {
		env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": fmt.Sprint("v", i)})
	}
}

// countingHistory counts the snapshot writes of one instance.
type countingHistory struct {
	ivslive.HistoryStore
	writes atomic.Int64
}

func (c *countingHistory) SaveSnapshots(ctx context.Context, s []ivslive.Snapshot) error {
	c.writes.Add(1)
	return c.HistoryStore.SaveSnapshots(ctx, s)
}

// Two instances run the snapshot job on one Redis: only the leader writes.
func TestSnapshotsAreTakenByTheLeaderOnly(t *testing.T) {
	env := apitest.New(t, apitest.Options{Presence: apitest.RedisPresence})
	viewers(t, env, 3)
	client, prefix := testenv.Redis(t)
	leases := redis.NewLeases(client, prefix)
	log := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	counters := []*countingHistory{{HistoryStore: env.Store}, {HistoryStore: env.Store}}
	for i, counter := range counters {
		svc := live.New(env.Live.Config, env.IVS, env.Signer, env.Store, env.Presence, log)
		svc.History = counter
		if err := svc.Bootstrap(ctx); err != nil {
			t.Fatal(err)
		}
		// A TTL no loaded machine outlasts, so the lease never changes hands.
		leader := &live.Leader{Leases: leases, Name: "jobs", Owner: fmt.Sprint("i", i), TTL: 10 * time.Second, Log: log}
		job := &live.Snapshotter{Service: svc, Leader: leader, Interval: 20 * time.Millisecond}
		wg.Add(2)
		go func() { defer wg.Done(); leader.Run(ctx) }()
		go func() { defer wg.Done(); job.Run(ctx) }()
	}
	// Enough passes (every 20 ms) that a follower writing would show.
	testenv.Eventually(t, 10*time.Second, "five snapshot passes", func() bool {
		return counters[0].writes.Load()+counters[1].writes.Load() >= 5
	})
	cancel()
	wg.Wait()
	a, b := counters[0].writes.Load(), counters[1].writes.Load()
	if (a == 0) == (b == 0) {
		t.Fatalf("snapshot writes: instance 0 %d, instance 1 %d; want exactly one instance writing", a, b)
	}
	series, err := env.Store.SnapshotSeries(context.Background(), ivslive.TotalStageARN, time.Now().Add(-time.Minute), time.Now().Add(time.Minute), time.Minute)
	if err != nil || len(series) == 0 || series[0].PeakViewers != 3 {
		t.Fatalf("total series %+v, %v; want snapshots of 3 viewers", series, err)
	}
}

// Retention deletes exactly what is past the configured horizon, on the
// service's clock.
func TestRetentionUsesTheClock(t *testing.T) {
	clock := apitest.NewClock(time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
	env := apitest.New(t, apitest.Options{Clock: clock})
	ctx := context.Background()
	job := &live.Snapshotter{Service: env.Live, Leader: alwaysLeader{}, Interval: time.Hour,
		SnapshotRetention: 90 * 24 * time.Hour, SessionRetention: 30 * 24 * time.Hour}
	day := 24 * time.Hour
	var snaps []ivslive.Snapshot
	for _, age := range []time.Duration{100 * day, 90*day + time.Second, 90*day - time.Second, day} {
		snaps = append(snaps, ivslive.Snapshot{StageARN: ivslive.TotalStageARN, Time: clock.Now().Add(-age), Viewers: 1})
	}
	if err := env.Store.SaveSnapshots(ctx, snaps); err != nil {
		t.Fatal(err)
	}
	old := ivslive.ClosedSession{ViewerSession: ivslive.ViewerSession{ID: "old", UserID: "u", StageARN: env.Live.MasterARN(),
		JoinedAt: clock.Now().Add(-31 * day), LastSeen: clock.Now().Add(-31 * day)}, LeftAt: clock.Now().Add(-31 * day), Reason: ivslive.EndLeave}
	recent := old
	recent.ID, recent.JoinedAt, recent.LeftAt = "recent", clock.Now().Add(-29*day), clock.Now().Add(-29*day)
	if err := env.Store.RecordSessions(ctx, []ivslive.ClosedSession{old, recent}); err != nil {
		t.Fatal(err)
	}
	letters := []ivslive.DeadLetter{{Key: "old", Source: ivslive.DeadLetterFromStore, Record: "{}", Error: "x", FailedAt: clock.Now().Add(-31 * day)},
		{Key: "recent", Source: ivslive.DeadLetterFromStore, Record: "{}", Error: "x", FailedAt: clock.Now().Add(-29 * day)}}
	if err := env.Store.SaveDeadLetters(ctx, letters); err != nil {
		t.Fatal(err)
	}
	if err := job.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	series, _ := env.Store.SnapshotSeries(ctx, ivslive.TotalStageARN, clock.Now().Add(-200*day), clock.Now(), 200*day)
	if len(series) != 1 || series[0].AvgViewers != 1 {
		t.Fatalf("series after retention %+v", series)
	}
	got, _, total, _ := env.Store.FindSessions(ctx, ivslive.SessionFilter{UserID: "u", Limit: 10})
	if total != 1 || got[0].ID != "recent" {
		t.Fatalf("sessions after retention: %+v", got)
	}
	if kept, _, _, _ := env.Store.FindDeadLetters(ctx, ivslive.DeadLetterFilter{Limit: 10}); len(kept) != 1 || kept[0].Key != "recent" {
		t.Fatalf("dead letters after retention: %+v", kept)
	}
	left, _ := env.Store.PeakViewers(ctx, ivslive.TotalStageARN, clock.Now().Add(-90*day), clock.Now())
	if left != 1 {
		t.Fatal("a snapshot inside the horizon was deleted")
	}
	n, _ := env.Store.DeleteSnapshotsBefore(ctx, clock.Now().Add(-90*day))
	if n != 0 {
		t.Fatalf("retention left %d snapshots past the horizon", n)
	}
}

// Redis flushed while viewers are live: a restart, and the leader's
// presence check at run time, bring the sessions back from the checkpoint,
// except those closed since.
func TestPresenceRestoredAfterRedisFlush(t *testing.T) {
	client, prefix := testenv.Redis(t)
	var rec *redis.Recorder
	env := apitest.New(t, apitest.Options{Presence: func(t testing.TB, sink ivslive.SessionSink, _ func() time.Time) (ivslive.PresenceStore, func(context.Context) error) {
		rec = redis.NewRecorder(client, prefix, sink, "t", nil)
		return redis.NewPresence(client, prefix), rec.Flush
	}})
	viewers(t, env, 5)
	ctx := context.Background()
	if n, err := env.Live.Checkpoint(ctx); err != nil || n != 5 {
		t.Fatalf("checkpoint of %d, %v", n, err)
	}
	env.Must(t, 200, "POST", "/api/viewer/leave", map[string]string{"userId": "v0", "stageArn": env.Live.MasterARN()})
	if n := len(env.Recorded(t)); n != 1 {
		t.Fatalf("%d sessions recorded, want v0's", n)
	}
	want, _ := env.Live.LiveSessions(ctx)
	flush := func() {
		t.Helper()
		iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			if err := client.Del(ctx, iter.Val()).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if ls, _ := env.Presence.Loads(ctx); len(ls) != 0 {
			t.Fatal("flush left stages behind")
		}
	}

	// A restart on an empty Redis.
	flush()
	restarted := live.New(env.Live.Config, env.IVS, env.Signer, env.Store, env.Presence, slog.New(slog.DiscardHandler))
	restarted.History = env.Store
	if err := restarted.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := restarted.LiveSessions(ctx)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("after restart (-want +got):\n%s", diff)
	}
	if _, err := restarted.Presence.Publisher(ctx); err != nil {
		t.Fatalf("the publisher was not restored: %v", err)
	}

	// A flush while running: the leader's next sweep notices.
	flush()
	sweeper := &live.Sweeper{Service: restarted, Leader: alwaysLeader{}, Timeout: time.Hour, Interval: time.Second}
	sweeper.Sweep(ctx)
	got, _ = restarted.LiveSessions(ctx)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("after a flush at run time (-want +got):\n%s", diff)
	}
	var stats struct {
		TotalViewers int `json:"totalViewers"`
	}
	env.Must(t, 200, "GET", "/api/stats", nil).Decode(t, &stats)
	if stats.TotalViewers != 4 {
		t.Fatalf("stats total %d, want 4", stats.TotalViewers)
	}
}
