package memory_test

import (
	"testing"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/memory"
)

func TestEventLogContract(t *testing.T) {
	contract.EventLog(t, func(*testing.T) ivslive.EventLog { return memory.NewEventLog(nil) })
}
