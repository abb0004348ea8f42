package http_test

import (
	"testing"
	"time"

	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/live"
)

// A long show: a viewer who keeps heartbeating with its session token stays
// counted past its 1 h IVS token, as IVS keeps the subscription (it checks
// the token's exp only at join) for up to 24 h. The clock is fake; the
// sweeper runs after every step, as on the leader.
func TestViewerStaysPastTheIVSToken(t *testing.T) {
	clock := apitest.NewClock(time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC))
	env := apitest.New(t, apitest.Options{Clock: clock, Live: func(c *live.Config) { c.ViewerTokenTTL = time.Hour }})
	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"})
	var v struct {
		SessionToken string    `json:"sessionToken"`
		StageARN     string    `json:"stageArn"`
		ExpiresAt    time.Time `json:"expiresAt"`
	}
	env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "night-owl"}, "X-Api-Key", apitest.ViewerKey).Decode(t, &v)
	if want := clock.Now().Add(time.Hour); !v.ExpiresAt.Equal(want) {
		t.Fatalf("IVS token expires at %v, want %v", v.ExpiresAt, want)
	}
	bearer := []string{"X-Api-Key", "", "Authorization", "Bearer " + v.SessionToken}
	sweeper := &live.Sweeper{Service: env.Live, Timeout: time.Minute}
	count := func() int {
		st, err := env.Live.Stats(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return st.TotalViewers
	}

	for elapsed := time.Duration(0); elapsed < 3*time.Hour; elapsed += 30 * time.Second {
		clock.Add(30 * time.Second)
		if r := env.Do(t, "POST", "/api/viewer/heartbeat", map[string]string{}, bearer...); r.Status != 200 {
			t.Fatalf("heartbeat %v after the IVS token was issued: %d %s", elapsed+30*time.Second, r.Status, r.Raw)
		}
		sweeper.Sweep(t.Context())
		if n := count(); n != 1 {
			t.Fatalf("%v in, the viewer is not counted (%d viewers)", elapsed+30*time.Second, n)
		}
	}
	d, active, err := env.Live.WatchDuration(t.Context(), "night-owl", v.StageARN)
	if err != nil || !active || d != 3*time.Hour {
		t.Fatalf("watch duration %v (active %v, %v), want 3 h in one session", d, active, err)
	}

	// No subscription outlives IVS's 24 h, and neither does the token.
	clock.Add(ivshttp.SessionTokenLifetime - 3*time.Hour)
	env.Must(t, 401, "POST", "/api/viewer/heartbeat", map[string]string{}, bearer...)
}
