// Package browser drives Debian's headless Chromium in tests (the dashboard,
// the demo pages), with a fake camera and microphone and no permission
// prompts.
package browser

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ivslive/ivslive/internal/testenv"
)

// New starts headless Chromium and returns the context of its first tab;
// the browser stops at the test's cleanup. Without Chromium the test is
// skipped loudly (failed where services are required, as in CI).
func New(t testing.TB) context.Context {
	t.Helper()
	exe := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			exe = p
			break
		}
	}
	if exe == "" {
		testenv.Unavailable(t, "Chromium", fmt.Errorf("not on PATH (apt-get install chromium)"))
	}
	// Chromium's helpers may still write in their profile for a moment after
	// the browser stops: remove it best effort, not with t.TempDir.
	profile, err := os.MkdirTemp("", "ivslive-chromium")
	if err != nil {
		t.Fatal(err)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("use-fake-device-for-media-stream", true), chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.WindowSize(1366, 900), chromedp.UserDataDir(profile))...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		os.RemoveAll(profile)
	})
	// The first action starts the browser, which lives as long as its
	// context: no timeout there.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// Tab opens a new tab in the browser of ctx; it closes at cleanup.
func Tab(t testing.TB, ctx context.Context, url string) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	// As with the browser, the first action opens the tab for the life of
	// its context: no timeout there either.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	step, stop := context.WithTimeout(tab, 30*time.Second)
	defer stop()
	if err := chromedp.Do(step, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	return tab
}

// Eval evaluates a JavaScript expression in a tab, within 10 s.
func Eval[T any](t testing.TB, tab context.Context, expr string) T {
	t.Helper()
	step, stop := context.WithTimeout(tab, 10*time.Second)
	defer stop()
	v, err := chromedp.Run(step, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// Until evaluates a boolean JavaScript expression until it holds, failing
// the test after within with what describe (another expression) says.
func Until(t testing.TB, tab context.Context, within time.Duration, expr, describe string) {
	t.Helper()
	step, stop := context.WithTimeout(tab, within+5*time.Second)
	defer stop()
	_, err := chromedp.Run(step, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(within), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		t.Fatalf("waiting %v for %s: %v; the page shows: %s", within, expr, err, Eval[string](t, tab, describe))
	}
}
