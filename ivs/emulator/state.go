package emulator

import (
	"cmp"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// stateVersion is bumped when the state file layout changes incompatibly.
const stateVersion = 1

// state is everything the emulator persists. Maps are keyed by ARN (or by
// replicationKey); seq numbers give the stable creation order List uses.
type state struct {
	Version      int                     `json:"version"`
	ID           string                  `json:"id,omitempty"`
	SigningKey   string                  `json:"signingKey"`
	Seq          int64                   `json:"seq"`
	Stages       map[string]*stage       `json:"stages"`
	PublicKeys   map[string]*publicKey   `json:"publicKeys"`
	Replications map[string]*replication `json:"replications"`
	// The low-latency service's resources (channel.go).
	Channels     map[string]*channel         `json:"channels,omitempty"`
	PlaybackKeys map[string]*playbackKeyPair `json:"playbackKeyPairs,omitempty"`
	// Encoder configurations are durable in IVS; compositions are not.
	EncoderConfigurations map[string]*encoderConfiguration `json:"encoderConfigurations,omitempty"`
}

func newState() *state {
	return &state{
		Version:      stateVersion,
		Stages:       make(map[string]*stage),
		PublicKeys:   make(map[string]*publicKey),
		Replications: make(map[string]*replication),
		Channels:     make(map[string]*channel),
		PlaybackKeys: make(map[string]*playbackKeyPair),

		EncoderConfigurations: make(map[string]*encoderConfiguration),
	}
}

// nextSeq returns the next creation sequence number.
func (s *state) nextSeq() int64 {
	s.Seq++
	return s.Seq
}

// sortedBySeq returns the map's values in creation order.
func sortedBySeq[T any](m map[string]T, seqOf func(T) int64) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b T) int { return cmp.Compare(seqOf(a), seqOf(b)) })
	return out
}

// load reads the state file, or starts empty when there is none, and makes
// sure a signing key exists.
func (e *Emulator) load() error {
	e.state = newState()
	if e.statePath != "" {
		data, err := os.ReadFile(e.statePath)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return fmt.Errorf("read %s: %w", e.statePath, err)
		default:
			if err := json.Unmarshal(data, e.state); err != nil {
				return fmt.Errorf("decode %s: %w", e.statePath, err)
			}
			if e.state.Version != stateVersion {
				return fmt.Errorf("%s has state version %d, want %d", e.statePath, e.state.Version, stateVersion)
			}
		}
	}
	// A file written by hand may lack some maps; writes below must not panic.
	if e.state.Stages == nil {
		e.state.Stages = make(map[string]*stage)
	}
	if e.state.PublicKeys == nil {
		e.state.PublicKeys = make(map[string]*publicKey)
	}
	if e.state.Replications == nil {
		e.state.Replications = make(map[string]*replication)
	}
	if e.state.Channels == nil {
		e.state.Channels = make(map[string]*channel)
	}
	if e.state.PlaybackKeys == nil {
		e.state.PlaybackKeys = make(map[string]*playbackKeyPair)
	}
	if e.state.EncoderConfigurations == nil {
		e.state.EncoderConfigurations = make(map[string]*encoderConfiguration)
	}
	e.restoreReplicationsLocked()
	newID := e.ensureIDLocked()
	if e.state.SigningKey == "" {
		return e.generateSigningKey() // saves the new id too
	}
	block, _ := pem.Decode([]byte(e.state.SigningKey))
	if block == nil {
		return errors.New("signing key in state file is not PEM")
	}
	key, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return fmt.Errorf("parse signing key: %w", err)
	}
	if key.Curve != elliptic.P384() {
		return errors.New("signing key in state file is not P-384")
	}
	e.signingKey = key
	if newID {
		return e.saveLocked()
	}
	return nil
}

// restoreReplicationsLocked brings back the replications saved before a
// restart. A restart disconnected every participant, so each source is gone
// since now: its replica waits in the destination for the reconnect window,
// and a replication without one (or whose stage is missing from a
// hand-edited file) ends at once.
func (e *Emulator) restoreReplicationsLocked() {
	now := e.now().UTC()
	for key, rep := range e.state.Replications {
		if rep.ReconnectWindowSeconds == 0 || e.state.Stages[rep.SourceStageArn] == nil || e.state.Stages[rep.DestinationStageArn] == nil {
			delete(e.state.Replications, key)
			continue
		}
		rep.sourceGoneAt = now
		e.attachReplicaLocked(rep, nil)
	}
}

// generateSigningKey creates the P-384 token signing key and saves it, so
// tokens minted now still verify after a restart.
func (e *Emulator) generateSigningKey() error {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("encode signing key: %w", err)
	}
	e.signingKey = key
	e.state.SigningKey = string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	return e.saveLocked()
}

// saveLocked writes the state atomically (temp file, fsync, rename) so a
// crash never leaves a truncated file. e.mu must be held (or e unshared).
func (e *Emulator) saveLocked() error {
	if e.statePath == "" {
		return nil
	}
	data, err := json.MarshalIndent(e.state, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	dir := filepath.Dir(e.statePath)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create state directory %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(e.statePath)+".*.tmp")
	if err != nil {
		return fmt.Errorf("create temp state file: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("chmod temp state file: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write temp state file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync temp state file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close temp state file: %w", err)
	}
	if err := os.Rename(tmp.Name(), e.statePath); err != nil {
		return fmt.Errorf("replace state file: %w", err)
	}
	// Syncing the directory makes the rename itself durable; some platforms
	// cannot open directories for sync, which only weakens durability.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// commitLocked persists a mutation. The in-memory change stays even when the
// write fails; the caller answers InternalServerException so the client
// knows the change may not survive a restart.
func (e *Emulator) commitLocked() error {
	if err := e.saveLocked(); err != nil {
		e.log.Error("ivs emulator: persist state", "path", e.statePath, "err", err)
		return internalErr(fmt.Errorf("persist state: %w", err))
	}
	return nil
}

// timestamp formats t the way the IVS API does: UTC with milliseconds.
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
