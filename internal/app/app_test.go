package app

import (
	"context"
	"testing"
)

// Every listener the app opens (the API, METRICS_ADDR, DEBUG_ADDR, the
// embedded emulator's own) drops idle connections and slow headers.
func TestEveryListenerHasTimeouts(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg, err := LoadConfig(lookupFrom(map[string]string{"API_PORT": "0", "API_SECRET_KEY": "test-admin-key-0123456789", "METRICS_ADDR": "127.0.0.1:0", "DEBUG_ADDR": "127.0.0.1:0"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if len(a.servers) != 4 {
		t.Fatalf("%d servers, want 4 (API, metrics, debug, emulator)", len(a.servers))
	}
	for i, srv := range a.servers {
		if srv.ReadHeaderTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
			t.Errorf("server %d: ReadHeaderTimeout %v, IdleTimeout %v, MaxHeaderBytes %d; want all set", i, srv.ReadHeaderTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
		}
	}
}
