package http_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/internal/whiptest"
	"github.com/ivslive/ivslive/ivs"
	"github.com/ivslive/ivslive/live"
	"github.com/ivslive/ivslive/metrics"
)

type alwaysLeader struct{}

func (alwaysLeader) IsLeader() bool { return true }

// participantSources are the two ways the leader learns IVS's view: the
// emulator in process, pushed (embedded mode), and ListParticipants
// polled through the SDK client (AWS), here against the same emulator.
var participantSources = []struct {
	name     string
	interval time.Duration
	open     func(t testing.TB, env *apitest.Env) ivslive.ParticipantSource
}{
	{"embedded", time.Second, func(t testing.TB, env *apitest.Env) ivslive.ParticipantSource {
		src := ivs.NewEmulatorParticipants(env.Emulator)
		t.Cleanup(src.Close)
		return src
	}},
	{"polled", 500 * time.Millisecond, func(t testing.TB, env *apitest.Env) ivslive.ParticipantSource {
		return &live.ListedParticipants{IVS: env.IVS}
	}},
}

// runAttendance runs the leader's attendance job, as serve does, until the
// test ends.
func runAttendance(t testing.TB, env *apitest.Env, src ivslive.ParticipantSource, interval time.Duration) {
	t.Helper()
	a := &live.Attendance{Service: env.Live, Leader: alwaysLeader{}, Source: src, Interval: interval}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); a.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// stageStats is the master stage's summary in GET /api/stats.
type stageStats struct {
	StageARN     string `json:"stageArn"`
	ViewerCount  int    `json:"viewerCount"`
	IsMaster     bool   `json:"isMaster"`
	IVSConnected *int   `json:"ivsConnected"`
	Drift        *int   `json:"drift"`
}

func masterStats(t *testing.T, env *apitest.Env) stageStats {
	t.Helper()
	var st struct {
		Stages       []stageStats `json:"stages"`
		IVSConnected *int         `json:"ivsConnected"`
		Drift        *int         `json:"drift"`
	}
	env.Must(t, 200, "GET", "/api/stats", nil).Decode(t, &st)
	for _, s := range st.Stages {
		if s.IsMaster {
			if (s.IVSConnected == nil) != (st.IVSConnected == nil) {
				t.Fatalf("stage ivsConnected %v but total %v", s.IVSConnected, st.IVSConnected)
			}
			return s
		}
	}
	t.Fatal("no master stage in /api/stats")
	return stageStats{}
}

// reachable rewrites a whip_url of the test emulator (its default public
// base) to the API server that mounts it at /ivs/.
func reachable(env *apitest.Env, whip string) string {
	return strings.Replace(whip, "http://localhost:3000", env.URL, 1)
}

// A real subscriber on a real stage, published to over WHIP, closes its
// peer connection without a leave: its viewer is gone from the count within
// 5 s, recorded once as disconnected with the watch time it had. A second
// viewer who heartbeats without ever connecting stays, and shows as drift.
func TestDisconnectedViewerLeavesTheCount(t *testing.T) {
	for _, src := range participantSources {
		t.Run(src.name, func(t *testing.T) {
			env := apitest.New(t, apitest.Options{})
			runAttendance(t, env, src.open(t, env), src.interval)
			disconnectedViewerLeaves(t, env)
		})
	}
}

// host is a publisher token's answer.
type host struct{ Token, ParticipantID, WhipEndpoint string }

