package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/internal/testenv"
)

// The embedded emulator in production is logged; behind a proxy
// (TRUST_PROXY) its control plane refuses even a local, header-free call,
// and the log says why.
func TestEmulatorExposureWarnings(t *testing.T) {
	t.Chdir(t.TempDir())
	var log apitest.LogBuffer
	s := startLogged(t, map[string]string{"API_PORT": "0", "NODE_ENV": "production", "API_SECRET_KEY": testKey, "TRUST_PROXY": "1"}, &log)
	defer s.stop()
	s.key = testKey
	if status, _ := call(t, s, "POST", "/ivs/ListStages", "{}"); status != 403 {
		t.Fatalf("control plane with TRUST_PROXY set: %d, want 403", status)
	}
	for _, want := range []string{"NODE_ENV=production", "EMULATOR_CONTROL=key"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log does not mention %s:\n%s", want, log.String())
		}
	}
}

// The real wiring: anonymous /health shows no audience numbers (the
// scaler's viewers and capacity), a read key sees them.
func TestAnonymousHealthHidesAudience(t *testing.T) {
	t.Chdir(t.TempDir())
	s := start(t, map[string]string{"API_PORT": "0", "API_SECRET_KEY": testKey})
	defer s.stop()
	s.key = testKey
	viewerSession(t, s, "carol")
	get := func(key string) string {
		req, _ := http.NewRequest("GET", s.url+"/health", nil)
		req.Header.Set("X-Api-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	anon, full := get(""), get(testKey)
	for _, field := range []string{`"viewers"`, `"capacityLeft"`, `"components"`} {
		if strings.Contains(anon, field) {
			t.Errorf("anonymous /health shows %s: %s", field, anon)
		}
		if !strings.Contains(full, field) {
			t.Errorf("/health with the admin key lacks %s: %s", field, full)
		}
	}
}

// A password given as a DATABASE_URL query parameter stays out of the
// startup log (PostgreSQL trusts the test's connections, so any password
// connects).
func TestStartupLogHidesQueryPassword(t *testing.T) {
	t.Chdir(t.TempDir())
	dsn := testenv.PostgresURL(t)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	var log apitest.LogBuffer
	s := startLogged(t, map[string]string{"API_PORT": "0", "API_SECRET_KEY": testKey, "DATABASE_URL": dsn + sep + "password=hunter2-in-query"}, &log)
	s.stop()
	if !strings.Contains(log.String(), "ivslive starting") {
		t.Fatalf("no startup line:\n%s", log.String())
	}
	if strings.Contains(log.String(), "hunter2") {
		t.Fatalf("the startup log shows the password:\n%s", log.String())
	}
}
