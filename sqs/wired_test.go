package sqs_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/internal/testenv"
)

// The in-process server consumes the emulator's event queue as serve
// does: an event IVS emits reaches live.Service.ApplyIVSEvent (which logs
// each event it is given) and leaves the queue.
func TestServerAppliesIVSEvents(t *testing.T) {
	logs := &apitest.LogBuffer{}
	env := apitest.New(t, apitest.Options{Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	env.Emulator.SetPublishing(env.Live.MasterARN(), "host-participant", true)
	testenv.Eventually(t, 20*time.Second, "the event applied by the service", func() bool {
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, `msg="ivs event"`) && strings.Contains(line, "participant=host-participant") &&
				strings.Contains(line, `name="Participant Published"`) && !strings.Contains(line, "part=ivs-events") {
				return true
			}
		}
		return false
	})
	testenv.Eventually(t, 10*time.Second, "the message deleted", func() bool { return env.Emulator.EventQueueStats().Deleted == 1 })
}
