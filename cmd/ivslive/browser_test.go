package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ivslive/ivslive/internal/testenv"
)

// chromium finds Debian's Chromium, or skips loudly (fails in CI).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Unavailable(t, "Chromium", fmt.Errorf("not on PATH (apt-get install chromium)"))
	return ""
}

// The dashboard, in headless Chromium against an embedded-mode server:
// sign in, then viewers join through the API and the page shows the new
// count within 2 s. The screenshot is saved as a test artifact.
func TestDashboardShowsLiveCount(t *testing.T) {
	exe := chromium(t)
	pkgDir, err := os.Getwd() // before Chdir: artifacts go to the repository
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	s := start(t, map[string]string{"API_PORT": "0", "API_SECRET_KEY": testKey})
	defer s.stop()
	s.key = testKey

	ctx, step := signedIn(t, exe, s.url)
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
func signedIn(t *testing.T, exe, url string) (browser, step context.Context) {
	t.Helper()
	// Chromium's helpers may still write in their profile for a moment after
	// the browser stops: remove it best effort, not with t.TempDir.
	profile, err := os.MkdirTemp("", "ivslive-chromium")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(profile) })
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.WindowSize(1366, 900),
		chromedp.UserDataDir(profile))...)
	t.Cleanup(cancel)
	browser, cancel = chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	// The first action starts the browser, which lives as long as its
	// context: no timeout there; later steps get their own.
	if err := chromedp.Do(browser, chromedp.Navigate(url+"/dashboard/")); err != nil {
		t.Fatalf("open the dashboard: %v", err)
	}
	step, cancel = context.WithTimeout(browser, 30*time.Second)
	t.Cleanup(cancel)
	err = chromedp.Do(step,
		chromedp.WaitVisible(chromedp.CSS("#api-key")),
		chromedp.SendKeys(chromedp.CSS("#api-key"), testKey),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#conn-state[data-state="live"]`)),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	return browser, step
}

// The dashboard shows the webhook targets' health: a target that answers
// 500 shows as failing with its error and its queue.
func TestDashboardShowsWebhookHealth(t *testing.T) {
	exe := chromium(t)
	t.Chdir(t.TempDir())
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
	defer rx.Close()
	s := start(t, map[string]string{"API_PORT": "0", "API_SECRET_KEY": testKey, "WEBHOOK_URLS": rx.URL + "/hooks",
		"WEBHOOK_SECRET": "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("d", 32))), "WEBHOOK_ALLOW_PRIVATE": "true"})
	defer s.stop()
	s.key = testKey
	call(t, s, "POST", "/api/token/publisher", `{"userId":"host"}`)
	_, step := signedIn(t, exe, s.url)
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
