package media

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// gatherTimeout bounds ICE gathering, which with one shared socket and host
// candidates only completes at once; it guards against a wedged agent.
const gatherTimeout = 5 * time.Second

// Hooks tell the owner of a peer connection what happens to it. They run on
// the media plane's goroutines, must not block, and must not call Close
// synchronously (Close waits for those goroutines): close from a goroutine
// of your own. No hook runs once Close has begun.
type Hooks struct {
	// Connected: ICE and DTLS are up (again), media can flow.
	Connected func()
	// Lost: ICE is disconnected or failed. The peer may still recover
	// (Connected again) until it is closed.
	Lost func()
	// Closed: the remote ended the connection (a DTLS close_notify, which
	// pion answers by closing the peer connection): it cannot recover.
	// When nil, Lost is called instead.
	Closed func()
	// Media: the publisher's first RTP packet arrived.
	Media func()
	// Refused: the publisher broke an ingest rule (code is the IVS error
	// code); nothing more of it is forwarded. Close the peer.
	Refused func(code string)
}

// Peer is one WHIP (publish) or WHEP-style (subscribe) peer connection.
type Peer struct {
	e         *Engine
	pc        *webrtc.PeerConnection
	hooks     Hooks
	src       *Source
	publisher bool
	videoSSRC atomic.Uint32 // the publisher's video SSRC, for PLIs
	sawMedia  atomic.Bool
	meter     meter

	mu      sync.Mutex
	closing bool
	wg      sync.WaitGroup // goroutines of ours that Close waits for
	refused bool
}

// Publish answers a WHIP offer: the returned peer feeds src with what the
// publisher sends. The offer should have passed CheckPublishOffer.
func (e *Engine) Publish(offer string, src *Source, hooks Hooks) (*Peer, string, error) {
	p, err := e.newPeer(src, hooks, true)
	if err != nil {
		return nil, "", err
	}
	p.pc.OnTrack(p.forward)
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		p.Close()
		return nil, "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	for _, t := range p.pc.GetTransceivers() {
		codecs := t.Receiver().GetParameters().Codecs
		if t.Kind() == webrtc.RTPCodecTypeVideo {
			// pion would also accept main or high profile as a partial
			// match; IVS takes baseline only.
			codecs = baselineOnly(codecs)
			if len(codecs) > 0 {
				_ = t.SetCodecPreferences(codecs)
			}
		}
		if len(codecs) > 0 {
			// Create the relay track now, with the codec the answer picks
			// (the offerer's first), so subscribers can bind before media.
			src.track(t.Kind(), codecs[0].RTPCodecCapability, e)
		}
	}
	answer, err := p.answer()
	if err != nil {
		p.Close()
		return nil, "", err
	}
	src.attach(p)
	return p, answer, nil
}

// Subscribe answers a subscriber's offer with src's relay tracks.
func (e *Engine) Subscribe(offer string, src *Source, hooks Hooks) (*Peer, string, error) {
	p, err := e.newPeer(src, hooks, false)
	if err != nil {
		return nil, "", err
	}
	for _, t := range src.Tracks() {
		sender, err := p.pc.AddTrack(t)
		if err != nil {
			p.Close()
			return nil, "", fmt.Errorf("add %s track: %w", t.Kind(), err)
		}
		if !p.begin() {
			return nil, "", errors.New("media engine closed")
		}
		go p.readRTCP(sender, t.Kind() == webrtc.RTPCodecTypeVideo)
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		p.Close()
		return nil, "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	answer, err := p.answer()
	if err != nil {
		p.Close()
		return nil, "", err
	}
	return p, answer, nil
}

func (e *Engine) newPeer(src *Source, hooks Hooks, publisher bool) (*Peer, error) {
	pc, err := e.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("new peer connection: %w", err)
	}
	p := &Peer{e: e, pc: pc, hooks: hooks, src: src, publisher: publisher}
	p.meter.limit, p.meter.window, p.meter.now = e.limits.MaxBitrate, e.limits.BitrateWindow, e.now
	if err := e.track(p); err != nil {
		pc.Close()
		return nil, err
	}
	pc.OnConnectionStateChange(p.onState)
	return p, nil
}

// answer completes the offer/answer exchange without trickle ICE: WHIP
// clients expect every candidate in the answer.
func (p *Peer) answer() (string, error) {
	ans, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(ans); err != nil {
		return "", fmt.Errorf("set local description: %w", err)
	}
	select {
	case <-gathered:
	case <-time.After(gatherTimeout):
		return "", errors.New("ICE gathering did not complete")
	}
	return p.pc.LocalDescription().SDP, nil
}