// publishHost takes a publisher token and publishes over WHIP until the
// test ends, once the emulator reports the host publishing.
func publishHost(t testing.TB, env *apitest.Env) host {
	t.Helper()
	var h host
	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"}).Decode(t, &h)
	pub, err := whiptest.NewPublisher(whiptest.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	if resp, err := pub.Connect(context.Background(), env.HTTP, reachable(env, h.WhipEndpoint), h.Token); err != nil || resp.Status != 201 {
		t.Fatalf("WHIP publish: %v %+v", err, resp)
	}
	master := env.Live.MasterARN()
	testenv.Eventually(t, 5*time.Second, "the host publishing", func() bool {
		for _, p := range env.Emulator.StageParticipants(master) {
			if p.ParticipantID == h.ParticipantID && p.Published && p.Connected {
				return true
			}
		}
		return false
	})
	return h
}

// watch subscribes a viewer token to the host's media and waits for video.
func watch(t testing.TB, env *apitest.Env, h host, token string) *whiptest.Subscriber {
	t.Helper()
	sub, err := whiptest.NewSubscriber(whiptest.Codecs{}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	if resp, err := sub.Connect(context.Background(), env.HTTP, reachable(env, h.WhipEndpoint)+"/subscribe/"+h.ParticipantID, token); err != nil || resp.Status != 201 {
		t.Fatalf("subscribe: %v %+v", err, resp)
	}
	testenv.Eventually(t, 10*time.Second, "the host's media at a viewer", func() bool {
		packets, _, video := sub.Received()
		return packets > 0 && video > 0
	})
	return sub
}

func disconnectedViewerLeaves(t *testing.T, env *apitest.Env) {
	h := publishHost(t, env)
	master := env.Live.MasterARN()
	var alice, bob struct{ Token, SessionID string }
	env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "alice"}).Decode(t, &alice)
	env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "bob"}).Decode(t, &bob)
	sub := watch(t, env, h, alice.Token)

	// Bob heartbeats but never connected: counted, and seen as drift.
	testenv.Eventually(t, 5*time.Second, "IVS's count of alice beside two heartbeat viewers", func() bool {
		s := masterStats(t, env)
		return s.ViewerCount == 2 && s.IVSConnected != nil && *s.IVSConnected == 1 && *s.Drift == 1
	})
	reg := prometheus.NewRegistry()
	metrics.New(reg, env.Live.Stats, nil)
	if got := gauge(t, reg, "ivslive_stage_ivs_connected"); got != 1 {
		t.Errorf("ivslive_stage_ivs_connected = %v, want 1", got)
	}
	if got := gauge(t, reg, "ivslive_stage_viewer_drift"); got != 1 {
		t.Errorf("ivslive_stage_viewer_drift = %v, want 1", got)
	}

	sess, err := env.Presence.Session(t.Context(), master, "alice")
	if err != nil {
		t.Fatal(err)
	}
	closedAt := time.Now()
	sub.Close() // no DELETE, no leave: the page just went away
	testenv.Eventually(t, 5*time.Second, "alice gone from the count", func() bool {
		return masterStats(t, env).ViewerCount == 1
	})
	t.Logf("count dropped %v after the peer connection closed", time.Since(closedAt).Round(time.Millisecond))

	var rec []ivslive.ClosedSession
	testenv.Eventually(t, 5*time.Second, "alice's record", func() bool {
		rec = env.Recorded(t)
		return len(rec) > 0
	})
	if len(rec) != 1 || rec[0].UserID != "alice" || rec[0].ID != sess.ID || rec[0].Reason != ivslive.EndDisconnected {
		t.Fatalf("recorded %+v, want alice's session once, disconnected", rec)
	}
	want := closedAt.Sub(sess.JoinedAt)
	if got := rec[0].WatchDuration(); got < want-time.Second || got > want+time.Second {
		t.Fatalf("watch duration %v, want %v ± 1 s", got, want)
	}
	if err := env.Live.Heartbeat(t.Context(), "bob", sess.StageARN, bob.SessionID); err != nil {
		t.Fatalf("bob, who never connected, lost his session: %v", err)
	}
	if s := masterStats(t, env); s.IVSConnected == nil || *s.IVSConnected != 0 || *s.Drift != 1 {
		t.Fatalf("after alice left: %+v, want IVS 0, drift 1 (bob)", s)
	}
}

// gauge reads the one sample of a gauge family.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no single %s sample", name)
	return 0
}
