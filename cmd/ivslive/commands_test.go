package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
)

func lookupFrom(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestConfigCheck(t *testing.T) {
	t.Chdir(t.TempDir())
	var out bytes.Buffer
	env := map[string]string{"API_SECRET_KEY": "hush-hush-hush-hush", "REDIS_URL": "redis://:pw@r:6379/0"}
	if err := run(context.Background(), []string{"config", "check"}, lookupFrom(env), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if !strings.Contains(got, "configuration is valid: ivs=emulator presence=redis") || !strings.Contains(got, "API_PORT=3000") {
		t.Fatalf("output:\n%s", got)
	}
	if strings.Contains(got, "hush") || strings.Contains(got, ":pw@") {
		t.Fatalf("secrets printed:\n%s", got)
	}
	err := run(context.Background(), []string{"config", "check"}, lookupFrom(map[string]string{"API_PORT": "x"}), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "API_PORT") {
		t.Fatalf("invalid config: %v", err)
	}
}

// Every command answers --help (flag.ErrHelp, no error message) and the
// top-level help lists them.
func TestHelp(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, lookupFrom(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"serve", "emulator", "keygen", "migrate", "config check", "version", "loadtest"} {
		if !strings.Contains(out.String(), "ivslive "+cmd) && !strings.Contains(out.String(), cmd) {
			t.Errorf("help does not list %q", cmd)
		}
	}
	for _, cmd := range []string{"serve", "emulator", "keygen", "migrate"} {
		var errOut bytes.Buffer
		err := run(context.Background(), []string{cmd, "--help"}, lookupFrom(nil), io.Discard, &errOut)
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(errOut.String(), "Usage: ivslive "+cmd) {
			t.Errorf("%s --help: %v\n%s", cmd, err, errOut.String())
		}
	}
}

// config check shows no password, whatever form DATABASE_URL and
// REDIS_URL take; a keyword/value DATABASE_URL is accepted as pgx does.
func TestConfigCheckHidesPasswords(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, env := range []map[string]string{
		{"DATABASE_URL": "postgres://app@db:5432/live?password=hunter2-pg", "REDIS_URL": "redis://:hunter2-redis@cache:6379/0"},
		{"DATABASE_URL": "host=db user=app password='hunter2 pg' dbname=live", "REDIS_HOST": "cache", "REDIS_PASSWORD": "hunter2-redis"},
	} {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"config", "check"}, lookupFrom(env), &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", env, err)
		}
		if strings.Contains(out.String(), "hunter2") {
			t.Errorf("config check shows a password:\n%s", out.String())
		}
	}
}
