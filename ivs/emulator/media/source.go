package media

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// keyframeInterval is the least time between two keyframe requests sent to a
// publisher: a crowd of subscribers joining at once costs one keyframe, not
// one each.
const keyframeInterval = 500 * time.Millisecond

// Source is what one publishing participant offers subscribers: a relay
// track per kind that outlives the publisher's peer connection, so a
// publisher that reconnects (or a replica whose source comes back within its
// reconnect window) keeps feeding the subscribers it had.
type Source struct {
	id  string
	now func() time.Time

	mu      sync.Mutex
	video   *relayTrack
	audio   *relayTrack
	pub     *Peer // the peer connection feeding it now, if any
	lastPLI time.Time
	pliDue  bool // a keyframe was asked for before the publisher's video arrived
	taps    atomic.Pointer[[]*tapEntry]
}

// NewSource returns an empty source; id names its stream in subscribers'
// SDP (the participant id is a good choice). now paces keyframe requests;
// nil means the wall clock.
func NewSource(id string, now func() time.Time) *Source {
	if now == nil {
		now = time.Now
	}
	return &Source{id: id, now: now}
}

// Tracks returns the relay tracks that exist, video first.
func (s *Source) Tracks() []webrtc.TrackLocal {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []webrtc.TrackLocal
	if s.video != nil {
		out = append(out, s.video)
	}
	if s.audio != nil {
		out = append(out, s.audio)
	}
	return out
}

// HasMedia reports whether a publisher ever negotiated a track here.
func (s *Source) HasMedia() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.video != nil || s.audio != nil
}

// track returns the relay track for a kind, creating it with codec the first
// time. A reconnecting publisher reuses the track even if its fmtp differs a
// little (another packetization mode or baseline flavour): every H.264
// decoder that takes one takes the other.
func (s *Source) track(kind webrtc.RTPCodecType, codec webrtc.RTPCodecCapability, e *Engine) *relayTrack {
	s.mu.Lock()
	defer s.mu.Unlock()
	slot := &s.audio
	if kind == webrtc.RTPCodecTypeVideo {
		slot = &s.video
	}
	if *slot == nil {
		codec.RTCPFeedback = nil
		*slot = newRelayTrack(codec, kind, strings.ToLower(kind.String()), s.id, e)
	}
	return *slot
}

// attach makes p the publisher feeding the source.
func (s *Source) attach(p *Peer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pub = p
}

// detach forgets p if it is still the publisher.
func (s *Source) detach(p *Peer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pub == p {
		s.pub = nil
	}
}

// RequestKeyframe asks the publisher for a keyframe (RTCP PLI), at most once
// per keyframeInterval, so that a subscriber who just joined can start
// decoding. Asked before the publisher's video arrived, the request is sent
// as soon as it does.
func (s *Source) RequestKeyframe() {
	s.mu.Lock()
	pub := s.pub
	now := s.now()
	if pub == nil || now.Sub(s.lastPLI) < keyframeInterval {
		s.pliDue = pub == nil
		s.mu.Unlock()
		return
	}
	ssrc := pub.videoSSRC.Load()
	if ssrc == 0 {
		s.pliDue = true
		s.mu.Unlock()
		return
	}
	s.lastPLI, s.pliDue = now, false
	s.mu.Unlock()
	// A failed write means the publisher is going away; its successor gets
	// the next request.
	_ = pub.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
}

// videoArrived sends a keyframe request that was asked for too early.
func (s *Source) videoArrived() {
	s.mu.Lock()
	due := s.pliDue
	s.mu.Unlock()
	if due {
		s.RequestKeyframe()
	}
}

// Tap receives every RTP packet the publisher sends, on the publisher's
// read goroutine: it must be quick and must not block (the emulator's HLS
// remuxer appends to memory). The packet is reused once it returns.
type Tap func(video bool, p *rtp.Packet)

// tapEntry gives each added tap an identity for removal.
type tapEntry struct{ fn Tap }

// AddTap adds fn to the source's taps until remove is called. Taps outlive
// the publisher's peer connection, like the relay tracks.
func (s *Source) AddTap(fn Tap) (remove func()) {
	t := &tapEntry{fn: fn}
	s.mu.Lock()
	next := append(slices.Clone(s.loadTaps()), t)
	s.taps.Store(&next)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		next := slices.DeleteFunc(slices.Clone(s.loadTaps()), func(x *tapEntry) bool { return x == t })
		s.taps.Store(&next)
	}
}

func (s *Source) loadTaps() []*tapEntry {
	if p := s.taps.Load(); p != nil {
		return *p
	}
	return nil
}

// tapped hands a packet to every tap; without taps it costs one atomic load.
func (s *Source) tapped(video bool, p *rtp.Packet) {
	for _, t := range s.loadTaps() {
		t.fn(video, p)
	}
}
