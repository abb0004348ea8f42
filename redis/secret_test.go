package redis_test

import (
	"context"
	"testing"

	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/redis"
)

func TestSecretIsSharedAndRestored(t *testing.T) {
	ctx := context.Background()
	client, prefix := testenv.Redis(t)
	a, b := redis.NewSecret(client, prefix, "session"), redis.NewSecret(client, prefix, "session")

	first, stored, err := a.Ensure(ctx, []byte("candidate-of-a"))
	if err != nil || !stored || string(first) != "candidate-of-a" {
		t.Fatalf("first Ensure = %q, %v, %v; want a's candidate, stored", first, stored, err)
	}
	// The second instance adopts what the first stored.
	got, stored, err := b.Ensure(ctx, []byte("candidate-of-b"))
	if err != nil || stored || string(got) != "candidate-of-a" {
		t.Fatalf("second Ensure = %q, %v, %v; want a's value, not stored", got, stored, err)
	}
	// Redis lost the key: the value in use goes back, so nothing changes.
	if err := client.Del(ctx, prefix+"secret:session").Err(); err != nil {
		t.Fatal(err)
	}
	got, stored, err = b.Ensure(ctx, got)
	if err != nil || !stored || string(got) != "candidate-of-a" {
		t.Fatalf("Ensure after a loss = %q, %v, %v; want the value in use stored again", got, stored, err)
	}
	if v, _ := client.Get(ctx, prefix+"secret:session").Result(); v != "candidate-of-a" {
		t.Fatalf("Redis holds %q", v)
	}
}
