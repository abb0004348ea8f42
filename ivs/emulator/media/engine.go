// Package media is the emulator's media plane: a small selective forwarding
// unit on pion/webrtc. A publisher's WHIP peer connection feeds a Source;
// each subscriber's peer connection receives the Source's RTP as it arrives
// (no transcoding, no buffering beyond the NACK history). It checks the media
// rules IVS enforces on WHIP ingest (H.264 baseline without B-frames up to
// 720p and 8.5 Mbps, Opus audio) and reports a violation with IVS's error
// code. It knows nothing of stages, tokens or participants: the emulator
// package maps its hooks onto the participant lifecycle.
package media

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/webrtc/v4"
)

// Error codes of the model's EventErrorCode that the media plane detects.
const (
	ErrInvalidVideoCodec = "INVALID_VIDEO_CODEC"
	ErrInvalidAudioCodec = "INVALID_AUDIO_CODEC"
	ErrBFramePresent     = "B_FRAME_PRESENT"
	ErrResolutionExceed  = "RESOLUTION_EXCEEDED"
	ErrBitrateExceeded   = "BITRATE_EXCEEDED"
)

// Limits are IVS's WHIP ingest limits ("IVS Stream Ingest", service quotas).
type Limits struct {
	// MaxWidth and MaxHeight bound the coded picture, in either
	// orientation (720p: 1280×720 or 720×1280). Default 1280 and 720.
	MaxWidth, MaxHeight int
	// MaxBitrate is the most bits per second a publisher may send, audio and
	// video together, averaged over BitrateWindow. Default 8.5 Mbps.
	MaxBitrate int
	// BitrateWindow is the averaging window. Default 2 s.
	BitrateWindow time.Duration
}

// Config configures an Engine.
type Config struct {
	// Addr is the UDP address every peer connection shares (one socket,
	// demultiplexed by ICE username): an IP the clients can reach and a
	// port, "127.0.0.1:0" by default. The IP is the only host candidate
	// offered, so it must be a specific address, not 0.0.0.0.
	Addr string
	// Limits are the ingest limits; zero fields take IVS's values.
	Limits Limits
	// Logger receives the media plane's logs. Default discards them.
	Logger *slog.Logger
	// Now is the clock for keyframe-request pacing and bitrate windows:
	// media time is real time, so this is the wall clock except in tests.
	Now func() time.Time
	// Delays, when set, records forwarding delays (benchmarks).
	Delays *Delays
}

// Engine owns the UDP socket and the pion API every peer connection is made
// with. Create it with NewEngine; it is safe for concurrent use.
type Engine struct {
	api    *webrtc.API
	conn   *net.UDPConn
	mux    ice.UDPMux
	limits Limits
	log    *slog.Logger
	now    func() time.Time
	delays *Delays
	batch  *batchConn
	// dropped counts packets the forwarding queues had no room for.
	dropped *atomic.Uint64

	mu     sync.Mutex
	peers  map[*Peer]struct{}
	closed bool
}

// NewEngine binds the shared UDP socket and builds the pion API.
func NewEngine(cfg Config) (*Engine, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &cfg.Limits
	if l.MaxWidth <= 0 {
		l.MaxWidth = 1280
	}
	if l.MaxHeight <= 0 {
		l.MaxHeight = 720
	}
	if l.MaxBitrate <= 0 {
		l.MaxBitrate = 8_500_000
	}
	if l.BitrateWindow <= 0 {
		l.BitrateWindow = 2 * time.Second
	}
	addr, err := net.ResolveUDPAddr("udp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("media address %q: %w", cfg.Addr, err)
	}
	if addr.IP == nil || addr.IP.IsUnspecified() {
		return nil, fmt.Errorf("media address %q: name the IP clients reach, not an unspecified address", cfg.Addr)
	}
	conn, err := net.ListenUDP("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for media on %s: %w", cfg.Addr, err)
	}
	dropped := new(atomic.Uint64)
	batch := newBatchConn(conn, cfg.Delays, dropped)
	api, mux, err := newAPI(batch)
	if err != nil {
		batch.Close()
		return nil, err
	}
	return &Engine{api: api, conn: conn, batch: batch, mux: mux, limits: cfg.Limits, log: cfg.Logger, now: cfg.Now, delays: cfg.Delays,
		dropped: dropped, peers: make(map[*Peer]struct{})}, nil
}

