package whipfake

import (
	"fmt"
	"sync"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// newPeerConnection answers with what IVS takes over WHIP, H.264
// constrained baseline and Opus, on host candidates (loopback included).
func newPeerConnection() (*webrtc.PeerConnection, error) {
	m := &webrtc.MediaEngine{}
	fb := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{PayloadType: 96, RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeH264, ClockRate: 90000, RTCPFeedback: fb,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, err
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		return nil, err
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se)).
		NewPeerConnection(webrtc.Configuration{})
}

// publisher is a publishing peer and the tracks its subscribers get.
type publisher struct {
	peer
	participant  string
	video, audio *webrtc.TrackLocalStaticRTP

	mu        sync.Mutex
	videoSSRC webrtc.SSRC
	base      uint32 // the first video packet's RTP timestamp
	started   bool
	keyframes []uint32 // RTP timestamps of IDR pictures, from base
	packets   map[string]int
}

func newPublisher() (*publisher, error) {
	pc, err := newPeerConnection()
	if err != nil {
		return nil, err
	}
	pub := &publisher{peer: peer{pc: pc}, packets: map[string]int{}}
	if pub.video, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}, "video", "whipfake"); err != nil {
		pc.Close()
		return nil, err
	}
	if pub.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2},
		"audio", "whipfake"); err != nil {
		pc.Close()
		return nil, err
	}
	pc.OnTrack(func(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
		go drainRTCP(receiver.ReadRTCP)
		pub.forward(remote)
	})
	return pub, nil
}

// forward copies a publisher's track to its local twin until the peer
// connection closes, noting keyframes.
func (pub *publisher) forward(remote *webrtc.TrackRemote) {
	kind := remote.Kind().String()
	local := pub.audio
	if remote.Kind() == webrtc.RTPCodecTypeVideo {
		local = pub.video
		pub.mu.Lock()
		pub.videoSSRC = remote.SSRC()
		pub.mu.Unlock()
	}
	for {
		pkt, _, err := remote.ReadRTP()
		if err != nil {
			return
		}
		pub.mu.Lock()
		pub.packets[kind]++
		if remote.Kind() == webrtc.RTPCodecTypeVideo {
			if !pub.started {
				pub.base, pub.started = pkt.Timestamp, true
			}
			if ts := pkt.Timestamp - pub.base; isIDRStart(pkt.Payload) && (len(pub.keyframes) == 0 || pub.keyframes[len(pub.keyframes)-1] != ts) {
				pub.keyframes = append(pub.keyframes, ts)
			}
		}
		pub.mu.Unlock()
		pkt.Header.Extension, pkt.Header.Extensions = false, nil
		local.WriteRTP(pkt)
	}
}

// requestKeyframe sends the publisher a PLI.
func (pub *publisher) requestKeyframe() error {
	pub.mu.Lock()
	ssrc := pub.videoSSRC
	pub.mu.Unlock()
	if ssrc == 0 {
		return fmt.Errorf("participant %s has sent no video yet", pub.participant)
	}
	return pub.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(ssrc)}})
}

// subscriber answers a playback offer with the publisher's tracks, and
// passes its keyframe requests on to the publisher.
func (pub *publisher) subscriber(offer string) (*peer, error) {
	pc, err := newPeerConnection()
	if err != nil {
		return nil, err
	}
	sub := &peer{pc: pc}
	err = sub.answerOffer(offer, func() error {
		for _, t := range []*webrtc.TrackLocalStaticRTP{pub.video, pub.audio} {
			sender, err := pc.AddTrack(t)
			if err != nil {
				return fmt.Errorf("add the %s track: %w", t.Kind(), err)
			}
			go drainRTCP(func() ([]rtcp.Packet, interceptor.Attributes, error) {
				pkts, a, err := sender.ReadRTCP()
				for _, p := range pkts {
					switch p.(type) {
					case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
						pub.requestKeyframe()
					}
				}
				return pkts, a, err
			})
		}
		return nil
	})
	if err != nil {
		pc.GracefulClose()
		return nil, err
	}
	return sub, nil
}

// drainRTCP reads RTCP until the peer connection closes: the interceptors
// (NACK, reports) only see what is read.
func drainRTCP(read func() ([]rtcp.Packet, interceptor.Attributes, error)) {
	for {
		if _, _, err := read(); err != nil {
			return
		}
	}
}

// isIDRStart reports whether an H.264 RTP payload (RFC 6184) starts an IDR
// slice: a single NAL unit of type 5, a STAP-A holding one, or the first
// fragment of an FU-A of one.
func isIDRStart(p []byte) bool {
	if len(p) < 2 {
		return false
	}
	switch p[0] & 0x1f {
	case 5:
		return true
	case 24:
		for i := 1; i+2 < len(p); {
			size := int(p[i])<<8 | int(p[i+1])
			if p[i+2]&0x1f == 5 {
				return true
			}
			i += 2 + size
		}
	case 28:
		return p[1]&0x80 != 0 && p[1]&0x1f == 5
	}
	return false
}

// Keyframes returns the RTP timestamps (90 kHz, from the first video
// packet) of the IDR pictures a participant has published.
func (a *Answerer) Keyframes(participant string) []uint32 {
	pub := a.publisher(participant)
	if pub == nil {
		return nil
	}
	pub.mu.Lock()
	defer pub.mu.Unlock()
	return append([]uint32(nil), pub.keyframes...)
}

// Packets returns how many video and audio RTP packets a participant has
// published.
func (a *Answerer) Packets(participant string) (video, audio int) {
	pub := a.publisher(participant)
	if pub == nil {
		return 0, 0
	}
	pub.mu.Lock()
	defer pub.mu.Unlock()
	return pub.packets["video"], pub.packets["audio"]
}

// RequestKeyframe sends a participant a PLI, as a subscriber would.
func (a *Answerer) RequestKeyframe(participant string) error {
	pub := a.publisher(participant)
	if pub == nil {
		return fmt.Errorf("participant %s is not publishing", participant)
	}
	return pub.requestKeyframe()
}

func (a *Answerer) publisher(participant string) *publisher {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.publishers[participant]
}
