package main

import (
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// Memory headroom of the garbage collector. Without a limit the heap may
// grow to twice what is live before a collection (GOGC=100), which at a
// million viewers is the difference between 0.6 and 1.2 GB. A soft limit
// sized for the largest audience the configuration can seat makes the
// collector work harder near it instead. RSS runs above the limit by the
// runtime's own memory and the idle heap not yet returned (933 MiB of RSS
// under a 900 MiB limit at a million viewers, docs/BENCHMARKS.md), so a
// million seats get 854 MiB: RSS stays under 1 GB, and the live heap (326 B
// per viewer, 507 B with a heartbeat budget per session) has 1.7× room.
const (
	memoryBase      = 320 << 20 // the server without viewers, with room for bursts
	memoryPerViewer = 560       // presence, heartbeat budget and garbage headroom per seated viewer
)

// memoryLimit is the GOMEMLIMIT derived from the configuration: a base plus
// memoryPerViewer for each viewer the pool can seat (MAX_STAGES ×
// MAX_VIEWERS_PER_STAGE, at most MAX_CONCURRENT_SUBSCRIPTIONS), and never
// more than 90% of the container's memory limit (cgroup v2), if any.
//
// With PLAYBACK_ENABLED the audience past the seats has no bound in the
// configuration: a limit sized for the seats alone would make the collector
// run without pause once the playback viewers outgrow it (at a million
// viewers, 850,000 of them past 150,000 seats). Only the container's limit
// applies then; 0 means none.
func memoryLimit(c Config, cgroupMax int64) int64 {
	seats := min(int64(c.MaxStages)*int64(c.MaxViewersPerStage), int64(c.MaxSubscriptions))
	limit := memoryBase + seats*memoryPerViewer
	if c.PlaybackEnabled {
		limit = 0
	}
	if cgroupMax > 0 && (limit == 0 || limit > cgroupMax/10*9) {
		limit = cgroupMax / 10 * 9
	}
	return limit
}

// setMemoryLimit applies memoryLimit unless GOMEMLIMIT is set (the runtime
// already applied it), and logs the limit in force.
func setMemoryLimit(cfg Config, log *slog.Logger) {
	if v := os.Getenv("GOMEMLIMIT"); v != "" {
		log.Info("memory limit from GOMEMLIMIT", "limit", v)
		return
	}
	limit := memoryLimit(cfg, cgroupMemoryMax())
	if limit == 0 {
		log.Info("no memory limit: the playback audience (PLAYBACK_ENABLED) is unbounded and no container limit was found (set GOMEMLIMIT to set one)")
		return
	}
	debug.SetMemoryLimit(limit)
	log.Info("memory limit derived from the configuration (set GOMEMLIMIT to override)", "limitMiB", limit>>20)
}

// cgroupMemoryMax reads the container's memory limit (0: none or unknown).
func cgroupMemoryMax() int64 {
	b, err := os.ReadFile("/sys/fs/cgroup/memory.max")
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil { // "max"
		return 0
	}
	return n
}
