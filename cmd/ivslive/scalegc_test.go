package main

import (
	"testing"
	"time"
)

// The collections of a 5 s window are the difference between the heap
// readings around its end; the Redis figures come from INFO's fields.
func TestScaleReportGCAndRedisInfo(t *testing.T) {
	t0 := time.Unix(1000, 0)
	samples := []memSample{
		{at: t0, heap: 1, gcs: 10, gcPause: 0.010},
		{at: t0.Add(time.Second)}, // RSS only
		{at: t0.Add(5 * time.Second), heap: 1, gcs: 13, gcPause: 0.0145},
		{at: t0.Add(10 * time.Second), heap: 1, gcs: 13, gcPause: 0.0145},
	}
	if got, want := gcIn(samples, t0.Add(4*time.Second)), "gc 3 (4.5 ms)"; got != want {
		t.Errorf("gcIn = %q, want %q", got, want)
	}
	if got := gcIn(samples, t0.Add(9*time.Second)); got != "" {
		t.Errorf("gcIn without collections = %q, want none", got)
	}
	if got := gcIn(samples, t0.Add(time.Minute)); got != "" {
		t.Errorf("gcIn past the samples = %q, want none", got)
	}
	info := "# Memory\r\nused_memory:2586776\r\nused_memory_human:2.47M\r\n"
	if n := infoField(info, "used_memory"); n != 2586776 {
		t.Errorf("used_memory = %d", n)
	}
}
