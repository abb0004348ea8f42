package memory_test

import (
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/memory"
)

func TestEventLogContract(t *testing.T) {
	contract.EventLog(t, func(*testing.T) (ivslive.EventLog, func(time.Duration)) {
		clock := testenv.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
		return memory.NewEventLog(clock.Now), clock.Add
	})
}
