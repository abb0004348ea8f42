package app

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/redis"
	"github.com/ivslive/ivslive/token"
)

// When Redis loses the secret, the one in use is put back; when another
// instance has meanwhile stored a new one, it is adopted (and logged).
func TestSessionSecretAfterRedisLoss(t *testing.T) {
	ctx := context.Background()
	client, prefix := testenv.Redis(t)
	shared := redis.NewSecret(client, prefix, "session")
	var log bytes.Buffer
	a := base(Config{}, Options{Log: slog.New(slog.NewTextHandler(&log, nil))})
	sessions, err := a.openSessions(ctx, shared)
	if err != nil {
		t.Fatal(err)
	}
	current, _ := client.Get(ctx, prefix+"secret:session").Bytes()
	tok := sessions.Sign(ivslive.SessionClaims{SessionID: "s", UserID: "u", StageARN: "a", Expires: 4102444800})

	client.Del(ctx, prefix+"secret:session")
	current = a.syncSessionSecret(ctx, shared, sessions, current)
	if got, _ := client.Get(ctx, prefix+"secret:session").Bytes(); !bytes.Equal(got, current) {
		t.Fatalf("after the loss Redis holds %q, want the secret in use back", got)
	}
	if _, err := sessions.Verify(tok); err != nil {
		t.Fatalf("a token stopped verifying although the secret was restored: %v", err)
	}

	other := token.NewSessionSecret()
	client.Set(ctx, prefix+"secret:session", other, 0)
	current = a.syncSessionSecret(ctx, shared, sessions, current)
	if !bytes.Equal(current, other) {
		t.Fatal("the new shared secret was not adopted")
	}
	if _, err := sessions.Verify(tok); err == nil {
		t.Fatal("a token signed with the old secret still verifies")
	}
	if !strings.Contains(log.String(), "now invalid") {
		t.Errorf("the change was not logged:\n%s", log.String())
	}
}
