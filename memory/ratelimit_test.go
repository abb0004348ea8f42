package memory_test

import (
	"testing"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/memory"
)

func TestRateLimiterContract(t *testing.T) {
	contract.RateLimiter(t, func(*testing.T) (ivslive.RateLimiter, ivslive.RateLimiter) {
		l := memory.NewRateLimiter(nil)
		return l, l
	})
}
