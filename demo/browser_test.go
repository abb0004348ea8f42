package demo_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/internal/browser"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/internal/whipfake"
	"github.com/ivslive/ivslive/internal/whiptest"
	"github.com/ivslive/ivslive/ivs/emulator"
	"github.com/ivslive/ivslive/live"
)

// The demo pages in headless Chromium, end to end: the real API (tokens,
// presence, headers and CSP) with whipfake answering WHIP on the same
// origin, at the path where the embedded emulator's stage endpoints point.
// /demo/publish publishes the fake camera with H.264 first; /demo/watch in
// another tab plays it (a picture, inbound bytes growing), is seated as a
// viewer, and leaves when the page goes; Stop deletes the WHIP session and
// ends the broadcast.
func TestDemoPublishAndWatch(t *testing.T) {
	ctx := browser.New(t)
	a := whipfake.New(t)
	front := httptest.NewUnstartedServer(nil)
	base := "http://" + front.Listener.Addr().String()
	env := apitest.New(t, apitest.Options{Emulator: emulator.Options{BaseURL: base + "/ivs"}})
	target, err := url.Parse(env.URL)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ivs/whip/", http.StripPrefix("/ivs", a.Handler()))
	var api apiLog
	mux.Handle("/", api.record(httputil.NewSingleHostReverseProxy(target)))
	front.Config.Handler = mux
	front.Start()
	t.Cleanup(front.Close)

	pubTab := browser.DemoStart(t, ctx, base, "publish", apitest.Key)
	browser.DemoLive(t, pubTab)
	pid := browser.Eval[string](t, pubTab, `document.querySelector("#participant").textContent`)
	if pub, err := env.Live.PublisherInfo(context.Background()); err != nil || pub.ParticipantID != pid {
		t.Fatalf("the server's publisher %+v (%v), the page's %q", pub, err, pid)
	}
	if codec := firstVideoCodec(a.Offers()[0]); !strings.EqualFold(codec, "H264") {
		t.Errorf("the page's offer puts %s first, want H264", codec)
	}

	watchTab := browser.DemoStart(t, ctx, base, "watch", apitest.ViewerKey)
	browser.DemoLive(t, watchTab)
	width := browser.DemoPlays(t, watchTab)
	t.Logf("the watch page plays a %d px wide picture", width)
	if n := viewers(t, env); n != 1 {
		t.Errorf("%d viewers seated, want the watch page's", n)
	}
	testenv.Eventually(t, 15*time.Second, "a heartbeat with the session token once playing", func() bool {
		return api.has("POST /api/viewer/heartbeat bearer 200")
	})

	// Leaving the page sends the leave and the DELETE (keepalive).
	if err := chromedp.Do(watchTab, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 15*time.Second, "the viewer leaves (with the session token) and the playback session ends", func() bool {
		return viewers(t, env) == 0 && a.Sessions() == 1 && api.has("POST /api/viewer/leave bearer 200")
	})
	if api.has("key in a URL") {
		t.Error("a request carried the key in its URL")
	}

	if err := chromedp.Do(pubTab, chromedp.Click(chromedp.CSS("#stop"))); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 15*time.Second, "Stop deletes the WHIP session and ends the broadcast", func() bool {
		_, err := env.Live.PublisherInfo(context.Background())
		return a.Sessions() == 0 && ivslive.ErrorCode(err) == ivslive.ENOTFOUND
	})
	if state, _ := browser.DemoState(t, pubTab); state != "stopped" {
		t.Errorf("publish page state %q after Stop", state)
	}
}

// Without a live publisher the watch page says so, from the viewer token's
// 404.
func TestDemoWatchWithoutPublisher(t *testing.T) {
	ctx := browser.New(t)
	env := apitest.New(t, apitest.Options{})
	tab := browser.DemoStart(t, ctx, env.URL, "watch", apitest.ViewerKey)
	if state, text := browser.DemoState(t, tab); state != "error" || !strings.Contains(text, "No publisher is live") {
		t.Errorf("state %q: %s", state, text)
	}
}

// apiLog records the API requests the pages make: method, path, how they
// authenticated (key or bearer) and the status.
type apiLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *apiLog) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := "none"
		switch {
		case r.Header.Get("X-Api-Key") != "":
			auth = "key"
		case strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "):
			auth = "bearer"
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, r.Method+" "+r.URL.Path+" "+auth+" "+strconv.Itoa(rec.status))
		if strings.Contains(r.URL.RawQuery, apitest.Key) || strings.Contains(r.URL.RawQuery, apitest.ViewerKey) {
			l.lines = append(l.lines, "key in a URL")
		}
	})
}

func (l *apiLog) has(line string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Contains(l.lines, line)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func viewers(t *testing.T, env *apitest.Env) int {
	st, err := env.Live.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.TotalViewers
}

// firstVideoCodec returns the codec of the first payload type of an SDP's
// video section.
func firstVideoCodec(sdp string) string {
	lines := strings.Split(sdp, "\r\n")
	for i, l := range lines {
		if f := strings.Fields(l); strings.HasPrefix(l, "m=video ") && len(f) > 3 {
			for _, r := range lines[i+1:] {
				if strings.HasPrefix(r, "m=") {
					break
				}
				if rest, ok := strings.CutPrefix(r, "a=rtpmap:"+f[3]+" "); ok {
					codec, _, _ := strings.Cut(rest, "/")
					return codec
				}
			}
		}
	}
	return ""
}

// Past the real-time seats (one seat, taken) /demo/watch gets mode
// playback and plays the channel's HLS with the vendored hls.js: Chromium
// has no native HLS. The host publishes real media (whiptest) to the
// emulator; the page's MediaSource buffers the composition's segments.
func TestDemoWatchPlaysHLS(t *testing.T) {
	ctx := browser.New(t)
	front := httptest.NewUnstartedServer(nil)
	base := "http://" + front.Listener.Addr().String()
	env := apitest.New(t, apitest.Options{Emulator: emulator.Options{BaseURL: base + "/ivs"},
		Live:     func(c *live.Config) { c.Capacity, c.Threshold = 1, 1 },
		Playback: func(p *live.Playback) {}})
	target, err := url.Parse(env.URL)
	if err != nil {
		t.Fatal(err)
	}
	var api apiLog
	front.Config.Handler = api.record(httputil.NewSingleHostReverseProxy(target))
	front.Start()
	t.Cleanup(front.Close)

	var tok struct{ Token, WhipEndpoint, ParticipantID string }
	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"}).Decode(t, &tok)
	pub, err := whiptest.NewPublisher(whiptest.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	if resp, err := pub.Connect(t.Context(), http.DefaultClient, tok.WhipEndpoint, tok.Token); err != nil || resp.Status != 201 {
		t.Fatalf("WHIP publish: %v %+v", err, resp)
	}
	env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "seated"})

	tab := browser.DemoStart(t, ctx, base, "watch", apitest.ViewerKey)
	browser.Until(t, tab, 30*time.Second, `(() => { const v = document.querySelector("#video"); return v.buffered.length > 0 && v.buffered.end(0) > 0 })()`,
		`"buffered " + document.querySelector("#video").buffered.length + "; " + document.querySelector("#status").textContent`)
	if !strings.Contains(browser.Eval[string](t, tab, `document.querySelector("#stage").textContent`), "HLS playback") {
		t.Error("the page does not say it plays the channel")
	}
	if st, err := env.Live.PlaybackStatus(t.Context()); err != nil || st.Viewers != 1 {
		t.Fatalf("playback viewers %+v %v", st, err)
	}
}
