package memory_test

import (
	"testing"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/memory"
)

func TestLeaseContract(t *testing.T) {
	contract.LeaseStore(t, func(*testing.T) ivslive.LeaseStore { return memory.NewLeases(nil) })
}
