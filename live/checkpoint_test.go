package live_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/live"
	"github.com/ivslive/ivslive/memory"
	"github.com/ivslive/ivslive/postgres"
	"github.com/ivslive/ivslive/redis"
)

// historyTwins are the stage and history stores a test runs on.
var historyTwins = map[string]func(t testing.TB) apitest.Stores{
	"sqlite": nil, // apitest's default
	"postgres": func(t testing.TB) apitest.Stores {
		db, err := postgres.Open(context.Background(), postgres.Options{URL: testenv.PostgresURL(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	},
}

// Checkpoints taken while viewers join and leave write only the changes,
// yet a restart restores exactly the live set: nobody lost, nobody
// resurrected, and each last-seen exact for the viewers gone silent and
// never later than the real one for the others.
func TestIncrementalCheckpointRestoresTheLiveSet(t *testing.T) {
	for name, stores := range historyTwins {
		for pname, pt := range presenceTwins {
			t.Run(name+"/"+pname, func(t *testing.T) { incrementalCheckpoint(t, stores, pt) })
		}
	}
}

// presenceTwin is a presence store for a checkpoint test: how the service
// under test opens it, and what a restart finds (an empty memory store,
// or a Redis that lost its data: a prefix of its own).
type presenceTwin struct {
	open  apitest.PresenceFunc
	fresh func(t *testing.T, env *apitest.Env, clock *apitest.Clock) ivslive.PresenceStore
}

var presenceTwins = map[string]presenceTwin{
	"memory": {fresh: func(t *testing.T, env *apitest.Env, clock *apitest.Clock) ivslive.PresenceStore {
		return memory.NewPresence(env.Store, clock.Now, nil)
	}},
	"redis": {open: apitest.RedisPresence, fresh: func(t *testing.T, _ *apitest.Env, clock *apitest.Clock) ivslive.PresenceStore {
		client, prefix := testenv.Redis(t)
		return redis.NewPresence(client, prefix, redis.WithNow(clock.Now))
	}},
}

func incrementalCheckpoint(t *testing.T, stores func(t testing.TB) apitest.Stores, pt presenceTwin) {
	ctx := context.Background()
	clock := apitest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	env := apitest.New(t, apitest.Options{Clock: clock, Stores: stores, Presence: pt.open})
	viewers(t, env, 0)
	sessions := map[string]ivslive.ViewerSession{} // by user
	var mu sync.Mutex
	join := func(user string) {
		g, err := env.Live.ViewerToken(ctx, live.ViewerRequest{UserID: user})
		if err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		sessions[user] = g.Session
		mu.Unlock()
	}
	leave := func(user string) {
		mu.Lock()
		s := sessions[user]
		mu.Unlock()
		if _, err := env.Live.Leave(ctx, user, s.StageARN, s.ID); err != nil {
			t.Error(err)
		}
	}
	for i := range 30 {
		join(fmt.Sprint("u", i))
	}
	if _, err := env.Live.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}

	// Joins and leaves race with checkpoints.
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 30; i < 100; i++ {
			join(fmt.Sprint("u", i))
			if i >= 45 { // the audience stays under the stage's 50
				leave(fmt.Sprint("u", i-45))
			}
		}
	}()
	go func() {
		defer wg.Done()
		for range 6 {
			if _, err := env.Live.Checkpoint(ctx); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()

	// A checkpoint the history store refuses (as when the shutdown cancels
	// the periodic one) keeps its changes: the next one writes them with
	// its own and stays incremental, instead of copying everyone (which at
	// a million viewers missed the shutdown's deadline).
	if _, err := env.Live.Checkpoint(ctx); err != nil { // what the race left
		t.Fatal(err)
	}
	live1, _ := env.Live.LiveSessions(ctx)
	leave(live1[0].UserID)
	join("refused")
	join("refused-then-left")
	history := env.Live.History
	env.Live.History = refusingCheckpoints{history}
	if _, err := env.Live.Checkpoint(ctx); err == nil {
		t.Fatal("a refused checkpoint reported success")
	}
	env.Live.History = history
	leave("refused-then-left") // the newer fact: deleted, not written
	join("after-refused")
	if n, err := env.Live.Checkpoint(ctx); err != nil || n != 4 {
		t.Fatalf("the checkpoint after a refused one wrote %d (%v); want the 4 changes of both (2 leaves, 2 joins still live)", n, err)
	}

	// Half the audience goes silent: the next checkpoint writes
	// their exact last-seen; the others heartbeat on.
	clock.Add(50 * time.Second)
	live0, _ := env.Live.LiveSessions(ctx)
	silent := map[string]bool{}
	for i, s := range live0 {
		if i%2 == 0 {
			silent[s.ID] = true
		} else if err := env.Live.Heartbeat(ctx, s.UserID, s.StageARN, s.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.Live.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	leave(live0[1].UserID)
	join("late")
	n, err := env.Live.Checkpoint(ctx)
	// The changes: one leave, one join, and the silent viewers.
	if err != nil || n > len(silent)+2 {
		t.Fatalf("the last checkpoint wrote %d sessions (%v); want only the %d changes", n, err, len(silent)+2)
	}
	want, _ := env.Live.LiveSessions(ctx)

	restarted := restartFrom(t, env, clock, pt.fresh(t, env, clock))
	sameSessions(t, want, restarted, silent)

	// After the restart the restored sessions count as saved: the
	// next checkpoint writes only what changed, and a second
	// restart finds exactly the live set again.
	back, _ := restarted.LiveSessions(ctx)
	for _, s := range back[:3] {
		if _, err := restarted.Leave(ctx, s.UserID, s.StageARN, s.ID); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		if _, err := restarted.ViewerToken(ctx, live.ViewerRequest{UserID: fmt.Sprint("after", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := restarted.Checkpoint(ctx); err != nil || n > len(silent)+5 {
		t.Fatalf("the first checkpoint after the restart wrote %d sessions (%v); want only the changes", n, err)
	}
	want, _ = restarted.LiveSessions(ctx)
	sameSessions(t, want, restartFrom(t, env, clock, pt.fresh(t, env, clock)), silent)
}

// refusingCheckpoints is a history store whose checkpoints fail.
type refusingCheckpoints struct{ ivslive.HistoryStore }

func (refusingCheckpoints) SaveCheckpoint(context.Context, ivslive.Checkpoint) error {
	return ivslive.Errorf(ivslive.EUNAVAILABLE, "history store refuses checkpoints")
}

// restartFrom starts a new service on env's stores with presence that
// lost its data, as an embedded-mode restart (or a Redis restarted without
// persistence) does.
func restartFrom(t *testing.T, env *apitest.Env, clock *apitest.Clock, presence ivslive.PresenceStore) *live.Service {
	t.Helper()
	s := live.New(env.Live.Config, env.IVS, env.Signer, env.Store, presence, slog.New(slog.DiscardHandler))
	s.Now, s.History = clock.Now, env.Store
	if err := s.Bootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// sameSessions checks that restarted holds exactly the sessions of want:
// none lost, none resurrected, the silent ones last seen exactly when they
// were, the others at most 40 s (QuietAfter) earlier.
func sameSessions(t *testing.T, want []ivslive.ViewerSession, restarted *live.Service, silent map[string]bool) {
	t.Helper()
	got, _ := restarted.LiveSessions(context.Background())
	byID := map[string]ivslive.ViewerSession{}
	for _, s := range got {
		byID[s.ID] = s
	}
	if len(got) != len(want) {
		t.Errorf("restored %d sessions, want %d", len(got), len(want))
	}
	for _, w := range want {
		g, ok := byID[w.ID]
		switch {
		case !ok:
			t.Errorf("session %s of %s was lost", w.ID, w.UserID)
		case g.UserID != w.UserID || g.StageARN != w.StageARN || !g.JoinedAt.Equal(w.JoinedAt):
			t.Errorf("session %s restored as %+v, want %+v", w.ID, g, w)
		case silent[w.ID] && !g.LastSeen.Equal(w.LastSeen):
			t.Errorf("silent session %s last seen %s, want exactly %s", w.ID, g.LastSeen, w.LastSeen)
		case g.LastSeen.After(w.LastSeen) || g.LastSeen.Before(w.LastSeen.Add(-40*time.Second)):
			t.Errorf("session %s last seen %s, want within 40 s before %s", w.ID, g.LastSeen, w.LastSeen)
		}
		delete(byID, w.ID)
	}
	for id := range byID {
		t.Errorf("session %s was resurrected", id)
	}
}

// Viewers past the real-time seats live in the playback store: an
// incremental checkpoint keeps them too, and a restart puts each back in
// its own store (they were lost before: a graceful restart at a million
// viewers kept only the seated ones).
func TestCheckpointRestoresPlaybackViewers(t *testing.T) {
	ctx := context.Background()
	e := newPlaybackEnv(t, false)
	h := e.hostToken(t)
	e.publish(t, &h)
	answers := map[string]viewerAnswer{}
	for i := range 8 { // 3 seats, then playback
		user := fmt.Sprint("v", i)
		a, r := e.viewer(t, user, nil)
		if r.Status != 200 {
			t.Fatalf("viewer %d: %d %s", i, r.Status, r.Raw)
		}
		answers[user] = a
	}
	if _, err := e.Live.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	// After the full copy, a seated viewer and a playback viewer leave, and
	// two come (one takes the seat, one goes to playback): the incremental
	// checkpoint writes those four changes.
	for _, user := range []string{"v1", "v6"} {
		if _, err := e.Live.Leave(ctx, user, answers[user].StageARN, answers[user].SessionID); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ user, mode string }{{"late", live.ModeRealtime}, {"later", live.ModePlayback}} {
		if a, r := e.viewer(t, c.user, nil); r.Status != 200 || a.Mode != c.mode {
			t.Fatalf("%s: %d %+v, want %s", c.user, r.Status, a, c.mode)
		}
	}
	if n, err := e.Live.Checkpoint(ctx); err != nil || n != 4 {
		t.Fatalf("incremental checkpoint wrote %d (%v), want the 4 changes", n, err)
	}
	want, _ := e.Live.LiveSessions(ctx)
	playback := 0
	for _, s := range want {
		if ivslive.ValidChannelARN(s.StageARN) {
			playback++
		}
	}
	if len(want) != 8 || playback != 5 {
		t.Fatalf("%d live sessions, %d of them playback; want 8 and 5", len(want), playback)
	}

	s := live.New(e.Live.Config, e.IVS, e.Signer, e.Store, memory.NewPresence(e.Store, nil, nil), slog.New(slog.DiscardHandler))
	s.History = e.Store
	s.Playback = &live.Playback{Broadcast: e.IVS, Presence: memory.NewPresence(e.Store, nil, nil)}
	if err := s.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := s.LiveSessions(ctx)
	ids := map[string]string{}
	for _, g := range got {
		ids[g.ID] = g.StageARN
	}
	if len(got) != len(want) {
		t.Errorf("restored %d sessions, want %d", len(got), len(want))
	}
	for _, w := range want {
		if ids[w.ID] != w.StageARN {
			t.Errorf("session %s of %s (stage %s): restored on %q", w.ID, w.UserID, w.StageARN, ids[w.ID])
		}
	}
	if n, err := s.PlaybackStatus(ctx); err != nil || n.Viewers != 5 {
		t.Errorf("playback viewers after the restart: %+v %v, want 5", n, err)
	}
}
