package http_test

import (
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/live"
	"github.com/ivslive/ivslive/token"
)

type viewerToken struct {
	tokenData
	CurrentViewers int    `json:"currentViewers"`
	IsNewViewer    bool   `json:"isNewViewer"`
	SessionID      string `json:"sessionId"`
}

func TestViewerFlow(t *testing.T) {
	apitest.Twins(t, func(t *testing.T, presence apitest.PresenceFunc) {
		clock := apitest.NewClock(time.Now().UTC().Truncate(time.Millisecond))
		env := apitest.New(t, apitest.Options{Presence: presence, Clock: clock})
		env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"})

		var tok viewerToken
		env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "v1"}).Decode(t, &tok)
		if tok.UserID != "viewer-v1" || tok.StageARN != env.Live.MasterARN() || tok.CurrentViewers != 1 || !tok.IsNewViewer {
			t.Fatalf("viewer token = %+v", tok)
		}
		claims, err := token.Verify(tok.Token, env.Signer.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		if claims.Capabilities.AllowPublish || !claims.Capabilities.AllowSubscribe || claims.ID != tok.ParticipantID {
			t.Fatalf("claims = %+v", claims)
		}
		stage := tok.StageARN
		hb := map[string]string{"userId": "v1", "stageArn": stage}

		clock.Add(30 * time.Second)
		r := env.Must(t, 200, "POST", "/api/viewer/heartbeat", hb)
		if r.Message != "心跳更新成功" {
			t.Errorf("heartbeat message %q", r.Message)
		}
		// Getting a token again (a refresh) keeps the session and its start.
		var again viewerToken
		env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "v1"}).Decode(t, &again)
		if again.IsNewViewer || again.CurrentViewers != 1 || again.SessionID != tok.SessionID {
			t.Fatalf("second token = %+v", again)
		}
		clock.Add(30 * time.Second)
		var rejoin struct {
			IsNewViewer    bool   `json:"isNewViewer"`
			CurrentViewers int    `json:"currentViewers"`
			SessionID      string `json:"sessionId"`
		}
		env.Must(t, 200, "POST", "/api/viewer/rejoin", map[string]string{"userId": "v1", "stageArn": stage, "participantId": "newPid"}).Decode(t, &rejoin)
		if rejoin.IsNewViewer || rejoin.CurrentViewers != 1 || rejoin.SessionID != tok.SessionID {
			t.Fatalf("rejoin = %+v", rejoin)
		}
		var dur struct {
			Seconds   int64  `json:"watchDurationSeconds"`
			Formatted string `json:"watchDurationFormatted"`
			Active    bool   `json:"active"`
		}
		env.Must(t, 200, "GET", "/api/viewer/duration?userId=v1&stageArn="+url.QueryEscape(stage), nil).Decode(t, &dur)
		if dur.Seconds != 60 || dur.Formatted != "1分 0秒" || !dur.Active {
			t.Fatalf("duration = %+v: a rejoin must not reset watch time", dur)
		}
		var list struct {
			TotalViewers int      `json:"totalViewers"`
			Viewers      []string `json:"viewers"`
		}
		env.Must(t, 200, "GET", "/api/viewer/list/"+esc(stage), nil).Decode(t, &list)
		if list.TotalViewers != 1 || len(list.Viewers) != 1 || list.Viewers[0] != "v1" {
			t.Fatalf("list = %+v", list)
		}

		clock.Add(15 * time.Second)
		var left struct {
			ViewerLeft bool  `json:"viewerLeft"`
			Seconds    int64 `json:"watchDurationSeconds"`
		}
		env.Must(t, 200, "POST", "/api/viewer/leave", hb).Decode(t, &left)
		if !left.ViewerLeft || left.Seconds != 75 {
			t.Fatalf("leave = %+v", left)
		}
		env.Must(t, 404, "POST", "/api/viewer/heartbeat", hb)
		env.Must(t, 200, "POST", "/api/viewer/leave", hb).Decode(t, &left)
		if left.ViewerLeft {
			t.Fatal("a second leave reported closing a session")
		}
		rec := env.Recorded(t)
		if len(rec) != 1 || rec[0].ID != tok.SessionID || rec[0].Reason != "leave" || rec[0].WatchDuration() != 75*time.Second ||
			rec[0].ParticipantID != "newPid" || rec[0].UserAgent != "Go-http-client/1.1" || rec[0].IP != "127.0.0.1" {
			t.Fatalf("recorded = %+v", rec)
		}
	})
}

