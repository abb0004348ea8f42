package contract

import (
	"context"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
)

// LeaseStore runs the lease contract. open must return an empty store and
// a function that moves the store's clock forward by d (a fake clock's,
// or for a store that keeps time itself, such as Redis, waiting d).
func LeaseStore(t *testing.T, open func(t *testing.T) (s ivslive.LeaseStore, advance func(d time.Duration))) {
	ctx := context.Background()
	s, advance := open(t)
	tokA, held, err := s.AcquireLease(ctx, "scaler", "a", time.Minute)
	if err != nil || !held {
		t.Fatalf("first acquire: held=%v err=%v", held, err)
	}
	if _, held, _ := s.AcquireLease(ctx, "scaler", "b", time.Minute); held {
		t.Fatal("b took a lease a holds")
	}
	if tok, held, _ := s.AcquireLease(ctx, "scaler", "a", time.Minute); !held || tok != tokA {
		t.Fatalf("renewal: held=%v token=%d, want true %d", held, tok, tokA)
	}
	if _, held, _ := s.AcquireLease(ctx, "other", "b", time.Minute); !held {
		t.Fatal("leases with other names must be independent")
	}
	if err := s.ReleaseLease(ctx, "scaler", "b"); err != nil {
		t.Fatal(err)
	}
	if _, held, _ := s.AcquireLease(ctx, "scaler", "b", time.Minute); held {
		t.Fatal("a release by a non-holder freed the lease")
	}
	if err := s.ReleaseLease(ctx, "scaler", "a"); err != nil {
		t.Fatal(err)
	}
	tokB, held, _ := s.AcquireLease(ctx, "scaler", "b", 100*time.Millisecond)
	if !held || tokB <= tokA {
		t.Fatalf("after release: held=%v token=%d, want a token above %d", held, tokB, tokA)
	}
	// An expired lease goes to the next one who asks.
	advance(100 * time.Millisecond)
	tokA2, held, _ := s.AcquireLease(ctx, "scaler", "a", time.Minute)
	if !held || tokA2 <= tokB {
		t.Fatalf("after expiry: held=%v token=%d, want a token above %d", held, tokA2, tokB)
	}
}
