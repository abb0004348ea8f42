package live_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/asticode/go-astits"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/ivs/emulator"
	"github.com/ivslive/ivslive/live"
	"github.com/ivslive/ivslive/metrics"
)

// newPlaybackEnv is a server with 3 real-time seats (one stage, no fan-out),
// the playback side on, and the emulator on the real clock (its HLS
// segmenter cuts on wall time).
func newPlaybackEnv(t *testing.T, private bool) hostEnv {
	env := apitest.New(t, apitest.Options{
		Live:     func(c *live.Config) { c.AutoScale, c.Threshold, c.Capacity = false, 3, 3 },
		Playback: func(p *live.Playback) { p.Private = private },
	})
	e := hostEnv{scaleEnv: scaleEnv{Env: env, scaler: &live.Scaler{Service: env.Live, Leader: alwaysLeader{}, Interval: time.Hour}}, events: true}
	stop := env.Emulator.SubscribeEvents(func(ev emulator.EventBridgeEvent) {
		in := fromEventBridge(ev)
		if c := ev.Composition; c != nil { // what the queue consumer makes of it
			in = ivslive.IVSEvent{ID: ev.ID, Name: c.EventName, StageARN: c.StageArn, ChannelARN: c.ChannelArn,
				ErrorCode: c.ErrorCode, CompositionARN: ev.Resources[0]}
		}
		if err := env.Live.ApplyIVSEvent(context.Background(), in); err != nil {
			t.Errorf("apply %s: %v", ev.Detail.EventName, err)
		}
	})
	t.Cleanup(stop)
	return e
}

type viewerAnswer struct {
	Mode, Token, StageARN, PlaybackURL, PlaybackToken, SessionID, ChannelARN string
}

func (e hostEnv) viewer(t *testing.T, user string, body map[string]string) (viewerAnswer, *apitest.Response) {
	t.Helper()
	if body == nil {
		body = map[string]string{}
	}
	body["userId"] = user
	r := e.Do(t, "POST", "/api/token/viewer", body)
	var a viewerAnswer
	if r.Status == 200 {
		r.Decode(t, &a)
	}
	return a, r
}

// local turns the emulator's public playback URL into the test server's.
func (e hostEnv) local(u string) string {
	return e.URL + u[strings.Index(u, "/ivs/"):]
}

var segmentLine = regexp.MustCompile(`(?m)^[^#\s][^\s]*\.ts\S*$`)

