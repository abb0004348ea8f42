package main

import "testing"

// The derived GOMEMLIMIT follows the audience the configuration can seat
// and stays under the container's limit.
func TestMemoryLimitFollowsTheAudience(t *testing.T) {
	small := Config{MaxStages: 20, MaxViewersPerStage: 10000, MaxSubscriptions: 20000}
	million := Config{MaxStages: 100, MaxViewersPerStage: 10000, MaxSubscriptions: 1_000_000}
	if got, want := memoryLimit(small, 0), int64(memoryBase+20000*memoryPerViewer); got != want {
		t.Errorf("default configuration: %d, want %d (seats capped by the subscriptions quota)", got, want)
	}
	// RSS runs ~35 MiB above the limit (933 MiB under 900 MiB at 1M): the
	// limit leaves that room under 1 GB, and 1.5× the live heap (507 B
	// per viewer with a heartbeat budget).
	if got := memoryLimit(million, 0); got > 900<<20 || got < 1_000_000*507*3/2 {
		t.Errorf("a million seats: %d MiB, want RSS under 1 GB and room for the live heap", got>>20)
	}
	if got := memoryLimit(million, 512<<20); got != 512<<20/10*9 {
		t.Errorf("in a 512 MiB container: %d, want 90%% of it", got)
	}
	playback := million
	playback.PlaybackEnabled = true
	if got := memoryLimit(playback, 0); got != 0 {
		t.Errorf("with playback and no container limit: %d, want none (the playback audience is unbounded)", got)
	}
	if got := memoryLimit(playback, 4<<30); got != 4<<30/10*9 {
		t.Errorf("with playback in a 4 GiB container: %d, want 90%% of it", got)
	}
}
