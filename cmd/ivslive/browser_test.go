package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ivslive/ivslive/internal/browser"
)

// The dashboard, in headless Chromium against an embedded-mode server:
// sign in, then viewers join through the API and the page shows the new
// count within 2 s. The screenshot is saved as a test artifact.
func TestDashboardShowsLiveCount(t *testing.T) {
	pkgDir, err := os.Getwd() // before Chdir: artifacts go to the repository
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	s := start(t, map[string]string{"API_PORT": "0", "API_SECRET_KEY": testKey})
	defer s.stop()
	s.key = testKey

	ctx, step := signedIn(t, s.url)
	err = chromedp.Do(step, chromedp.WaitVisible(chromedp.CSS(`#total-viewers[data-value="0"]`)))
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	call(t, s, "POST", "/api/token/publisher", `{"userId":"host"}`)
	for i := 0; i < 3; i++ {
		if status, _ := call(t, s, "POST", "/api/token/viewer", fmt.Sprintf(`{"userId":"viewer-%d"}`, i)); status != 200 {
			t.Fatalf("join: %d", status)
		}
	}
	joined := time.Now()
	wait, wcancel := context.WithTimeout(ctx, 2*time.Second)
	defer wcancel()
	if err := chromedp.Do(wait, chromedp.WaitVisible(chromedp.CSS(`#total-viewers[data-value="3"]`))); err != nil {
		shown, _ := chromedp.Run(step, chromedp.AttributeValue(chromedp.CSS("#total-viewers"), "data-value"))
		t.Fatalf("the page shows %q viewers 2 s after 3 joined: %v", shown.Value, err)
	}
	t.Logf("the dashboard showed the new count %v after the last join", time.Since(joined))
	stageCount, err := chromedp.Run(step, chromedp.Text(chromedp.CSS(`#stages tbody tr td.stage-viewers .count`)))
	if err != nil {
		t.Fatal(err)
	}
	publisher, err := chromedp.Run(step, chromedp.AttributeValue(chromedp.CSS("#publisher-status"), "data-state"))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := strconv.Atoi(stageCount); n != 3 || publisher.Value != "live" {
		t.Fatalf("stage row shows %q viewers, publisher %q; want 3 and live", stageCount, publisher.Value)
	}
	chromedp.Do(step, chromedp.Sleep(300*time.Millisecond)) // let the chart's next frame draw
	shot, err := chromedp.Run(step, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("IVSLIVE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(pkgDir, "..", "..", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "dashboard.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// signedIn opens the dashboard at url in headless Chromium and signs in
// with testKey; it returns the browser's context and one for the test's
// steps, both ended at cleanup.
func signedIn(t *testing.T, url string) (ctx, step context.Context) {
	t.Helper()
	ctx = browser.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/dashboard/")); err != nil {
		t.Fatalf("open the dashboard: %v", err)
	}
	step, cancel := context.WithTimeout(ctx, 30*time.Second)
	t.Cleanup(cancel)
	err := chromedp.Do(step,
		chromedp.WaitVisible(chromedp.CSS("#api-key")),
		chromedp.SendKeys(chromedp.CSS("#api-key"), testKey),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#conn-state[data-state="live"]`)),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	return ctx, step
}

// The dashboard shows the webhook targets' health: a target that answers
// 500 shows as failing with its error and its queue.
func TestDashboardShowsWebhookHealth(t *testing.T) {
	t.Chdir(t.TempDir())
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
	defer rx.Close()
	s := start(t, map[string]string{"API_PORT": "0", "API_SECRET_KEY": testKey, "WEBHOOK_URLS": rx.URL + "/hooks",
		"WEBHOOK_SECRET": "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("d", 32))), "WEBHOOK_ALLOW_PRIVATE": "true"})
	defer s.stop()
	s.key = testKey
	call(t, s, "POST", "/api/token/publisher", `{"userId":"host"}`)
	_, step := signedIn(t, s.url)
	row := `#webhooks tbody tr[data-status="failing"]`
	if err := chromedp.Do(step, chromedp.WaitVisible(chromedp.CSS(row))); err != nil {
		t.Fatalf("no failing webhook target shown: %v", err)
	}
	text, err := chromedp.Run(step, chromedp.Text(chromedp.CSS(row)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "answered 500") || !strings.Contains(text, "never") {
		t.Errorf("the target's row reads %q, want its error and no delivery yet", text)
	}
}

// The demo pages against the server as users run it (embedded mode):
// /demo/publish loads, gets a publisher token with the admin key and POSTs
// its offer to the stage's WHIP URL on the embedded emulator; /demo/watch,
// in another tab, plays the publisher (a picture, and inbound bytes that
// keep growing).
func TestDemoPagesEmbedded(t *testing.T) {
	t.Chdir(t.TempDir())
	s := start(t, map[string]string{"API_PORT": "0", "API_SECRET_KEY": testKey})
	defer s.stop()
	ctx := browser.New(t)

	pub := browser.DemoStart(t, ctx, s.url, "publish", testKey)
	state, text := browser.DemoState(t, pub)
	participant := browser.Eval[string](t, pub, `document.querySelector("#participant").textContent`)
	whipURL := browser.Eval[string](t, pub, `document.querySelector("#whip-url").textContent`)
	if len(participant) < 8 || !strings.HasPrefix(whipURL, s.url+"/ivs/whip/") {
		t.Fatalf("the page shows participant %q and WHIP URL %q: no publisher token? (%s: %s)", participant, whipURL, state, text)
	}
	browser.DemoLive(t, pub)
	watch := browser.DemoStart(t, ctx, s.url, "watch", testKey)
	browser.DemoLive(t, watch)
	t.Logf("the watch page plays a %d px wide picture", browser.DemoPlays(t, watch))
}