// Close ends the peer connection and waits for its goroutines. It is safe to
// call more than once and from any goroutine but a hook's own.
func (p *Peer) Close() error {
	p.mu.Lock()
	already := p.closing
	p.closing = true
	p.mu.Unlock()
	if already {
		p.wg.Wait()
		return nil
	}
	err := p.pc.GracefulClose()
	p.wg.Wait()
	if p.publisher {
		p.src.detach(p)
	}
	p.e.untrack(p)
	if err != nil {
		return fmt.Errorf("close peer connection: %w", err)
	}
	return nil
}

// begin registers a goroutine of ours, unless Close has begun.
func (p *Peer) begin() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return false
	}
	p.wg.Add(1)
	return true
}

func (p *Peer) onState(s webrtc.PeerConnectionState) {
	if !p.begin() {
		return
	}
	defer p.wg.Done()
	switch s {
	case webrtc.PeerConnectionStateConnected:
		if p.hooks.Connected != nil {
			p.hooks.Connected()
		}
	case webrtc.PeerConnectionStateClosed:
		// Our own Close never gets here (begin refuses once it began).
		if p.hooks.Closed != nil {
			p.hooks.Closed()
		} else if p.hooks.Lost != nil {
			p.hooks.Lost()
		}
	case webrtc.PeerConnectionStateDisconnected, webrtc.PeerConnectionStateFailed:
		if p.hooks.Lost != nil {
			p.hooks.Lost()
		}
	}
}

// forward reads one of the publisher's tracks and writes every packet to
// the source's relay track, which sends it to each subscriber.
func (p *Peer) forward(remote *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	if !p.begin() {
		return
	}
	defer p.wg.Done()
	video := remote.Kind() == webrtc.RTPCodecTypeVideo
	local := p.src.track(remote.Kind(), remote.Codec().RTPCodecCapability, p.e)
	if video {
		p.videoSSRC.Store(uint32(remote.SSRC()))
		p.src.videoArrived()
	}
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := remote.Read(buf)
		if err != nil {
			return
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			continue
		}
		if !p.sawMedia.Swap(true) && p.hooks.Media != nil {
			p.hooks.Media()
		}
		code := p.meter.add(n)
		if code == "" && video {
			code = p.checkVideo(pkt.Payload)
		}
		if code != "" {
			p.refuse(code)
			return
		}
		local.WriteRTP(&pkt)
		p.src.tapped(video, &pkt)
	}
}

// checkVideo applies the H.264 rules to one packet's payload. Payloads that
// do not parse are forwarded as they are: the decoder is the judge of those.
func (p *Peer) checkVideo(payload []byte) string {
	v, err := inspectH264(payload)
	if err != nil {
		return ""
	}
	if v.code != "" {
		return v.code
	}
	if f := v.sps; f != nil {
		if f.profile != profileBaseline {
			return ErrInvalidVideoCodec
		}
		long, short := max(f.width, f.height), min(f.width, f.height)
		if long > p.e.limits.MaxWidth || short > p.e.limits.MaxHeight {
			return ErrResolutionExceed
		}
	}
	return ""
}

// refuse reports a broken rule once; the caller stops forwarding.
func (p *Peer) refuse(code string) {
	p.mu.Lock()
	first := !p.refused
	p.refused = true
	p.mu.Unlock()
	if first && p.hooks.Refused != nil {
		p.hooks.Refused(code)
	}
}

// readRTCP drains a subscriber's RTCP (the interceptors need it read) and
// passes keyframe requests on to the publisher.
func (p *Peer) readRTCP(sender *webrtc.RTPSender, video bool) {
	defer p.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, _, err := sender.Read(buf)
		if err != nil {
			return
		}
		if !video {
			continue
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				p.src.RequestKeyframe()
			}
		}
	}
}

// baselineOnly keeps the H.264 baseline and constrained baseline formats.
func baselineOnly(codecs []webrtc.RTPCodecParameters) []webrtc.RTPCodecParameters {
	var out []webrtc.RTPCodecParameters
	for _, c := range codecs {
		if strings.EqualFold(c.MimeType, webrtc.MimeTypeH264) && isBaselineH264("H264", c.SDPFmtpLine) {
			out = append(out, c)
		}
	}
	return out
}

// meter enforces the bitrate limit over fixed windows of real time.
type meter struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	start time.Time
	bytes int
}

// add counts one packet and reports BITRATE_EXCEEDED when a window just
// closed above the limit.
func (m *meter) add(n int) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if m.start.IsZero() {
		m.start = now
	}
	m.bytes += n
	elapsed := now.Sub(m.start)
	if elapsed < m.window {
		return ""
	}
	bits := float64(m.bytes) * 8 / elapsed.Seconds()
	m.start, m.bytes = now, 0
	if bits > float64(m.limit) {
		return ErrBitrateExceeded
	}
	return ""
}
