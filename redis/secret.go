package redis

import (
	"context"
	"errors"
	"fmt"

	goredis "github.com/redis/go-redis/v9"
)

// Secret is a secret every instance shares through Redis, such as the key
// of viewer session tokens: the first instance to start stores its
// candidate with SET NX, and every instance reads the value that is there.
type Secret struct {
	client *goredis.Client
	key    string
}

// NewSecret returns the shared secret called name, under the key prefix.
func NewSecret(client *goredis.Client, prefix, name string) *Secret {
	return &Secret{client: client, key: prefix + "secret:" + name}
}

// Ensure stores candidate unless a value is stored already, and returns the
// stored value; stored reports whether it is candidate because this call
// stored it (the key was missing: a first start, or Redis lost its data).
// Passing the value in use as the candidate puts it back after such a loss,
// so tokens signed with it stay valid.
func (s *Secret) Ensure(ctx context.Context, candidate []byte) (value []byte, stored bool, err error) {
	// A key deleted between SETNX and GET sends us round again; twice is
	// plenty for anything but a flood of deletes.
	for range 3 {
		stored, err = s.client.SetNX(ctx, s.key, candidate, 0).Result()
		if err != nil {
			return nil, false, unavailable("store secret", err)
		}
		if stored {
			return candidate, true, nil
		}
		value, err = s.client.Get(ctx, s.key).Bytes()
		if err == nil {
			return value, false, nil
		}
		if !errors.Is(err, goredis.Nil) {
			return nil, false, unavailable("read secret", fmt.Errorf("%s: %w", s.key, err))
		}
	}
	return nil, false, unavailable("read secret", fmt.Errorf("%s keeps disappearing", s.key))
}
