package app

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"

	"github.com/ivslive/ivslive/token"
)

type ecdsaKey = ecdsa.PrivateKey

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// writeSecretFile writes a file only its owner can read, atomically.
func writeSecretFile(path string, data []byte) error {
	return token.WriteFileAtomic(path, data, 0o600)
}

func trimNewline(b []byte) []byte { return bytes.TrimRight(b, "\r\n") }