// newAPI registers the codecs IVS accepts on WHIP and the interceptors a
// forwarding unit needs: NACKs toward the publisher, a small retransmission
// history toward subscribers, and RTCP reports both ways.
func newAPI(conn *batchConn) (*webrtc.API, ice.UDPMux, error) {
	m := &webrtc.MediaEngine{}
	if err := registerCodecs(m); err != nil {
		return nil, nil, err
	}
	reg := &interceptor.Registry{}
	gen, err := nack.NewGeneratorInterceptor()
	if err != nil {
		return nil, nil, fmt.Errorf("nack generator: %w", err)
	}
	// 128 packets is about a second of 720p video: enough to repair loss on
	// a LAN, and a bounded copy per subscriber.
	resp, err := nack.NewResponderInterceptor(nack.ResponderSize(128))
	if err != nil {
		return nil, nil, fmt.Errorf("nack responder: %w", err)
	}
	recv, err := report.NewReceiverInterceptor()
	if err != nil {
		return nil, nil, fmt.Errorf("receiver reports: %w", err)
	}
	send, err := report.NewSenderInterceptor()
	if err != nil {
		return nil, nil, fmt.Errorf("sender reports: %w", err)
	}
	reg.Add(gen)
	reg.Add(resp)
	reg.Add(recv)
	reg.Add(send)

	var s webrtc.SettingEngine
	// One socket for every peer: one port to open on a LAN firewall, one
	// read loop, batched writes (batch.go), and nothing left bound after
	// Close. Host candidates only,
	// no mDNS (which would bind a multicast socket), no TCP, no STUN.
	mux := webrtc.NewICEUDPMux(nil, conn)
	s.SetICEUDPMux(mux)
	s.SetIncludeLoopbackCandidate(true)
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	// Disconnected after 4 s without consent, failed after 12 s: the
	// emulator then applies its own (clock-driven) loss timeout.
	s.SetICETimeouts(4*time.Second, 12*time.Second, 2*time.Second)
	// A publisher or subscriber that goes away should close by DTLS
	// close_notify, which pion turns into a closed peer connection.
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(s)), mux, nil
}

// registerCodecs accepts only what IVS documents for WHIP: H.264 baseline
// (and constrained baseline) in both packetization modes, and Opus. pion
// matches H.264 by profile, so an offer of only main or high profile finds
// no codec.
func registerCodecs(m *webrtc.MediaEngine) error {
	videoFB := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}}
	h264 := []struct {
		pt   webrtc.PayloadType
		fmtp string
	}{
		{102, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"},
		{103, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f"},
		{104, "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f"},
		{105, "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f"},
	}
	for _, c := range h264 {
		err := m.RegisterCodec(webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: c.fmtp, RTCPFeedback: videoFB},
			PayloadType:        c.pt,
		}, webrtc.RTPCodecTypeVideo)
		if err != nil {
			return fmt.Errorf("register H.264: %w", err)
		}
	}
	err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType:        111,
	}, webrtc.RTPCodecTypeAudio)
	if err != nil {
		return fmt.Errorf("register Opus: %w", err)
	}
	return nil
}

// Addr returns the UDP address the engine's candidates carry.
func (e *Engine) Addr() *net.UDPAddr {
	return e.conn.LocalAddr().(*net.UDPAddr)
}

// Dropped returns how many packets were dropped for subscribers because a
// forwarding queue was full (the machine could not keep up).
func (e *Engine) Dropped() uint64 { return e.dropped.Load() }

// Sent returns how many datagrams the engine's socket has sent.
func (e *Engine) Sent() uint64 { return e.batch.sent.Load() }

// Peers returns the number of open peer connections.
func (e *Engine) Peers() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.peers)
}

// Close closes every peer connection, then the socket. It waits for the
// goroutines the engine started.
func (e *Engine) Close() error {
	e.mu.Lock()
	e.closed = true
	peers := make([]*Peer, 0, len(e.peers))
	for p := range e.peers {
		peers = append(peers, p)
	}
	e.mu.Unlock()
	var errs []error
	for _, p := range peers {
		errs = append(errs, p.Close())
	}
	errs = append(errs, e.mux.Close())
	// The mux closes the socket; a second close only reports that.
	if err := e.conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// track registers p so Close can reach it; it fails once the engine closed.
func (e *Engine) track(p *Peer) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errors.New("media engine closed")
	}
	e.peers[p] = struct{}{}
	return nil
}

func (e *Engine) untrack(p *Peer) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.peers, p)
}
