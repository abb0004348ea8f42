package whip

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// Publisher is a WHIP session that sends a clip in a loop.
type Publisher struct {
	*session
	clip         *Clip
	video, audio *webrtc.TrackLocalStaticSample
	// keyframe is set by a PLI or FIR and cleared by the next picture.
	keyframe atomic.Bool
}

// Publish offers an H.264 video track and an Opus audio track to the WHIP
// endpoint at target, with the participant token as bearer (a token that
// allows publishing). It expects 201 Created with the SDP answer and a
// Location (relative to the URL that answered), and follows 307/308
// redirects with the token. Once connected it sends clip in real time,
// looping, until ctx is done or Close is called; either DELETEs the
// resource. A refusal is a *RefusedError.
func Publish(ctx context.Context, target, token string, clip *Clip, o Options) (*Publisher, error) {
	if clip == nil || len(clip.Video) == 0 || len(clip.Audio) == 0 {
		return nil, errors.New("whip: Publish needs a clip with video and audio")
	}
	s, err := newSession(ctx, o, true)
	if err != nil {
		return nil, err
	}
	s.token = token
	p := &Publisher{session: s, clip: clip}
	if err := p.addTracks(); err != nil {
		s.abort()
		return nil, err
	}
	if err := s.negotiate(ctx, target); err != nil {
		s.abort()
		return nil, err
	}
	s.watch(ctx)
	s.spawn(p.send)
	return p, nil
}

func (p *Publisher) addTracks() error {
	var err error
	if p.video, err = webrtc.NewTrackLocalStaticSample(h264Codec.RTPCodecCapability, "video", "ivslive"); err != nil {
		return fmt.Errorf("whip: %w", err)
	}
	if p.audio, err = webrtc.NewTrackLocalStaticSample(opusCodec.RTPCodecCapability, "audio", "ivslive"); err != nil {
		return fmt.Errorf("whip: %w", err)
	}
	sendonly := webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}
	for _, track := range []*webrtc.TrackLocalStaticSample{p.video, p.audio} {
		tr, err := p.pc.AddTransceiverFromTrack(track, sendonly)
		if err != nil {
			return fmt.Errorf("whip: add the %s track: %w", track.Kind(), err)
		}
		// RTCP must be read for the interceptors (NACK, reports) to see it;
		// the video's carries the keyframe requests. The reads end when the
		// peer connection closes.
		p.spawn(func() { p.readRTCP(tr.Sender()) })
	}
	return nil
}

func (p *Publisher) readRTCP(sender *webrtc.RTPSender) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				p.counters.update(func(s *Stats) { s.PLIs++ })
				p.keyframe.Store(true)
			}
		}
	}
}

// send paces the clip in real time from the moment the connection is up:
// picture n at start + n·frame, audio packet at start + loop·period +
// offset. A keyframe request makes the next picture the clip's next IDR,
// sent at once; the pictures it skipped are skipped in time too (the IDR
// is shown for their duration), so the sound and the picture stay in step.
func (p *Publisher) send() {
	select {
	case <-p.connected:
	case <-p.ctx.Done():
		return
	}
	c := p.clip
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	var slot, loop int64 // pictures sent or skipped; audio loops done
	pic, pkt := 0, 0
	for {
		videoAt := start.Add(time.Duration(slot) * c.FrameDuration)
		audioAt := start.Add(time.Duration(loop)*c.Period + c.Audio[pkt].Offset)
		at := videoAt
		if audioAt.Before(at) {
			at = audioAt
		}
		// Since Go 1.23 a Reset timer never delivers a stale tick.
		timer.Reset(time.Until(at))
		select {
		case <-timer.C:
		case <-p.ctx.Done():
			return
		}
		if !videoAt.After(audioAt) {
			advance := 1
			if p.keyframe.Swap(false) && !c.Video[pic].Keyframe {
				var skipped int
				pic, skipped = c.nextKeyframe(pic)
				advance += skipped
				p.counters.update(func(s *Stats) { s.Keyframes++ })
			}
			p.video.WriteSample(media.Sample{Data: c.Video[pic].Data, Duration: time.Duration(advance) * c.FrameDuration})
			slot += int64(advance)
			pic = (pic + 1) % len(c.Video)
			continue
		}
		next := c.Period
		if pkt+1 < len(c.Audio) {
			next = c.Audio[pkt+1].Offset
		}
		p.audio.WriteSample(media.Sample{Data: c.Audio[pkt].Data, Duration: next - c.Audio[pkt].Offset})
		if pkt++; pkt == len(c.Audio) {
			pkt, loop = 0, loop+1
		}
	}
}
