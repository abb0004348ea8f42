package whiptest

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Subscriber is a pion client receiving a publisher's tracks and counting
// the RTP it gets.
type Subscriber struct {
	pc        *webrtc.PeerConnection
	stamp     bool
	connected <-chan struct{}
	packets   atomic.Uint64
	bytes     atomic.Uint64
	video     atomic.Uint64
	wg        sync.WaitGroup
	closeOnce sync.Once

	mu      sync.Mutex
	latency []time.Duration
	closed  bool

	// Resource is the resource URL after a successful Connect.
	Resource string
}

// NewSubscriber builds a receive-only peer connection for c's video and
// audio. With stamp set it reads send times written by a Publisher with
// Stamp, for Latencies.
func NewSubscriber(c Codecs, stamp bool) (*Subscriber, error) {
	c = c.withDefaults()
	api, err := newAPI(c)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	s := &Subscriber{pc: pc, stamp: stamp}
	s.connected = connectedSignal(pc)
	recv := webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}
	if _, ok := c.video(); ok {
		if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, recv); err != nil {
			pc.Close()
			return nil, fmt.Errorf("video transceiver: %w", err)
		}
	}
	if _, ok := c.audio(); ok {
		if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, recv); err != nil {
			pc.Close()
			return nil, fmt.Errorf("audio transceiver: %w", err)
		}
	}
	pc.OnTrack(s.read)
	return s, nil
}

// Connect posts the offer to a subscribe endpoint with token.
func (s *Subscriber) Connect(ctx context.Context, client *http.Client, endpoint, token string) (*Response, error) {
	resp, loc, err := connect(ctx, s.pc, client, endpoint, token)
	if err == nil && resp.Status == http.StatusCreated {
		s.Resource = loc
	}
	return resp, err
}

// Connected is closed when the peer connection first connects.
func (s *Subscriber) Connected() <-chan struct{} { return s.connected }

// Received returns the RTP packets and payload bytes received so far, and
// how many of the packets were video.
func (s *Subscriber) Received() (packets, bytes, video uint64) {
	return s.packets.Load(), s.bytes.Load(), s.video.Load()
}

// ResetStats zeroes the counters and forgets the latencies, to measure a
// window that starts now.
func (s *Subscriber) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.packets.Store(0)
	s.bytes.Store(0)
	s.video.Store(0)
	s.latency = s.latency[:0]
}

// Latencies returns the send-to-receive times of the stamped packets.
func (s *Subscriber) Latencies() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.latency)
}

// Delete ends the resource and closes the peer connection.
func (s *Subscriber) Delete(ctx context.Context, client *http.Client) (*Response, error) {
	resp, err := Delete(ctx, client, s.Resource, "")
	s.Close()
	return resp, err
}

// Close closes the peer connection without telling the endpoint.
func (s *Subscriber) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		err = s.pc.GracefulClose()
		s.wg.Wait()
	})
	return err
}

func (s *Subscriber) read(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	video := t.Kind() == webrtc.RTPCodecTypeVideo
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			return
		}
		now := time.Now()
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			continue
		}
		s.packets.Add(1)
		s.bytes.Add(uint64(len(pkt.Payload)))
		if video {
			s.video.Add(1)
		}
		if s.stamp && len(pkt.Payload) >= StampMin {
			sent := int64(binary.BigEndian.Uint64(pkt.Payload[len(pkt.Payload)-8:]))
			s.mu.Lock()
			s.latency = append(s.latency, now.Sub(time.Unix(0, sent)))
			s.mu.Unlock()
		}
	}
}
