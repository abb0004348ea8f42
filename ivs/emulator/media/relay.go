package media

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// relayQueue bounds the packets waiting for one shard's worker: about a
// quarter of a second of 720p video. When it is full the packet is dropped
// for that shard (and counted): real-time media would rather lose a packet,
// which NACK may repair, than fall ever further behind.
const relayQueue = 64

// relayTrack is the track every subscriber of one kind binds to. Writing a
// packet copies it once; shards, each with a worker goroutine, write it to
// their subscribers (SRTP and all), so a fan-out uses every core and the
// publisher's read loop never waits for subscribers one by one. A
// subscriber always belongs to the same shard, so its packets stay in order.
// A shard's worker runs only while it has subscribers.
type relayTrack struct {
	delays       *Delays
	dropped      *atomic.Uint64 // the engine's count of packets dropped
	flush        func()         // sends what the socket has queued
	codec        webrtc.RTPCodecCapability
	id, streamID string
	kind         webrtc.RTPCodecType
	pool         sync.Pool
	shards       []*shard
	next         atomic.Uint32 // round-robin shard for the next binding
}

// shard is a set of subscribers served by one worker.
type shard struct {
	mu       sync.Mutex
	bindings []binding
	queue    chan *relayPacket // nil while no worker runs
	stop     chan struct{}
	done     chan struct{}
}

// binding is one subscriber's stream: its SSRC, payload type and writer,
// and the header it is sent with, reused for every packet (only its shard's
// worker writes it, and the write path copies what it keeps).
type binding struct {
	id     string
	ssrc   webrtc.SSRC
	pt     webrtc.PayloadType
	w      webrtc.TrackLocalWriter
	header *rtp.Header
}

// relayPacket is one packet shared by every shard that sends it.
type relayPacket struct {
	header  rtp.Header
	payload []byte
	buf     *[]byte
	refs    atomic.Int32
	arrived time.Time // set only when delays are recorded
}

func newRelayTrack(codec webrtc.RTPCodecCapability, kind webrtc.RTPCodecType, id, streamID string, e *Engine) *relayTrack {
	t := &relayTrack{codec: codec, id: id, streamID: streamID, kind: kind, delays: e.delays, dropped: e.dropped, flush: e.batch.Flush}
	t.pool.New = func() any { b := make([]byte, 0, maxDatagram); return &b }
	n := max(1, runtime.GOMAXPROCS(0))
	for range n {
		t.shards = append(t.shards, &shard{})
	}
	return t
}

