package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ivslive/ivslive/loadtest"
	"github.com/ivslive/ivslive/token"
	"github.com/ivslive/ivslive/whip"
)

// serverEvent is background work the server logged with its duration: a
// checkpoint (with the snapshot before it), an expiry sweep, the final
// checkpoint at shutdown, the restore at start.
type serverEvent struct {
	kind string
	at   time.Time // when it ended
	took time.Duration
	n    int64 // rows written, viewers expired or sessions restored
	err  string
}

// span is when the work ran.
func (e serverEvent) span() loadtest.Span { return loadtest.Span{From: e.at.Add(-e.took), To: e.at} }

// serverEvents maps the log messages the harness follows to their kind and
// the attribute that counts their work.
var serverEvents = map[string][2]string{
	"checkpoint written":                             {"checkpoint", "rows"},
	"expired silent viewers":                         {"expiry", "count"},
	"checkpointed live sessions for the next start":  {"final checkpoint", "written"},
	"could not checkpoint live sessions at shutdown": {"final checkpoint", ""},
	"restored live sessions from the checkpoint":     {"restore", "restored"},
	"scale up: created a stage":                      {"stage added", "viewers"},
	"replication started":                            {"replication started", ""},
}

// parseServerEvent reads one line of the server's text log (log/slog's
// key=value format) and returns the work it reports, if any.
func parseServerEvent(line string) (serverEvent, bool) {
	attrs := logAttrs(line)
	k, ok := serverEvents[attrs["msg"]]
	if !ok {
		return serverEvent{}, false
	}
	at, err := time.Parse(time.RFC3339Nano, attrs["time"])
	if err != nil {
		return serverEvent{}, false
	}
	ev := serverEvent{kind: k[0], at: at, err: attrs["err"]}
	ev.took, _ = time.ParseDuration(attrs["took"])
	if d, err := time.ParseDuration(attrs["snapshotTook"]); err == nil {
		ev.took += d
	}
	if k[1] != "" {
		ev.n, _ = strconv.ParseInt(attrs[k[1]], 10, 64)
	}
	return ev, true
}

// logAttrs splits a slog text line into its attributes; quoted values are
// unquoted.
func logAttrs(line string) map[string]string {
	out := map[string]string{}
	for line != "" {
		line = strings.TrimLeft(line, " ")
		eq := strings.IndexByte(line, '=')
		if eq < 0 {
			break
		}
		key, rest := line[:eq], line[eq+1:]
		var val string
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				break
			}
			val, _ = strconv.Unquote(q)
			rest = rest[len(q):]
		} else if sp := strings.IndexByte(rest, ' '); sp >= 0 {
			val, rest = rest[:sp], rest[sp:]
		} else {
			val, rest = rest, ""
		}
		out[key] = val
		line = rest
	}
	return out
}

// streamPublisher takes the publisher token of a server and publishes the
// built-in test pattern to its WHIP URL until ctx ends, as `ivslive
// publish` does: the host's media is what the scaler replicates into new
// stages, and only stages that carry it seat viewers.
func streamPublisher(ctx context.Context, server, key string) (*whip.Publisher, error) {
	tok, _, err := publisherToken(ctx, server, key, "loadtest-publisher")
	if err != nil {
		return nil, err
	}
	claims, err := token.Inspect(tok)
	if err != nil {
		return nil, fmt.Errorf("loadtest: the publisher token: %w", err)
	}
	if claims.WHIPURL == "" {
		return nil, errors.New("loadtest: the publisher token has no whip_url: --stream needs embedded mode")
	}
	clip, err := whip.TestPattern()
	if err != nil {
		return nil, err
	}
	return whip.Publish(ctx, claims.WHIPURL, tok, clip, whip.Options{})
}

// loadAverage is the 1-minute load average (0 when unknown).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b) + " 0")[0], 64)
	return f
}

