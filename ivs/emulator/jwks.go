package emulator

import (
	"crypto/ecdsa"
	"encoding/base64"
	"fmt"
	"net/http"
)

// jwk is one JSON Web Key (RFC 7517) for an ES384 verification key.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// newJWK encodes a P-384 public key; x and y are the 48-byte big-endian
// coordinates taken from the uncompressed point 0x04||x||y.
func newJWK(kid string, key *ecdsa.PublicKey) (jwk, error) {
	point, err := key.Bytes()
	if err != nil {
		return jwk{}, fmt.Errorf("encode key %s: %w", kid, err)
	}
	if len(point) != 1+2*48 {
		return jwk{}, fmt.Errorf("key %s is not a P-384 point", kid)
	}
	return jwk{
		Kty: "EC",
		Crv: "P-384",
		X:   base64.RawURLEncoding.EncodeToString(point[1:49]),
		Y:   base64.RawURLEncoding.EncodeToString(point[49:]),
		Kid: kid,
		Alg: "ES384",
		Use: "sig",
	}, nil
}

// jwks serves GET /.well-known/jwks.json: the emulator's signing key first,
// then every imported public key under its ARN, so self-signed tokens whose
// kid is an imported key's ARN can be verified from the same document.
func (e *Emulator) jwks(*http.Request) (any, error) {
	own, err := newJWK(e.keyID, &e.signingKey.PublicKey)
	if err != nil {
		return nil, internalErr(err)
	}
	keys := []jwk{own}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, k := range sortedBySeq(e.state.PublicKeys, func(k *publicKey) int64 { return k.Seq }) {
		pub, err := parseP384(e.re.pem.FindString(k.Material))
		if err != nil {
			// Only a hand-edited state file gets here; skip rather than fail
			// the emulator's own key.
			e.log.Warn("ivs emulator: skip unparsable public key in JWKS", "arn", k.Arn, "err", err)
			continue
		}
		key, err := newJWK(k.Arn, pub)
		if err != nil {
			return nil, internalErr(err)
		}
		keys = append(keys, key)
	}
	return map[string]any{"keys": keys}, nil
}
