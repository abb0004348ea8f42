package browser

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// statusText describes a demo page's state for failure messages.
const statusText = `document.querySelector("#status").dataset.state + ": " + document.querySelector("#status").textContent`

// DemoStart opens a demo page ("publish" or "watch") under base in a new
// tab, enters the key and starts; it returns the tab once the page has left
// its first steps (token, camera, offer): its state is then "connecting",
// "live" or "error", which the caller reads with DemoState.
func DemoStart(t testing.TB, ctx context.Context, base, page, key string) context.Context {
	t.Helper()
	tab := Tab(t, ctx, base+"/demo/"+page)
	step, stop := context.WithTimeout(tab, 30*time.Second)
	defer stop()
	err := chromedp.Do(step,
		chromedp.WaitVisible(chromedp.CSS("#api-key")),
		chromedp.SetValue(chromedp.CSS("#api-key"), key),
		chromedp.Click(chromedp.CSS("#start")),
	)
	if err != nil {
		t.Fatalf("start %s: %v", page, err)
	}
	Until(t, tab, 60*time.Second, `["connecting", "live", "error"].includes(document.querySelector("#status").dataset.state)`, statusText)
	return tab
}

// DemoState returns a demo page's state and its text.
func DemoState(t testing.TB, tab context.Context) (state, text string) {
	t.Helper()
	return Eval[string](t, tab, `document.querySelector("#status").dataset.state`), Eval[string](t, tab, `document.querySelector("#status").textContent`)
}

// DemoLive waits until a demo page says it is live.
func DemoLive(t testing.TB, tab context.Context) {
	t.Helper()
	Until(t, tab, 15*time.Second, `document.querySelector("#status").dataset.state === "live"`, statusText)
}

// DemoPlays waits until /demo/watch shows a picture (videoWidth > 0) and
// the inbound video bytes of getStats grow, and returns the picture's
// width.
func DemoPlays(t testing.TB, tab context.Context) int {
	t.Helper()
	Until(t, tab, 15*time.Second, `document.querySelector("#video").videoWidth > 0 && Number(document.querySelector("#received").dataset.value) > 0`,
		`"video " + document.querySelector("#video").videoWidth + " wide, " + document.querySelector("#received").dataset.value + " bytes; " + `+statusText)
	first := Eval[string](t, tab, `document.querySelector("#received").dataset.value`)
	Until(t, tab, 10*time.Second, `Number(document.querySelector("#received").dataset.value) > `+strconv.Quote(first),
		`"inbound video bytes stuck at " + document.querySelector("#received").dataset.value`)
	return Eval[int](t, tab, `document.querySelector("#video").videoWidth`)
}
