package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The CPU profile starts at the checkpoint ticker's next tick: on the grid
// of a checkpoint already logged, at or after the given time.
func TestProfileNextTick(t *testing.T) {
	t0 := time.Unix(1000, 0)
	for _, c := range []struct {
		after time.Duration
		want  time.Duration
	}{
		{-5 * time.Second, 0}, // the tick itself is later
		{0, 0},
		{time.Millisecond, 10 * time.Second},
		{25 * time.Second, 30 * time.Second},
		{30 * time.Second, 30 * time.Second},
	} {
		if got := nextTick(t0, 10*time.Second, t0.Add(c.after)); !got.Equal(t0.Add(c.want)) {
			t.Errorf("after +%s: tick at +%s, want +%s", c.after, got.Sub(t0), c.want)
		}
	}
}

// --profile belongs to --serve: the profiles are the started server's.
func TestProfileNeedsServe(t *testing.T) {
	err := loadtestCmd(context.Background(), []string{"--url", "http://127.0.0.1:1", "--profile", t.TempDir()},
		func(string) (string, bool) { return "", false }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--serve") {
		t.Fatalf("err = %v, want one naming --serve", err)
	}
}

// checkProfiles checks that a --serve --profile report names the CPU and
// heap profiles in dir, with the command that reads each, and that both
// are profiles (gzipped protobuf with samples).
func checkProfiles(t *testing.T, report, dir string) {
	t.Helper()
	for _, name := range []string{"cpu.pprof", "heap.pprof"} {
		path := filepath.Join(dir, name)
		if !strings.Contains(report, "go tool pprof -top "+path) {
			t.Errorf("the report does not show how to read %s:\n%s", path, report)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Error(err)
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Errorf("%s is not a profile (gzipped protobuf): %v", name, err)
			continue
		}
		if raw, err := io.ReadAll(zr); err != nil || len(raw) < 100 {
			t.Errorf("%s: %d bytes of protobuf, %v", name, len(raw), err)
		}
	}
}
