package loadtest

import (
	"testing"
	"time"
)

// TestSilentViewers: a SilentRatio of the viewers, spread over the join
// order, stop heartbeating at SilentAt; the others keep their schedule.
func TestSilentViewers(t *testing.T) {
	e := &engine{o: Options{SilentRatio: 0.25}}
	n := 0
	for i := range 1000 {
		if e.goesSilent(i) {
			n++
			if i%4 != 3 {
				t.Errorf("viewer %d goes silent; want every fourth", i)
			}
		}
	}
	if n != 250 {
		t.Errorf("%d of 1000 go silent, want 250", n)
	}

	s := newSchedule()
	quiet, loud := &viewer{quietAt: 9500 * time.Millisecond}, &viewer{}
	// Due at 9 s, before silent-at: sent; its next one (9.9–10.1 s) is
	// past silent-at: dropped.
	s.push(9*time.Second, quiet)
	s.push(9*time.Second, loud)
	due, _ := s.popDue(nil, 9*time.Second, time.Second, time.Minute, 10)
	if len(due) != 2 {
		t.Fatalf("before silent-at: %d due, want both", len(due))
	}
	var sent []*viewer
	for now := 10 * time.Second; now < 20*time.Second; now += 100 * time.Millisecond {
		sent, _ = s.popDue(sent, now, time.Second, time.Minute, 10)
	}
	for _, v := range sent {
		if v == quiet {
			t.Fatal("a heartbeat was sent after silent-at")
		}
	}
	if len(sent) < 8 {
		t.Errorf("the other viewer sent %d heartbeats in 10 s, want about 10", len(sent))
	}
}