// Bind picks the subscriber's payload type for the codec (the same H.264
// profile and packetization mode if offered, else any H.264; Opus for
// audio) and adds the subscriber to a shard.
func (t *relayTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, ok := matchCodec(t.codec, ctx.CodecParameters())
	if !ok {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	sh := t.shards[int(t.next.Add(1))%len(t.shards)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.bindings = append(sh.bindings, binding{id: ctx.ID(), ssrc: ctx.SSRC(), pt: codec.PayloadType, w: ctx.WriteStream(), header: new(rtp.Header)})
	if sh.queue == nil {
		sh.queue, sh.stop, sh.done = make(chan *relayPacket, relayQueue), make(chan struct{}), make(chan struct{})
		go sh.work(sh.queue, sh.stop, sh.done, t)
	}
	return codec, nil
}

// Unbind removes a subscriber; the last one of a shard stops its worker.
func (t *relayTrack) Unbind(ctx webrtc.TrackLocalContext) error {
	for _, sh := range t.shards {
		sh.mu.Lock()
		for i, b := range sh.bindings {
			if b.id != ctx.ID() {
				continue
			}
			sh.bindings = append(sh.bindings[:i], sh.bindings[i+1:]...)
			var stop, done chan struct{}
			if len(sh.bindings) == 0 {
				stop, done = sh.stop, sh.done
				sh.queue, sh.stop, sh.done = nil, nil, nil
			}
			sh.mu.Unlock()
			if stop != nil {
				close(stop)
				<-done
			}
			return nil
		}
		sh.mu.Unlock()
	}
	return errors.New("media: unbind of a subscriber that is not bound")
}

func (t *relayTrack) ID() string                { return t.id }
func (t *relayTrack) RID() string               { return "" }
func (t *relayTrack) StreamID() string          { return t.streamID }
func (t *relayTrack) Kind() webrtc.RTPCodecType { return t.kind }

// WriteRTP hands a packet to every shard with subscribers. The packet and
// its payload may be reused by the caller as soon as it returns.
func (t *relayTrack) WriteRTP(p *rtp.Packet) {
	if len(p.Payload) > maxDatagram {
		return
	}
	type target struct {
		queue chan *relayPacket
		stop  chan struct{}
	}
	var targets [8]target
	active := targets[:0]
	for _, sh := range t.shards {
		sh.mu.Lock()
		if sh.queue != nil {
			active = append(active, target{sh.queue, sh.stop})
		}
		sh.mu.Unlock()
	}
	if len(active) == 0 {
		return
	}
	rp := &relayPacket{header: p.Header, buf: t.pool.Get().(*[]byte)}
	if t.delays != nil {
		rp.arrived = time.Now()
	}
	rp.payload = append((*rp.buf)[:0], p.Payload...)
	rp.refs.Store(int32(len(active)))
	for _, tg := range active {
		select {
		case tg.queue <- rp:
		case <-tg.stop: // the shard's last subscriber left meanwhile
			t.release(rp)
		default:
			t.dropped.Add(1)
			t.release(rp)
		}
	}
}

func (t *relayTrack) release(rp *relayPacket) {
	if rp.refs.Add(-1) == 0 {
		*rp.buf = rp.payload[:0]
		t.pool.Put(rp.buf)
	}
}

// work writes each queued packet to the shard's subscribers until stopped.
func (sh *shard) work(queue chan *relayPacket, stop, done chan struct{}, t *relayTrack) {
	defer close(done)
	var bindings []binding
	for {
		select {
		case <-stop:
			// Drain what was queued so the payload buffers go back.
			for {
				select {
				case rp := <-queue:
					t.release(rp)
				default:
					return
				}
			}
		case rp := <-queue:
			sh.mu.Lock()
			bindings = append(bindings[:0], sh.bindings...)
			sh.mu.Unlock()
			for _, b := range bindings {
				*b.header = rp.header
				b.header.SSRC, b.header.PayloadType = uint32(b.ssrc), uint8(b.pt)
				// A failed write is a subscriber going away; it is unbound
				// when its connection closes.
				_, _ = b.w.WriteRTP(b.header, rp.payload)
				if t.delays != nil {
					t.delays.addForward(time.Since(rp.arrived))
				}
			}
			// Send now, in this goroutine's time slice.
			t.flush()
			t.release(rp)
		}
	}
}

// matchCodec finds the negotiated codec to send want as: for H.264 the same
// profile and packetization mode first, then any H.264; otherwise the same
// MIME type.
func matchCodec(want webrtc.RTPCodecCapability, have []webrtc.RTPCodecParameters) (webrtc.RTPCodecParameters, bool) {
	var fallback *webrtc.RTPCodecParameters
	for i, c := range have {
		if !strings.EqualFold(c.MimeType, want.MimeType) {
			continue
		}
		if !strings.EqualFold(want.MimeType, webrtc.MimeTypeH264) {
			return c, true
		}
		if h264Key(c.SDPFmtpLine) == h264Key(want.SDPFmtpLine) {
			return c, true
		}
		if fallback == nil {
			fallback = &have[i]
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return webrtc.RTPCodecParameters{}, false
}

// h264Key is what two H.264 formats must share to be the same stream: the
// profile (first two bytes of profile-level-id) and the packetization mode.
func h264Key(fmtp string) string {
	var profile, mode string
	for _, p := range strings.Split(fmtp, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "profile-level-id":
			if len(v) >= 4 {
				profile = strings.ToLower(v[:4])
			}
		case "packetization-mode":
			mode = v
		}
	}
	return profile + "/" + mode
}
