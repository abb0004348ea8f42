package http_test

import (
	"strings"
	"testing"

	"github.com/ivslive/ivslive/internal/apitest"
)

// Anonymous health checks get liveness only (the Node server's fields);
// the components need a read key. A viewer key or a wrong one gets the
// anonymous answer.
func TestHealthShowsComponentsToReadersOnly(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	for _, path := range []string{"/health", "/api/health"} {
		for name, key := range map[string]string{"anonymous": "", "viewer key": apitest.ViewerKey, "wrong key": "nope"} {
			r := env.Must(t, 200, "GET", path, nil, "X-Api-Key", key)
			var data map[string]any
			r.Decode(t, &data)
			for _, field := range []string{"status", "uptime", "version", "services", "memory"} {
				if _, ok := data[field]; !ok {
					t.Errorf("%s %s: no %q (a Node field)", name, path, field)
				}
			}
			if _, ok := data["components"]; ok || strings.Contains(string(r.Data), "latencyMs") {
				t.Errorf("%s %s shows the components: %s", name, path, r.Data)
			}
		}
		for _, key := range []string{apitest.ReadKey, apitest.Key} {
			var data struct {
				Components map[string]any `json:"components"`
			}
			env.Must(t, 200, "GET", path, nil, "X-Api-Key", key).Decode(t, &data)
			if data.Components["presence"] == nil {
				t.Errorf("%s with a read or admin key: no components", path)
			}
		}
	}
}