func get(t *testing.T, u string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// The acceptance: the 4th to 10th viewers are sent to the channel, whose
// playback URL serves HLS carrying the host's H.264, composed through the
// real SDK; the host's end stops the composition and closes every session
// with one history record that says its mode.
func TestPlaybackPastRealtimeSeats(t *testing.T) {
	e := newPlaybackEnv(t, false)
	h := e.hostToken(t)
	e.publish(t, &h)

	var channel string
	for i := 1; i <= 10; i++ {
		a, r := e.viewer(t, fmt.Sprintf("v%d", i), nil)
		if r.Status != 200 {
			t.Fatalf("viewer %d: %d %s", i, r.Status, r.Raw)
		}
		switch {
		case i <= 3 && (a.Mode != live.ModeRealtime || a.Token == ""):
			t.Fatalf("viewer %d: %+v, want a real-time seat", i, a)
		case i > 3 && (a.Mode != live.ModePlayback || a.PlaybackURL == "" || a.Token != "" || !ivslive.ValidChannelARN(a.StageARN)):
			t.Fatalf("viewer %d: %+v, want playback", i, a)
		}
		if i > 3 {
			channel = a.StageARN
			// Playback viewers heartbeat on their channel like anyone.
			e.Must(t, 200, "POST", "/api/viewer/heartbeat", map[string]string{"userId": fmt.Sprintf("v%d", i), "stageArn": a.StageARN})
		}
	}
	// A guest who must publish insists on real time: still STAGE_FULL.
	if _, r := e.viewer(t, "guest", map[string]string{"mode": "realtime"}); r.Status == 200 || !strings.Contains(string(r.Raw), "STAGE_FULL") {
		t.Fatalf("insisting on real time: %d %s", r.Status, r.Raw)
	}
	comps, err := e.IVS.ListCompositions(t.Context(), e.Live.MasterARN())
	if err != nil || len(comps) != 1 {
		t.Fatalf("compositions %+v %v", comps, err)
	}
	if c, err := e.IVS.GetComposition(t.Context(), comps[0].ARN); err != nil || c.Destinations[0].ChannelARN != channel {
		t.Fatalf("composition %+v %v, want one into %s", c, err, channel)
	}

	a, _ := e.viewer(t, "v4", nil)
	playURL := e.local(a.PlaybackURL)
	var playlist string
	testenv.Eventually(t, 20*time.Second, "a playlist with a segment", func() bool {
		status, body := get(t, playURL)
		playlist = string(body)
		return status == 200 && segmentLine.MatchString(playlist)
	})
	seg := segmentLine.FindString(playlist)
	status, data := get(t, playURL[:strings.LastIndex(playURL, "/")+1]+seg)
	if status != 200 {
		t.Fatalf("segment %s: %d", seg, status)
	}
	checkH264(t, data)

	e.checkCounts(t, 3, 7)

	st, err := e.Live.PlaybackStatus(t.Context())
	if err != nil || st.Viewers != 7 || st.CompositionARN != comps[0].ARN {
		t.Fatalf("playback status %+v %v", st, err)
	}

	// The host stops: the composition ends and so does every session.
	e.Must(t, 200, "POST", "/api/viewer/leave", map[string]string{"userId": "v10", "stageArn": channel})
	if _, err := e.Live.EndPublisher(t.Context(), "", true); err != nil {
		t.Fatal(err)
	}
	e.check(t)
	testenv.Eventually(t, 10*time.Second, "composition stopped", func() bool {
		c, err := e.IVS.GetComposition(t.Context(), comps[0].ARN)
		return ivslive.ErrorCode(err) == ivslive.ENOTFOUND || err == nil && (c.State == ivslive.CompositionStopped || c.State == ivslive.CompositionStopping)
	})
	if st, _ := e.Live.PlaybackStatus(t.Context()); st.Viewers != 0 || st.CompositionARN != "" {
		t.Fatalf("after the host: %+v", st)
	}
	modes := map[string]int{}
	for i := 4; i <= 10; i++ {
		recs, _, _, err := e.Store.FindSessions(t.Context(), ivslive.SessionFilter{UserID: fmt.Sprintf("v%d", i), Limit: 10})
		if err != nil || len(recs) != 1 {
			t.Fatalf("v%d history: %+v %v", i, recs, err)
		}
		modes[recs[0].Mode()]++
	}
	if modes[live.ModePlayback] != 7 {
		t.Fatalf("modes %v", modes)
	}
	var hist struct {
		History []struct{ Mode, StageArn string }
	}
	e.Must(t, 200, "GET", "/api/viewer/history/v1", nil).Decode(t, &hist)
	if len(hist.History) != 0 {
		t.Fatalf("v1 (real-time, still seated) history %+v", hist)
	}
	e.Must(t, 200, "GET", "/api/viewer/history/v5", nil).Decode(t, &hist)
	if len(hist.History) != 1 || hist.History[0].Mode != live.ModePlayback || hist.History[0].StageArn != channel {
		t.Fatalf("v5 history %+v", hist)
	}
}

// A private channel's URL needs the playback token, which the emulator
// checks against the imported playback key.
func TestPlaybackPrivateChannel(t *testing.T) {
	e := newPlaybackEnv(t, true)
	h := e.hostToken(t)
	e.publish(t, &h)
	a, r := e.viewer(t, "p1", map[string]string{"mode": "playback"})
	if r.Status != 200 || a.Mode != live.ModePlayback || a.PlaybackToken == "" || !strings.Contains(a.PlaybackURL, "?token=") {
		t.Fatalf("private playback: %d %s", r.Status, r.Raw)
	}
	bare := e.local(a.PlaybackURL[:strings.Index(a.PlaybackURL, "?")])
	if status, _ := get(t, bare); status != http.StatusForbidden && status != http.StatusUnauthorized {
		t.Fatalf("without a token: %d, want 401/403", status)
	}
	testenv.Eventually(t, 20*time.Second, "the private playlist with the token", func() bool {
		status, _ := get(t, e.local(a.PlaybackURL))
		return status == 200
	})
}

func checkH264(t *testing.T, data []byte) {
	t.Helper()
	if len(data) == 0 || len(data)%188 != 0 {
		t.Fatalf("segment of %d bytes is not whole TS packets", len(data))
	}
	dmx := astits.NewDemuxer(t.Context(), bytes.NewReader(data))
	var sawH264, sawPES bool
	for {
		d, err := dmx.NextData()
		if errors.Is(err, astits.ErrNoMorePackets) {
			break
		}
		if err != nil {
			t.Fatalf("demux: %v", err)
		}
		if d.PMT != nil {
			for _, es := range d.PMT.ElementaryStreams {
				sawH264 = sawH264 || es.StreamType == astits.StreamTypeH264Video
			}
		}
		sawPES = sawPES || d.PES != nil && bytes.Contains(d.PES.Data, []byte{0, 0, 1})
	}
	if !sawH264 || !sawPES {
		t.Errorf("segment: H.264 stream %v, video PES %v", sawH264, sawPES)
	}
}

// checkCounts: /api/stats and /metrics split the viewers as the sessions do.
func (e hostEnv) checkCounts(t *testing.T, realtime, playback int) {
	t.Helper()
	var st struct{ TotalViewers, RealtimeViewers, PlaybackViewers int }
	e.Must(t, 200, "GET", "/api/stats", nil).Decode(t, &st)
	if st.RealtimeViewers != realtime || st.PlaybackViewers != playback || st.TotalViewers != realtime+playback {
		t.Fatalf("stats %+v, want %d real-time and %d playback", st, realtime, playback)
	}
	rt, err := e.Live.Viewers(t.Context(), e.Live.MasterARN())
	if err != nil || len(rt) != realtime {
		t.Fatalf("real-time sessions %d %v", len(rt), err)
	}
	reg := prometheus.NewRegistry()
	metrics.New(reg, e.Live.Stats, nil)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		if f.GetName() == "ivslive_viewers_by_mode" {
			for _, m := range f.GetMetric() {
				got[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
			}
		}
	}
	if got["realtime"] != float64(realtime) || got["playback"] != float64(playback) {
		t.Fatalf("ivslive_viewers_by_mode %v", got)
	}
}

// The 6th composition on a stage is refused by IVS's quota (the model's
// ServiceQuotaExceededException): the viewer who needed it hears why, and
// /api/stats keeps the reason.
func TestPlaybackCompositionQuota(t *testing.T) {
	e := newPlaybackEnv(t, false)
	h := e.hostToken(t)
	e.publish(t, &h)
	for i := range 5 {
		ch, err := e.IVS.CreateChannel(t.Context(), ivslive.CreateChannelInput{Name: fmt.Sprintf("other-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.IVS.StartComposition(t.Context(), ivslive.StartCompositionInput{StageARN: e.Live.MasterARN(), ChannelARN: ch.ARN}); err != nil {
			t.Fatalf("composition %d: %v", i+1, err)
		}
	}
	for i := 1; i <= 3; i++ {
		e.viewer(t, fmt.Sprintf("v%d", i), nil)
	}
	_, r := e.viewer(t, "v4", nil)
	if r.Status != 503 || r.Error.Code != ivslive.ESTAGEFULL || !strings.Contains(r.Error.Message, "quota") ||
		!strings.Contains(string(r.Raw), "composition_refused") {
		t.Fatalf("past the seats with no composition left: %d %s", r.Status, r.Raw)
	}
	var st struct {
		Playback live.PlaybackStatus
	}
	e.Must(t, 200, "GET", "/api/stats", nil).Decode(t, &st)
	if !strings.Contains(st.Playback.Blocker, "quota") || st.Playback.CompositionARN != "" {
		t.Fatalf("stats playback %+v", st.Playback)
	}
}

// A composition that ends behind ivslive's back (IVS's event says so) is
// forgotten, and the next playback viewer gets a new one.
func TestPlaybackCompositionEndedEvent(t *testing.T) {
	e := newPlaybackEnv(t, false)
	h := e.hostToken(t)
	e.publish(t, &h)
	if _, r := e.viewer(t, "p1", map[string]string{"mode": "playback"}); r.Status != 200 {
		t.Fatalf("playback: %d %s", r.Status, r.Raw)
	}
	first, _ := e.Live.PlaybackStatus(t.Context())
	if first.CompositionARN == "" {
		t.Fatalf("no composition: %+v", first)
	}
	if err := e.IVS.StopComposition(t.Context(), first.CompositionARN); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "the Session End event applied", func() bool {
		st, _ := e.Live.PlaybackStatus(t.Context())
		return st.CompositionARN == ""
	})
	if _, r := e.viewer(t, "p2", map[string]string{"mode": "playback"}); r.Status != 200 {
		t.Fatalf("playback: %d %s", r.Status, r.Raw)
	}
	if again, _ := e.Live.PlaybackStatus(t.Context()); again.CompositionARN == "" || again.CompositionARN == first.CompositionARN {
		t.Fatalf("after the end: %+v", again)
	}
}

// With no playback viewer left, the scaler keeps the composition for its
// linger (the viewer it was started for may still be on the way), then
// stops it; the channel's sessions are not touched while the host is live.
func TestPlaybackCompositionStopsAfterViewersLeave(t *testing.T) {
	clock := apitest.NewClock(time.Now().UTC().Truncate(time.Second))
	env := apitest.New(t, apitest.Options{Clock: clock, Playback: func(p *live.Playback) {}})
	e := scaleEnv{Env: env, clock: clock, scaler: &live.Scaler{Service: env.Live, Leader: alwaysLeader{}, Interval: time.Hour}}
	e.publisher(t, true)
	var a viewerAnswer
	e.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "p1", "mode": "playback"}).Decode(t, &a)
	e.Must(t, 200, "POST", "/api/viewer/leave", map[string]string{"userId": "p1", "stageArn": a.StageARN})
	e.check(t)
	st, _ := e.Live.PlaybackStatus(t.Context())
	if st.CompositionARN == "" {
		t.Fatal("the composition was stopped at once")
	}
	clock.Add(3 * time.Minute)
	e.check(t)
	if after, _ := e.Live.PlaybackStatus(t.Context()); after.CompositionARN != "" {
		t.Fatalf("still running after the linger: %+v", after)
	}
	c, err := e.IVS.GetComposition(t.Context(), st.CompositionARN)
	if err == nil && c.State != ivslive.CompositionStopping && c.State != ivslive.CompositionStopped {
		t.Fatalf("IVS has it %s", c.State)
	}
}
