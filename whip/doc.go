// Package whip is a WHIP client (RFC 9725) on pion/webrtc: Publish sends an
// H.264 and Opus clip to a WHIP endpoint with an IVS participant token, as
// OBS or a browser would, and Subscribe receives a participant's media on the
// IVS emulator's playback path ({whip_url}/subscribe/{participantId}, a
// WHEP-style exchange). Both count the RTP they send or receive, so tests and
// `ivslive publish` can tell that media flows.
//
// Sessions use host candidates only (loopback included; no STUN, no mDNS)
// and offer every candidate at once (no trickle). A session lives until its
// context is done or Close is called; either DELETEs the WHIP resource and
// frees the peer connection, its goroutines and its sockets.
//
// TestPattern is the clip built into the binary; clip/README.md says how it
// was made.
package whip
