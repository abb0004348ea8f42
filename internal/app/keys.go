package app

import (
	"fmt"
	"strings"

	ivshttp "github.com/ivslive/ivslive/http"
)

// minKeyLength is the shortest API key accepted: for API_KEYS always, for
// API_SECRET_KEY with NODE_ENV=production (development only warns).
const minKeyLength = 16

// parseAPIKeys returns the admin key and the keys of API_KEYS
// ("name:scope:secret,…"). It refuses unknown scopes, duplicate names or
// secrets and short secrets, naming the key but never printing a secret.
func parseAPIKeys(admin, raw string) ([]ivshttp.APIKey, error) {
	keys := []ivshttp.APIKey{{Name: "admin", Scope: ivshttp.ScopeAdmin, Secret: admin}}
	names := map[string]bool{"admin": true}
	secrets := map[string]bool{admin: true}
	for i, entry := range strings.Split(raw, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		parts := strings.SplitN(entry, ":", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("invalid configuration: API_KEYS entry %d: want name:scope:secret", i+1)
		}
		name, scope, secret := parts[0], ivshttp.Scope(parts[1]), parts[2]
		switch {
		case name == "" || names[name]:
			return nil, fmt.Errorf("invalid configuration: API_KEYS entry %d: the name %q is empty or used twice", i+1, name)
		case scope != ivshttp.ScopeAdmin && scope != ivshttp.ScopeRead && scope != ivshttp.ScopeViewer:
			return nil, fmt.Errorf("invalid configuration: API_KEYS key %q: scope %q, want admin, read or viewer", name, scope)
		case len(secret) < minKeyLength:
			return nil, fmt.Errorf("invalid configuration: API_KEYS key %q: the secret must be at least %d characters", name, minKeyLength)
		case secrets[secret]:
			return nil, fmt.Errorf("invalid configuration: API_KEYS key %q: its secret is used by another key", name)
		}
		names[name], secrets[secret] = true, true
		keys = append(keys, ivshttp.APIKey{Name: name, Scope: scope, Secret: secret})
	}
	return keys, nil
}
