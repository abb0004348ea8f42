package main

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// `ivslive loadtest --serve` at a small size: it starts the server, streams
// the host's media over WHIP, seats viewers with session tokens on stages of
// 30 seats (so the scaler must replicate the host into a new stage and seat
// viewers there) and sends those past the seats to playback,
// heartbeats under 1 s checkpoints, restarts the server gracefully and finds
// every live viewer again, playback ones included. With --profile it takes
// the server's CPU profile of a checkpoint and its heap before the restart.
func TestLoadtestServeRestartsWithEveryViewer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a load test")
	}
	t.Setenv("IVSLIVE_TEST_SERVE", "1") // the child is this test binary serving (see TestMain)
	serverCommand = func() *exec.Cmd { return exec.Command(os.Args[0], "-test.run=^$") }
	var out, errs strings.Builder
	profiles := t.TempDir()
	args := append(strings.Fields("--serve --stage-seats 30 --viewers 300 --ramp 4s --duration 7s --interval 1s --auth session --leave 0.5 --checkpoint 1s"),
		"--profile", profiles)
	err := loadtestCmd(context.Background(), args, func(string) (string, bool) { return "", false }, &out, &errs)
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, out.String(), errs.String())
	}
	t.Log(out.String())
	report := out.String()
	m := regexp.MustCompile(`graceful restart: (\d+) live before SIGTERM \((\d+) real-time on (\d+) stages, (\d+) playback\)`).FindStringSubmatch(report)
	if m == nil {
		t.Fatalf("no restart line in the report:\n%s", report)
	}
	live, _ := strconv.Atoi(m[1])
	stages, _ := strconv.Atoi(m[3])
	playback, _ := strconv.Atoi(m[4])
	// Every viewer is seated or sent to playback; half of them leave.
	if live != 150 {
		t.Errorf("%d live before the restart, want 150", live)
	}
	// On a loaded machine the scaler may seat only one replica before the
	// joins are over (the rest go to playback): past the master is enough.
	if stages < 2 || playback == 0 {
		t.Errorf("viewers on %d stages and %d in playback: want 2 stages or more (the pool grew past the master) and some in playback", stages, playback)
	}
	checkProfiles(t, report, profiles)
	for _, want := range []string{"with " + m[1] + " live", "RSS: ", "final checkpoint:", "restore: ", "Go heap in use",
		"heartbeats every 5 s", "checkpoint: "} {
		if !strings.Contains(report, want) {
			t.Errorf("report without %q:\n%s", want, report)
		}
	}
}
