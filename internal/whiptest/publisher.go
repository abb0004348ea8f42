package whiptest

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// mtu is the largest RTP payload the publisher sends.
const mtu = 1200

// StampMin is the smallest payload that carries a send time: smaller ones
// (the SPS and PPS aggregate) would lose fields the SFU reads.
const StampMin = 64

// PublishOptions shape the synthetic stream. The zero value sends 640×360
// baseline H.264 at 30 frames/s (a keyframe each second) and Opus frames of
// 20 ms.
type PublishOptions struct {
	Codecs Codecs
	// Width and Height go into the SPS; default 640×360.
	Width, Height int
	// SPSProfile is the SPS's profile_idc; default 66 (baseline).
	SPSProfile byte
	// BFrames makes every other frame a B slice.
	BFrames bool
	// FPS is the frame rate; default 30.
	FPS int
	// FrameBytes is the size of a P frame; a keyframe is four times it.
	// Default 1000.
	FrameBytes int
	// Stamp writes the send time (Unix nanoseconds) into the last 8 bytes
	// of every payload, for a subscriber to measure latency.
	Stamp bool
	// PaceBitrate, when set, spaces a frame's packets at this many bits
	// per second, as browsers' pacers do (about 2.5 times the target
	// bitrate); unset, a frame's packets leave back to back.
	PaceBitrate int
}

// Publisher is a pion WHIP client sending a synthetic stream.
type Publisher struct {
	opts      PublishOptions
	pc        *webrtc.PeerConnection
	video     *webrtc.TrackLocalStaticRTP
	audio     *webrtc.TrackLocalStaticRTP
	connected <-chan struct{}
	keyframe  atomic.Bool // a PLI asked for one
	plis      atomic.Uint64
	sent      atomic.Uint64
	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once

	// Resource is the WHIP resource URL after a successful Connect.
	Resource string
}

// NewPublisher builds the peer connection and its tracks.
func NewPublisher(opts PublishOptions) (*Publisher, error) {
	opts.Codecs = opts.Codecs.withDefaults()
	if opts.Width == 0 {
		opts.Width, opts.Height = 640, 360
	}
	if opts.SPSProfile == 0 {
		opts.SPSProfile = 66
	}
	if opts.FPS == 0 {
		opts.FPS = 30
	}
	if opts.FrameBytes == 0 {
		opts.FrameBytes = 1000
	}
	api, err := newAPI(opts.Codecs)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	p := &Publisher{opts: opts, pc: pc, stop: make(chan struct{})}
	p.connected = connectedSignal(pc)
	add := func(c webrtc.RTPCodecCapability, id string) (*webrtc.TrackLocalStaticRTP, error) {
		t, err := webrtc.NewTrackLocalStaticRTP(c, id, "whiptest")
		if err != nil {
			return nil, err
		}
		tr, err := pc.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return nil, err
		}
		p.wg.Add(1)
		go p.readRTCP(tr.Sender())
		return t, nil
	}
	if c, ok := opts.Codecs.video(); ok {
		if p.video, err = add(c, "video"); err != nil {
			p.Close()
			return nil, fmt.Errorf("video track: %w", err)
		}
	}
	if c, ok := opts.Codecs.audio(); ok {
		if p.audio, err = add(c, "audio"); err != nil {
			p.Close()
			return nil, fmt.Errorf("audio track: %w", err)
		}
	}
	return p, nil
}

// Offer returns a fresh SDP offer without sending it (for tests that post
// it themselves).
func (p *Publisher) Offer() (string, error) {
	return offer(p.pc)
}

// Connect posts the offer with token; on 201 it applies the answer and
// starts sending as soon as the connection is up.
func (p *Publisher) Connect(ctx context.Context, client *http.Client, endpoint, token string) (*Response, error) {
	resp, loc, err := connect(ctx, p.pc, client, endpoint, token)
	if err != nil || resp.Status != http.StatusCreated {
		return resp, err
	}
	p.Resource = loc
	p.wg.Add(1)
	go p.send()
	return resp, nil
}

// Connected is closed when the peer connection first connects.
func (p *Publisher) Connected() <-chan struct{} { return p.connected }

