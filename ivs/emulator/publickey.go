package emulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// publicKey is a stored imported public key.
type publicKey struct {
	Arn         string            `json:"arn"`
	ID          string            `json:"id"`
	Name        string            `json:"name,omitempty"`
	Material    string            `json:"publicKeyMaterial"`
	Fingerprint string            `json:"fingerprint"`
	Tags        map[string]string `json:"tags"`
	CreatedAt   time.Time         `json:"createdAt"`
	Seq         int64             `json:"seq"`
}

// publicKeyOutput is the model's PublicKey.
type publicKeyOutput struct {
	Arn               string            `json:"arn"`
	Name              string            `json:"name,omitempty"`
	PublicKeyMaterial string            `json:"publicKeyMaterial"`
	Fingerprint       string            `json:"fingerprint"`
	Tags              map[string]string `json:"tags"`
}

// publicKeySummary is the model's PublicKeySummary.
type publicKeySummary struct {
	Arn  string            `json:"arn"`
	Name string            `json:"name,omitempty"`
	Tags map[string]string `json:"tags"`
}

func (k *publicKey) output() publicKeyOutput {
	return publicKeyOutput{Arn: k.Arn, Name: k.Name, PublicKeyMaterial: k.Material, Fingerprint: k.Fingerprint, Tags: cloneTags(k.Tags)}
}

// parseP384 parses PEM public key material and requires an ECDSA P-384 key,
// the only kind IVS accepts for participant tokens.
func parseP384(material string) (*ecdsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(material))
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("not a PEM encoded PUBLIC KEY")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	ec, ok := key.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("key type %T is not ECDSA", key)
	}
	if ec.Curve != elliptic.P384() {
		return nil, fmt.Errorf("curve %s is not P-384", ec.Curve.Params().Name)
	}
	return ec, nil
}

// fingerprint hashes the canonical DER encoding, so the same key imported
// with different PEM line breaks is recognised as a duplicate. It is shaped
// like the colon-separated fingerprints AWS shows (16 bytes).
func fingerprint(key *ecdsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return "", fmt.Errorf("encode public key: %w", err)
	}
	sum := sha256.Sum256(der)
	parts := make([]string, 16)
	for i := range parts {
		parts[i] = hex.EncodeToString(sum[i : i+1])
	}
	return strings.Join(parts, ":"), nil
}

// keyFingerprint parses imported key material (public and playback keys
// alike) and answers its fingerprint, or IVS's validation error.
func keyFingerprint(material string) (string, error) {
	key, err := parseP384(material)
	if err != nil {
		return "", validationErr("1 validation error detected: Value at 'publicKeyMaterial' failed to satisfy constraint: Member must be an ECDSA P-384 public key: %v", err)
	}
	fp, err := fingerprint(key)
	if err != nil {
		return "", internalErr(err)
	}
	return fp, nil
}

func (e *Emulator) importPublicKey(r *http.Request) (any, error) {
	var in struct {
		PublicKeyMaterial *string           `json:"publicKeyMaterial"`
		Name              *string           `json:"name"`
		Tags              map[string]string `json:"tags"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v validator
	v.requiredStr("publicKeyMaterial", in.PublicKeyMaterial, 0, 1<<20, e.re.pem)
	v.str("name", in.Name, 0, 128, e.re.name)
	v.tags("tags", in.Tags)
	if err := v.err(); err != nil {
		return nil, err
	}
	// The model pattern is unanchored, so parse only the part it matched.
	fp, err := keyFingerprint(e.re.pem.FindString(*in.PublicKeyMaterial))
	if err != nil {
		return nil, err
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	for _, k := range e.state.PublicKeys {
		if k.Fingerprint == fp {
			return nil, conflictErr("public key material is already imported as %s", k.Arn)
		}
	}
	if len(e.state.PublicKeys) >= e.opts.Quotas.PublicKeys {
		return nil, quotaErr("public key quota of %d per Region reached", e.opts.Quotas.PublicKeys)
	}
	id, arn := e.newArnLocked("public-key", func(arn string) bool { return e.state.PublicKeys[arn] != nil })
	k := &publicKey{
		Arn:         arn,
		ID:          id,
		Name:        deref(in.Name),
		Material:    *in.PublicKeyMaterial,
		Fingerprint: fp,
		Tags:        cloneTags(in.Tags),
		CreatedAt:   e.now().UTC(),
		Seq:         e.state.nextSeq(),
	}
	e.state.PublicKeys[arn] = k
	if err := e.commitLocked(); err != nil {
		return nil, err
	}
	e.log.Info("ivs emulator: public key imported", "arn", arn, "fingerprint", fp)
	return map[string]any{"publicKey": k.output()}, nil
}

// findPublicKeyLocked returns the key or ResourceNotFoundException.
func (e *Emulator) findPublicKeyLocked(arn string) (*publicKey, error) {
	k, ok := e.state.PublicKeys[arn]
	if !ok {
		return nil, notFoundErr("Public key not found: %s", arn)
	}
	return k, nil
}

func (e *Emulator) getPublicKey(r *http.Request) (any, error) {
	arn, err := e.decodeArn(r, e.re.publicKeyArn)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	k, err := e.findPublicKeyLocked(arn)
	if err != nil {
		return nil, err
	}
	return map[string]any{"publicKey": k.output()}, nil
}

func (e *Emulator) deletePublicKey(r *http.Request) (any, error) {
	arn, err := e.decodeArn(r, e.re.publicKeyArn)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := e.findPublicKeyLocked(arn); err != nil {
		return nil, err
	}
	delete(e.state.PublicKeys, arn)
	if err := e.commitLocked(); err != nil {
		return nil, err
	}
	e.log.Info("ivs emulator: public key deleted", "arn", arn)
	return struct{}{}, nil
}

func (e *Emulator) listPublicKeys(r *http.Request) (any, error) {
	return listRecords(e, r, "publicKeys", func() map[string]*publicKey { return e.state.PublicKeys }, func(k *publicKey) int64 { return k.Seq },
		func(k *publicKey) publicKeySummary {
			return publicKeySummary{Arn: k.Arn, Name: k.Name, Tags: cloneTags(k.Tags)}
		})
}
