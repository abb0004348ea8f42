package emulator

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// The id lives in the state file: a restart on the same file keeps it, a
// state file saved before ids existed gets one and keeps it, and another
// emulator has another.
func TestIdentityIsKeptWithTheState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	first := newHarness(t, Options{StatePath: path, AccountID: "111122223333", Region: "eu-west-1"})
	status, _, body := first.post(t, "GET", "/_emulator/identity", "")
	var got identityOutput
	if err := json.Unmarshal(body, &got); status != 200 || err != nil {
		t.Fatalf("GET /_emulator/identity: %d %s %v", status, body, err)
	}
	if got.EmulatorID == "" || got.EmulatorID != first.em.ID() || got.AccountID != "111122223333" || got.Region != "eu-west-1" {
		t.Fatalf("identity %+v (ID() %q)", got, first.em.ID())
	}
	if again := newHarness(t, Options{StatePath: path}); again.em.ID() != got.EmulatorID {
		t.Fatalf("after a restart on the same state file the id is %q, want %q", again.em.ID(), got.EmulatorID)
	}
	if other := newHarness(t, Options{}); other.em.ID() == got.EmulatorID {
		t.Fatal("two emulators share an id")
	}

	// A state file from before ids: the id made at load is saved at once.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(raw, &m)
	delete(m, "id")
	raw, _ = json.Marshal(m)
	old := filepath.Join(t.TempDir(), "old.json")
	if err := os.WriteFile(old, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	upgraded, err := New(Options{StatePath: old})
	if err != nil {
		t.Fatal(err)
	}
	upgraded.Close()
	reloaded, err := New(Options{StatePath: old})
	if err != nil {
		t.Fatal(err)
	}
	reloaded.Close()
	if upgraded.ID() == "" || reloaded.ID() != upgraded.ID() {
		t.Fatalf("an old state file got id %q, then %q after a reload", upgraded.ID(), reloaded.ID())
	}
}
