package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// `ivslive loadtest --serve` at a small size: it starts the server, seats
// and heartbeats viewers with session tokens under 1 s checkpoints,
// restarts the server gracefully and finds every live viewer again.
func TestLoadtestServeRestartsWithEveryViewer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a load test")
	}
	t.Setenv("IVSLIVE_TEST_SERVE", "1") // the child is this test binary serving (see TestMain)
	serverCommand = func() *exec.Cmd { return exec.Command(os.Args[0], "-test.run=^$") }
	var out, errs strings.Builder
	args := strings.Fields("--serve --viewers 400 --ramp 1s --duration 4s --interval 1s --auth session --leave 0.5 --checkpoint 1s")
	err := loadtestCmd(context.Background(), args, func(string) (string, bool) { return "", false }, &out, &errs)
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, out.String(), errs.String())
	}
	t.Log(out.String())
	for _, want := range []string{"graceful restart: 200 live before SIGTERM", "with 200 live", "RSS peak"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report without %q:\n%s", want, out.String())
		}
	}
}