// 500 viewers at once on stages of 50, auto-scaling off: exactly 50 on the
// master, the rest refused with STAGE_FULL. The stage made by hand gets none:
// nothing replicates the host into it, so it is seated only when named.
func TestConcurrentViewerTokensNeverOverfill(t *testing.T) {
	apitest.Twins(t, func(t *testing.T, presence apitest.PresenceFunc) {
		env := apitest.New(t, apitest.Options{Presence: presence})
		env.Must(t, 201, "POST", "/api/stage", map[string]string{"name": "second"})
		env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"})
		var wg sync.WaitGroup
		var mu sync.Mutex
		byStage := map[string]int{}
		statuses := map[int]int{}
		for i := 0; i < 500; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := env.Do(t, "POST", "/api/token/viewer", map[string]string{"userId": fmt.Sprint("v", i)})
				mu.Lock()
				defer mu.Unlock()
				statuses[r.Status]++
				if r.Status == 200 {
					var tok viewerToken
					r.Decode(t, &tok)
					byStage[tok.StageARN]++
				} else if r.Error.Code != "STAGE_FULL" {
					t.Errorf("status %d: %s", r.Status, r.Raw)
				}
			}()
		}
		wg.Wait()
		if statuses[200] != 50 || statuses[503] != 450 {
			t.Fatalf("statuses = %v, want 50×200 and 450×503", statuses)
		}
		if diff := cmp.Diff(map[string]int{env.Live.MasterARN(): 50}, byStage); diff != "" {
			t.Errorf("viewers by stage (-want +got):\n%s", diff)
		}
		var stats struct {
			TotalViewers int `json:"totalViewers"`
		}
		env.Must(t, 200, "GET", "/api/stats", nil).Decode(t, &stats)
		if stats.TotalViewers != 50 {
			t.Fatalf("stats total = %d, want 50", stats.TotalViewers)
		}
	})
}

// A silent viewer is closed as a timeout at its last-seen time by the next
// sweep after the deadline, and handed to the sink exactly once.
func TestSilentViewersExpire(t *testing.T) {
	apitest.Twins(t, func(t *testing.T, presence apitest.PresenceFunc) {
		clock := apitest.NewClock(time.Now().UTC().Truncate(time.Millisecond))
		env := apitest.New(t, apitest.Options{Presence: presence, Clock: clock})
		sweeper := &live.Sweeper{Service: env.Live, Timeout: 60 * time.Second, Interval: time.Second}
		env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"})
		var tok viewerToken
		env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "quiet"}).Decode(t, &tok)
		env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "chatty"})
		lastSeen := clock.Now()
		for i := 0; i < 3; i++ {
			clock.Add(30 * time.Second)
			env.Must(t, 200, "POST", "/api/viewer/heartbeat", map[string]string{"userId": "chatty", "stageArn": tok.StageARN})
			// Sweeps keep running each second; the quiet viewer stays until
			// its 60 s are up.
			if n := sweeper.Sweep(t.Context()); i < 1 && n != 0 {
				t.Fatalf("sweep at %v expired %d viewers too early", clock.Now().Sub(lastSeen), n)
			}
		}
		// 90 s after its last heartbeat the quiet viewer is gone.
		if _, err := env.Live.Presence.Session(t.Context(), tok.StageARN, "quiet"); err == nil {
			t.Fatal("silent viewer still live after timeout plus a sweep")
		}
		if _, err := env.Live.Presence.Session(t.Context(), tok.StageARN, "chatty"); err != nil {
			t.Fatalf("a viewer sending heartbeats was expired: %v", err)
		}
		sweeper.Sweep(t.Context())
		rec := env.Recorded(t)
		if len(rec) != 1 || rec[0].UserID != "quiet" || rec[0].Reason != "timeout" || !rec[0].LeftAt.Equal(lastSeen) {
			t.Fatalf("recorded %+v, want quiet closed as timeout at %v", rec, lastSeen)
		}
	})
}