// KeyframeRequests returns the RTCP PLIs received so far.
func (p *Publisher) KeyframeRequests() uint64 { return p.plis.Load() }

// ResetStats zeroes the count of packets sent.
func (p *Publisher) ResetStats() { p.sent.Store(0) }

// Sent returns the RTP packets sent so far.
func (p *Publisher) Sent() uint64 { return p.sent.Load() }

// Delete ends the WHIP resource (the graceful way to stop publishing) and
// closes the peer connection.
func (p *Publisher) Delete(ctx context.Context, client *http.Client) (*Response, error) {
	resp, err := Delete(ctx, client, p.Resource, "")
	p.Close()
	return resp, err
}

// Close stops sending and closes the peer connection (DTLS close_notify),
// without telling the WHIP endpoint.
func (p *Publisher) Close() error {
	var err error
	p.closeOnce.Do(func() {
		close(p.stop)
		err = p.pc.GracefulClose()
		p.wg.Wait()
	})
	return err
}

// readRTCP watches for keyframe requests.
func (p *Publisher) readRTCP(s *webrtc.RTPSender) {
	defer p.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, _, err := s.Read(buf)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, pkt := range pkts {
			if _, ok := pkt.(*rtcp.PictureLossIndication); ok {
				p.keyframe.Store(true)
				p.plis.Add(1)
			}
		}
	}
}

// send paces frames in real time once connected: media is a real-time
// stream, so this is the one place a ticker is the point.
func (p *Publisher) send() {
	defer p.wg.Done()
	select {
	case <-p.connected:
	case <-p.stop:
		return
	}
	if p.audio != nil {
		p.wg.Add(1)
		go p.sendAudio()
	}
	if p.video == nil {
		return
	}
	frame := time.NewTicker(time.Second / time.Duration(p.opts.FPS))
	defer frame.Stop()
	var seq uint16
	var ts uint32
	for n := 0; ; n++ {
		select {
		case <-p.stop:
			return
		case <-frame.C:
		}
		payloads := p.frame(n)
		for i, pl := range payloads {
			p.write(p.video, &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts,
				Marker: i == len(payloads)-1}, Payload: pl})
			seq++
			if p.opts.PaceBitrate > 0 && i < len(payloads)-1 {
				// Space the packets as a WebRTC sender's pacer does.
				time.Sleep(time.Duration(len(pl)*8) * time.Second / time.Duration(p.opts.PaceBitrate))
			}
		}
		ts += uint32(90000 / p.opts.FPS)
	}
}

// sendAudio sends a 20 ms Opus-sized frame every 20 ms.
func (p *Publisher) sendAudio() {
	defer p.wg.Done()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	var seq uint16
	var ts uint32
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		pl := make([]byte, 80)
		pl[0] = 0xfc // Opus TOC: CELT fullband 20 ms, stereo
		p.write(p.audio, &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts}, Payload: pl})
		seq++
		ts += 960
	}
}

func (p *Publisher) write(t *webrtc.TrackLocalStaticRTP, pkt *rtp.Packet) {
	if p.opts.Stamp && len(pkt.Payload) >= StampMin {
		binary.BigEndian.PutUint64(pkt.Payload[len(pkt.Payload)-8:], uint64(time.Now().UnixNano()))
	}
	if err := t.WriteRTP(pkt); err == nil {
		p.sent.Add(1)
	}
}

// frame returns the RTP payloads of frame n: SPS and PPS in a STAP-A and an
// IDR slice each second (or when asked), P slices otherwise, and B slices on
// odd frames when BFrames is set.
func (p *Publisher) frame(n int) [][]byte {
	o := p.opts
	if n%o.FPS == 0 || p.keyframe.Swap(false) {
		out := [][]byte{stapA(SPS(o.SPSProfile, o.Width, o.Height), PPS())}
		return append(out, fragment(Slice(SliceI, true, 4*o.FrameBytes), mtu)...)
	}
	typ := uint(SliceP)
	if o.BFrames && n%2 == 1 {
		typ = SliceB
	}
	return fragment(Slice(typ, false, o.FrameBytes), mtu)
}
