package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers (https://www.standardwebhooks.com).
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// secretPrefix marks a Standard Webhooks secret: "whsec_" and the key in
// base64.
const secretPrefix = "whsec_"

// Secret is one signing key. Its String never shows the key.
type Secret struct{ key []byte }

// String implements fmt.Stringer without revealing the key.
func (Secret) String() string { return "whsec_…" }

// ParseSecret reads a "whsec_<base64>" secret of 24 to 64 bytes (the
// convention's range: enough to resist guessing, short enough to paste).
func ParseSecret(s string) (Secret, error) {
	raw, ok := strings.CutPrefix(strings.TrimSpace(s), secretPrefix)
	if !ok {
		return Secret{}, fmt.Errorf("a secret must start with %s (the Standard Webhooks form)", secretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return Secret{}, fmt.Errorf("a secret must be %s followed by base64: %v", secretPrefix, err)
	}
	if len(key) < 24 || len(key) > 64 {
		return Secret{}, fmt.Errorf("a secret must hold 24 to 64 bytes, this one holds %d (make one with: openssl rand -base64 32)", len(key))
	}
	return Secret{key: key}, nil
}

// ParseSecrets reads a comma-separated list of secrets (rotation: every
// one signs, so a receiver holding either verifies).
func ParseSecrets(list string) ([]Secret, error) {
	var out []Secret
	for _, s := range strings.Split(list, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		sec, err := ParseSecret(s)
		if err != nil {
			return nil, err
		}
		out = append(out, sec)
	}
	return out, nil
}

// Sign returns the webhook-signature header value for a message: one
// "v1,<base64 HMAC-SHA256 of id.timestamp.body>" per secret, separated by
// spaces, as the Standard Webhooks convention has it.
func Sign(id string, at time.Time, body []byte, secrets []Secret) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	var b strings.Builder
	for i, s := range secrets {
		if i > 0 {
			b.WriteByte(' ')
		}
		h := hmac.New(sha256.New, s.key)
		h.Write([]byte(id))
		h.Write([]byte{'.'})
		h.Write([]byte(ts))
		h.Write([]byte{'.'})
		h.Write(body)
		b.WriteString("v1,")
		b.WriteString(base64.StdEncoding.EncodeToString(h.Sum(nil)))
	}
	return b.String()
}