// report writes what the server did during the run and the restart: memory
// over time, heartbeat latency window by window with the background work
// marked, the latency during that work and without it, and the restart.
func (s *scaleServer) report(w io.Writer, r *loadtest.Report, rs restartResult) {
	s.mu.Lock()
	samples := s.samples
	s.mu.Unlock()
	s.logMu.Lock()
	events := s.events
	s.logMu.Unlock()
	runEnd := r.End

	var work []loadtest.Span
	byKind := map[string][]loadtest.Span{}
	fmt.Fprintln(w, "\nserver background work during the run (seconds from the start):")
	for _, ev := range events {
		if ev.at.After(runEnd) {
			continue
		}
		fmt.Fprintf(w, "  +%.0fs %s: %d, took %s\n", ev.at.Sub(r.Start).Seconds(), ev.kind, ev.n, ev.took.Round(time.Millisecond))
		if ev.kind == "checkpoint" || ev.kind == "expiry" {
			work = append(work, ev.span())
			byKind[ev.kind] = append(byKind[ev.kind], ev.span())
		}
	}

	fmt.Fprintln(w, "\nheartbeats every 5 s (from the send time; * a checkpoint or expiry ran in the window; gc: the server's collections read in the next 5 s, and their stop-the-world time):")
	for _, win := range r.HeartbeatSeries {
		from := r.Start.Add(time.Duration(win.At * float64(time.Second)))
		mark := ""
		for _, sp := range work {
			if sp.From.Before(from.Add(5*time.Second)) && sp.To.After(from) {
				mark = " *"
				break
			}
		}
		fmt.Fprintf(w, "  +%4.0fs %7d heartbeats  p50 %7.2f ms  p99 %8.2f ms  %s%s\n", win.At, win.Count, win.P50, win.P99,
			gcIn(samples, from.Add(5*time.Second)), mark)
	}
	split := r.HeartbeatSplit(work)
	fmt.Fprintf(w, "heartbeat after the warmup, without background work: p50 %.2f ms, p99 %.2f ms (%d)\n",
		split.Outside.P50, split.Outside.P99, split.OutsideCount)
	fmt.Fprintf(w, "heartbeat after the warmup, in windows with background work: p50 %.2f ms, p99 %.2f ms (%d, %d windows)",
		split.During.P50, split.During.P99, split.DuringCount, split.DuringWindows)
	if split.Outside.P99 > 0 && split.DuringCount > 0 {
		fmt.Fprintf(w, ": %.2f× the p99 without", split.During.P99/split.Outside.P99)
	}
	fmt.Fprintln(w)
	for _, k := range [][2]string{{"checkpoint", "a checkpoint"}, {"expiry", "an expiry sweep"}} {
		// A window may hold both kinds: each line counts it.
		if d := r.HeartbeatSplit(byKind[k[0]]); d.DuringCount > 0 && split.Outside.P99 > 0 {
			fmt.Fprintf(w, "  in windows with %s: p50 %.2f ms, p99 %.2f ms (%d, %d windows): %.2f× the p99 without\n",
				k[1], d.During.P50, d.During.P99, d.DuringCount, d.DuringWindows, d.During.P99/split.Outside.P99)
		}
	}

	s.writeMemory(w, samples, runEnd, rs.before.Total)

	fmt.Fprintf(w, "\ngraceful restart: %d live before SIGTERM (%d real-time on %d stages, %d playback), stopped in %s",
		rs.before.Total, rs.before.Realtime, rs.before.Stages, rs.before.Playback, rs.stopped.Round(time.Millisecond))
	for _, ev := range events {
		if ev.kind == "final checkpoint" {
			if ev.err != "" {
				fmt.Fprintf(w, " (final checkpoint FAILED after %s: %s)", ev.took.Round(time.Millisecond), ev.err)
			} else {
				fmt.Fprintf(w, " (final checkpoint: %d rows in %s)", ev.n, ev.took.Round(time.Millisecond))
			}
		}
	}
	fmt.Fprintf(w, ", listening again %s later", rs.listening.Round(time.Millisecond))
	for _, ev := range events {
		if ev.kind == "restore" && ev.at.After(runEnd) {
			fmt.Fprintf(w, " (restore: %d sessions in %s)", ev.n, ev.took.Round(time.Millisecond))
		}
	}
	fmt.Fprintf(w, " with %d live (%d real-time, %d playback)\n", rs.after.Total, rs.after.Realtime, rs.after.Playback)
	fmt.Fprint(w, rs.redis)
}

// gcIn describes the collections between the heap reading before at and
// the first one from at on (about 5 s apart), "" when there are none.
func gcIn(samples []memSample, at time.Time) string {
	var prev *memSample
	for i := range samples {
		m := &samples[i]
		if m.heap == 0 {
			continue
		}
		if !m.at.Before(at) {
			if prev == nil || m.gcs <= prev.gcs {
				return ""
			}
			return fmt.Sprintf("gc %d (%.1f ms)", m.gcs-prev.gcs, (m.gcPause-prev.gcPause)*1000)
		}
		prev = m
	}
	return ""
}

// writeMemory writes the resident size every 10 s, its peak, the Go heap
// and the cost per viewer, and the machine's load.
func (s *scaleServer) writeMemory(w io.Writer, samples []memSample, runEnd time.Time, live int) {
	if len(samples) == 0 {
		fmt.Fprintln(w, "\nmemory: no sample of the server's resident size (not Linux?)")
		return
	}
	var peak, rssEnd, heapEnd int64
	var lastHeap []int64
	var loadMax, loadSum float64
	n := 0
	fmt.Fprint(w, "\nRSS MiB every 10 s:")
	for i, m := range samples {
		if m.at.After(runEnd) {
			break
		}
		peak = max(peak, m.rss)
		rssEnd = m.rss
		loadMax, loadSum, n = max(loadMax, m.load), loadSum+m.load, n+1
		if m.heap > 0 {
			heapEnd = m.heap
			if runEnd.Sub(m.at) < time.Minute {
				lastHeap = append(lastHeap, m.heap)
			}
		}
		if i%10 == 0 {
			fmt.Fprintf(w, " %d", m.rss>>20)
		}
	}
	fmt.Fprintf(w, "\nRSS: %d MiB at start, peak %d MiB, %d MiB at the end of the run\n", samples[0].rss>>20, peak>>20, rssEnd>>20)
	heapLow := heapEnd
	for _, h := range lastHeap {
		heapLow = min(heapLow, h)
	}
	fmt.Fprintf(w, "Go heap in use: %d MiB before the first viewer, %d MiB at the end (lowest in its last minute %d MiB)\n",
		s.heapStart>>20, heapEnd>>20, heapLow>>20)
	if live > 0 {
		fmt.Fprintf(w, "per live viewer (%d): %d B of Go heap (lowest of the last minute, less the start), %d B of RSS (end, less the start), %d B at the RSS peak\n",
			live, (heapLow-s.heapStart)/int64(live), (rssEnd-samples[0].rss)/int64(live), (peak-samples[0].rss)/int64(live))
	}
	fmt.Fprintf(w, "machine load average (1 min) during the run: mean %.1f, max %.1f\n", loadSum/float64(max(n, 1)), loadMax)
}
