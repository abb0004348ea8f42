package http

import "time"

// SetPingInterval makes h ping the clients that connect afterwards every d,
// for tests whose load starves clients of CPU for longer than a ping's
// timeout: a drop for a missed pong is not what those tests look at.
func SetPingInterval(h *Hub, d time.Duration) { h.pingEvery.Store(int64(d)) }

// Reasons lists the reasons the catalog has words for.
func Reasons() []string {
	out := make([]string, 0, len(reasonText))
	for r := range reasonText {
		out = append(out, r)
	}
	return out
}
