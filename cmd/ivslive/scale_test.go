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
// 60 seats (so the scaler must replicate the host into new stages and seat
// viewers there), heartbeats under 1 s checkpoints, restarts the server
// gracefully and finds every live viewer again.
func TestLoadtestServeRestartsWithEveryViewer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a load test")
	}
	t.Setenv("IVSLIVE_TEST_SERVE", "1") // the child is this test binary serving (see TestMain)
	serverCommand = func() *exec.Cmd { return exec.Command(os.Args[0], "-test.run=^$") }
	var out, errs strings.Builder
	args := strings.Fields("--serve --stage-seats 60 --viewers 200 --ramp 4s --duration 7s --interval 1s --auth session --leave 0.5 --checkpoint 1s")
	err := loadtestCmd(context.Background(), args, func(string) (string, bool) { return "", false }, &out, &errs)
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, out.String(), errs.String())
	}
	t.Log(out.String())
	report := out.String()
	m := regexp.MustCompile(`graceful restart: (\d+) live before SIGTERM \((\d+) real-time on (\d+) stages`).FindStringSubmatch(report)
	if m == nil {
		t.Fatalf("no restart line in the report:\n%s", report)
	}
	live, _ := strconv.Atoi(m[1])
	stages, _ := strconv.Atoi(m[3])
	// A few joins may meet STAGE_FULL while a new stage waits for the
	// host's media; the others are seated, half of them leave.
	if live < 80 || live > 100 {
		t.Errorf("%d live before the restart, want about 100", live)
	}
	if stages < 3 {
		t.Errorf("viewers on %d stages, want 3 or more: the pool did not grow past the master", stages)
	}
	for _, want := range []string{"with " + m[1] + " live", "RSS: ", "final checkpoint:", "restore: ", "Go heap in use",
		"heartbeats every 5 s", "checkpoint: "} {
		if !strings.Contains(report, want) {
			t.Errorf("report without %q:\n%s", want, report)
		}
	}
}
