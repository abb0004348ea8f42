package ivslive

import "crypto/rand"

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewParticipantID returns a random 16-character participant id from
// [A-Za-z0-9], valid for every IVS operation that takes a participant id
// (some of which forbid underscores). It lives in the domain so the core
// makes ids without importing the token signer and its JWT library.
func NewParticipantID() string { return RandomID(16) }

// RandomID returns n random characters from [A-Za-z0-9].
func RandomID(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails; see crypto/rand
	for i := range b {
		// 256 is not a multiple of 62; the bias (under 2%) is irrelevant for ids.
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b)
}
