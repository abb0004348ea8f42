package loadtest

import (
	"errors"
	"net"
	"net/url"
	"syscall"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var lat []time.Duration
	for i := 100; i >= 1; i-- { // 100 ms … 1 ms, unsorted
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	got := latencyOf(lat)
	if want := (Latency{P50: 50, P90: 90, P99: 99, Max: 100}); got != want {
		t.Errorf("latencyOf = %+v, want %+v", got, want)
	}
	if got := latencyOf([]time.Duration{7 * time.Millisecond}); got != (Latency{7, 7, 7, 7}) {
		t.Errorf("one sample: %+v", got)
	}
	if got := latencyOf(nil); got != (Latency{}) {
		t.Errorf("no sample: %+v", got)
	}
}

// TestModelWindow drives the model by hand: the band over a window holds
// every value the model took in it, in-flight requests included, and
// nothing from before it.
func TestModelWindow(t *testing.T) {
	var viewers []*viewer
	m := newModel(10*time.Second, func(now time.Duration) (int, time.Duration) {
		stale := 0
		for _, v := range viewers {
			v.silent = !v.left.Load() && time.Duration(v.lastAck.Load())+time.Minute <= now
			if v.silent {
				stale++
			}
		}
		return stale, now // scan at every tick
	})
	m.setBaseline(3)
	ms := time.Millisecond
	m.tick(100 * ms)
	for range 5 {
		m.joinSent()
	}
	if lo, hi := m.window(0); lo != 3 || hi != 8 {
		t.Errorf("joins in flight: band %d..%d, want 3..8", lo, hi)
	}
	for i := range 5 {
		ok := i != 4 // one join is refused
		m.joinDone(ok)
		if ok {
			v := &viewer{}
			v.lastAck.Store(int64(150 * ms))
			viewers = append(viewers, v)
		}
	}
	m.tick(200 * ms)
	if got := m.value(); got != 7 {
		t.Errorf("value = %d, want 7", got)
	}
	if lo, hi := m.window(150 * ms); lo != 3 || hi != 8 {
		t.Errorf("window over the joins: %d..%d, want 3..8", lo, hi)
	}
	m.tick(300 * ms)
	if lo, hi := m.window(250 * ms); lo != 7 || hi != 7 {
		t.Errorf("window after the joins: %d..%d, want 7..7", lo, hi)
	}
	m.leaveSent()
	if lo, hi := m.window(250 * ms); lo != 6 || hi != 7 {
		t.Errorf("leave in flight: %d..%d, want 6..7", lo, hi)
	}
	m.leaveDone(viewers[0], true)
	m.tick(400 * ms)
	// The others go silent: a minute after their last acknowledgement they
	// are gone, and a leave of one of them is not counted twice.
	m.tick(time.Minute + 150*ms)
	if got := m.value(); got != 3 {
		t.Errorf("after the timeout value = %d, want the baseline 3", got)
	}
	m.leaveSent()
	m.leaveDone(viewers[1], true)
	m.tick(time.Minute + 200*ms)
	if got := m.value(); got != 3 {
		t.Errorf("leave of a silent viewer: value = %d, want 3", got)
	}
	if lo, hi := m.window(time.Minute + 160*ms); lo != 2 || hi != 3 {
		t.Errorf("window over the silent leave: %d..%d, want 2..3", lo, hi)
	}
}

func TestSampleDeviation(t *testing.T) {
	for _, c := range []struct {
		s    Sample
		want int
	}{{Sample{Server: 5, ModelMin: 5, ModelMax: 5}, 0}, {Sample{Server: 3, ModelMin: 5, ModelMax: 9}, 2},
		{Sample{Server: 12, ModelMin: 5, ModelMax: 9}, 3}, {Sample{Server: 7, ModelMin: 5, ModelMax: 9}, 0}} {
		if got := c.s.Deviation(); got != c.want {
			t.Errorf("%+v: deviation %d, want %d", c.s, got, c.want)
		}
	}
}

func TestErrorTextGroups(t *testing.T) {
	mk := func(port string) error {
		return &url.Error{Op: "Post", URL: "http://127.0.0.1:" + port + "/api/viewer/heartbeat", Err: &net.OpError{Op: "read", Net: "tcp",
			Source: &net.TCPAddr{Port: 50000}, Err: syscall.ECONNRESET}}
	}
	a, b := errorText(mk("1")), errorText(mk("2"))
	if a != b || a != "read: "+syscall.ECONNRESET.Error() {
		t.Errorf("errorText = %q and %q", a, b)
	}
	if got := errorText(errors.New("x")); got != "x" {
		t.Errorf("errorText = %q", got)
	}
}

func TestJitter(t *testing.T) {
	lo, hi := time.Hour, time.Duration(0)
	for range 10000 {
		d := jitter(time.Second)
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo < 900*time.Millisecond || hi > 1100*time.Millisecond || lo > 910*time.Millisecond || hi < 1090*time.Millisecond {
		t.Errorf("jitter of 1 s spans %s..%s, want 900ms..1.1s", lo, hi)
	}
}
