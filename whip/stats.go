package whip

import (
	"strings"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

// TrackStats counts one track's RTP packets. Bytes are payload bytes, as
// WebRTC's getStats counts them (bytesSent, bytesReceived).
type TrackStats struct {
	Packets uint64
	Bytes   uint64
	// First and Last are when the first and the latest packet went out or
	// came in (zero before any).
	First, Last time.Time
}

// Stats is a snapshot of a session's counters.
type Stats struct {
	// State is the peer connection's state ("new", "connecting",
	// "connected", "disconnected", "failed", "closed").
	State        string
	Video, Audio TrackStats
	// PLIs counts the keyframe requests (PLI or FIR) a publisher received;
	// Keyframes the keyframes it sent early to answer them.
	PLIs, Keyframes uint64
}

// counters are a session's numbers, updated from pion's goroutines.
type counters struct {
	mu    sync.Mutex
	now   func() time.Time
	stats Stats
}

func (c *counters) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

func (c *counters) update(f func(*Stats)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.stats)
}

// count adds one packet of a track of kind "video" or "audio".
func (c *counters) count(kind string, payload int) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &c.stats.Audio
	if kind == "video" {
		t = &c.stats.Video
	}
	t.Packets++
	t.Bytes += uint64(payload)
	if t.First.IsZero() {
		t.First = now
	}
	t.Last = now
}

// counterFactory makes the interceptor that counts what a publisher sends,
// retransmissions included: what the application writes is a picture, not
// packets.
type counterFactory struct{ c *counters }

// NewInterceptor implements interceptor.Factory: one per peer connection.
func (f counterFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &counterInterceptor{c: f.c}, nil
}

type counterInterceptor struct {
	interceptor.NoOp
	c *counters
}

// BindLocalStream counts every packet written to a local stream.
func (i *counterInterceptor) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	kind := "audio"
	if strings.HasPrefix(strings.ToLower(info.MimeType), "video/") {
		kind = "video"
	}
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		n, err := w.Write(h, payload, a)
		if err == nil {
			i.c.count(kind, len(payload))
		}
		return n, err
	})
}
