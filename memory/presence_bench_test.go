package memory_test

import (
	"testing"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/memory"
)

func BenchmarkPresence(b *testing.B) {
	contract.BenchmarkPresence(b, func(*testing.B) ivslive.PresenceStore {
		return memory.NewPresence(&contract.Sink{}, nil, nil)
	})
}
