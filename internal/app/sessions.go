package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ivslive/ivslive/redis"
	"github.com/ivslive/ivslive/token"
)

// sessionSecretCheck is how often an instance in Redis mode checks that the
// shared session-token secret is still the one it signs with.
const sessionSecretCheck = 30 * time.Second

// openSessions returns the signer of viewer session tokens. Its key is
// SESSION_TOKEN_SECRET, or else a random secret generated once and shared:
// in Redis when Redis is configured (every instance reads the same), in
// the data dir otherwise. It is never derived from an API key: every
// viewer's browser holds a MAC made with it, which would let anyone test
// guesses of that API key offline.
func (a *App) openSessions(ctx context.Context, shared *redis.Secret) (*token.Sessions, error) {
	if a.cfg.SessionSecret != "" {
		return token.NewSessions([]byte(a.cfg.SessionSecret), a.opts.Now)
	}
	if shared == nil {
		secret, err := a.localSessionSecret()
		if err != nil {
			return nil, err
		}
		return token.NewSessions(secret, a.opts.Now)
	}
	secret, _, err := shared.Ensure(ctx, token.NewSessionSecret())
	if err != nil {
		return nil, fmt.Errorf("session token secret in Redis: %w", err)
	}
	sessions, err := token.NewSessions(secret, a.opts.Now)
	if err != nil {
		return nil, fmt.Errorf("session token secret in Redis: %w", err)
	}
	current := secret
	a.workers = append(a.workers, func(ctx context.Context) {
		tick := time.NewTicker(sessionSecretCheck)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				current = a.syncSessionSecret(ctx, shared, sessions, current)
			}
		}
	})
	return sessions, nil
}

// syncSessionSecret makes the shared secret and the one sessions signs with
// agree again after Redis lost its data: the value in use is put back when
// the key is missing (tokens stay valid), and a different value stored
// meanwhile by another instance is adopted (tokens signed with ours become
// invalid: logged). It returns the secret in use.
func (a *App) syncSessionSecret(ctx context.Context, shared *redis.Secret, sessions *token.Sessions, current []byte) []byte {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	value, stored, err := shared.Ensure(ctx, current)
	switch {
	case err != nil:
		a.log.Debug("session token secret: Redis unavailable; keeping the one in use", "err", err)
		return current
	case stored:
		a.log.Warn("the session token secret was missing from Redis (data lost or flushed); stored the one this instance uses again")
		return current
	case bytes.Equal(value, current):
		return current
	}
	if err := sessions.SetSecret(value); err != nil {
		a.log.Error("the session token secret in Redis is too short; keeping the one in use", "err", err)
		return current
	}
	a.log.Warn("the session token secret in Redis changed (Redis lost its data and another instance made a new one): viewer session tokens signed before are now invalid")
	return value
}

// localSessionSecret reads the session-token secret kept in the data dir,
// generating it on the first start.
func (a *App) localSessionSecret() ([]byte, error) {
	path := filepath.Join(a.cfg.DataDir, "session-secret")
	b, err := os.ReadFile(path)
	if err == nil && len(trimNewline(b)) >= token.MinSessionSecret {
		return trimNewline(b), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read the session token secret: %w", err)
	}
	if err == nil {
		a.log.Warn("the session token secret in the data dir is too short; generating a new one", "file", path)
	}
	secret := token.NewSessionSecret()
	if err := writeSecretFile(path, append(secret, '\n')); err != nil {
		return nil, fmt.Errorf("store the session token secret: %w", err)
	}
	return secret, nil
}
