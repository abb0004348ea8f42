package whip

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// Subscriber is a playback session on the emulator's subscribe path: it
// receives one participant's video and audio and counts what arrives.
type Subscriber struct {
	*session
}

// SubscribeURL returns the emulator's playback URL for a participant of the
// stage whose WHIP endpoint is whipURL: {whipURL}/subscribe/{participantID}.
func SubscribeURL(whipURL, participantID string) string {
	return strings.TrimRight(whipURL, "/") + "/subscribe/" + url.PathEscape(participantID)
}

// Subscribe POSTs a receive-only offer (H.264 and Opus) to
// SubscribeURL(whipURL, participantID) with a token that allows
// subscribing, WHEP-style: 201 with the answer and a Location, DELETE to
// end. It receives until ctx is done or Close is called; Stats counts the
// packets and bytes of each track. A refusal is a *RefusedError.
func Subscribe(ctx context.Context, whipURL, participantID, token string, o Options) (*Subscriber, error) {
	s, err := newSession(ctx, o, false)
	if err != nil {
		return nil, err
	}
	s.token = token
	sub := &Subscriber{session: s}
	recvonly := webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := s.pc.AddTransceiverFromKind(kind, recvonly); err != nil {
			s.abort()
			return nil, fmt.Errorf("whip: add a %s receiver: %w", kind, err)
		}
	}
	s.pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		s.spawn(func() { sub.receive(track) })
	})
	if err := s.negotiate(ctx, SubscribeURL(whipURL, participantID)); err != nil {
		s.abort()
		return nil, err
	}
	s.watch(ctx)
	return sub, nil
}

// receive counts a track's packets until the peer connection closes. A
// video track first asks for a keyframe, so the picture starts at once
// rather than at the publisher's next IDR.
func (sub *Subscriber) receive(track *webrtc.TrackRemote) {
	kind := track.Kind().String()
	if track.Kind() == webrtc.RTPCodecTypeVideo {
		sub.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(track.SSRC())}})
	}
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		sub.counters.count(kind, len(pkt.Payload))
	}
}
