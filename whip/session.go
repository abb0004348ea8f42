package whip

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// Options configure a publishing or subscribing session. The zero value is
// ready to use.
type Options struct {
	// HTTPClient sends the WHIP requests; default a client of the
	// session's own (15 s timeout) whose connections Close closes. Its
	// redirect policy is not used: see Publish.
	HTTPClient *http.Client
	// Now is the clock of the counters' timestamps; default time.Now.
	Now func() time.Time
	// OnState, when set, is called with every state the peer connection
	// enters, from one of pion's goroutines.
	OnState func(webrtc.PeerConnectionState)
}

// deleteTimeout bounds the DELETE that ends a session whose context is done.
const deleteTimeout = 5 * time.Second

// gatherTimeout bounds candidate gathering: host candidates come at once.
const gatherTimeout = 10 * time.Second

// The codecs IVS takes over WHIP: H.264 constrained baseline (packetization
// mode 1) and Opus.
var (
	h264Codec = webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine:  "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}},
		},
		PayloadType: 102,
	}
	opusCodec = webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
		},
		PayloadType: 111,
	}
)

// session is what a publisher and a subscriber share: the peer connection,
// the WHIP resource, and a lifetime bound to a context or to Close.
type session struct {
	pc           *webrtc.PeerConnection
	hc           *http.Client
	ownTransport *http.Transport // the default client's, closed with the session
	token        string
	location     string
	counters     *counters

	ctx       context.Context // done when the session ends
	cancel    context.CancelFunc
	connected chan struct{} // closed when the peer connection first connects
	connOnce  sync.Once
	mu        sync.Mutex
	closing   bool           // no more goroutines may start
	wg        sync.WaitGroup // the session's own goroutines
	once      sync.Once
	done      chan struct{}
	err       error // why it ended; set before done closes
}

// newSession makes a peer connection with host candidates only (loopback
// included, no STUN, no mDNS), the two codecs, pion's default interceptors
// (NACK, RTCP reports) and, for publishers, the send counter.
func newSession(ctx context.Context, o Options, countSent bool) (*session, error) {
	s := &session{hc: o.HTTPClient, counters: &counters{now: o.Now}, done: make(chan struct{}), connected: make(chan struct{})}
	if s.hc == nil {
		s.ownTransport = http.DefaultTransport.(*http.Transport).Clone()
		s.hc = &http.Client{Timeout: 15 * time.Second, Transport: s.ownTransport}
	}
	s.counters.stats.State = webrtc.PeerConnectionStateNew.String()
	if s.counters.now == nil {
		s.counters.now = time.Now
	}
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(h264Codec, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("whip: %w", err)
	}
	if err := m.RegisterCodec(opusCodec, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("whip: %w", err)
	}
	reg := &interceptor.Registry{}
	if countSent {
		reg.Add(counterFactory{s.counters})
	}
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		return nil, fmt.Errorf("whip: %w", err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("whip: %w", err)
	}
	s.pc = pc
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		s.counters.update(func(x *Stats) { x.State = st.String() })
		if o.OnState != nil {
			o.OnState(st)
		}
		if st == webrtc.PeerConnectionStateConnected {
			s.connOnce.Do(func() { close(s.connected) })
		}
		if st == webrtc.PeerConnectionStateFailed {
			s.end(errors.New("whip: the connection failed (ICE or DTLS)"))
		}
	})
	return s, nil
}

// negotiate sends the local offer, with every candidate in it (WHIP without
// trickle), and applies the answer. On error the caller closes the session.
func (s *session) negotiate(ctx context.Context, target string) error {
	offer, err := s.pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("whip: create the offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(s.pc)
	if err := s.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("whip: %w", err)
	}
	timer := time.NewTimer(gatherTimeout)
	defer timer.Stop()
	select {
	case <-gathered:
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return errors.New("whip: gathering ICE candidates took too long")
	}
	answer, location, err := postOffer(ctx, s.hc, target, s.token, s.pc.LocalDescription().SDP)
	if err != nil {
		return err
	}
	s.location = location
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		// The server made a resource for an answer we cannot use.
		return errors.Join(fmt.Errorf("whip: the server's answer: %w", err), s.delete())
	}
	return nil
}

// watch ends the session when ctx is done. Call it once the session is
// established.
func (s *session) watch(ctx context.Context) {
	s.spawn(func() {
		select {
		case <-ctx.Done():
			s.end(nil) // the lifetime the caller gave: a normal end
		case <-s.ctx.Done():
		}
	})
}

// spawn runs f in a goroutine the teardown waits for, unless the teardown
// has begun (pion may report a track while the session closes).
func (s *session) spawn(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// stopSpawning forbids new goroutines, before the teardown waits for them.
func (s *session) stopSpawning() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
}

// end starts the teardown once: DELETE the resource, close the peer
// connection (which ends pion's goroutines and sockets), wait for ours.
// cause is why the session ended, nil for Close or the context. It does not
// wait itself: it may be called from a pion callback.
func (s *session) end(cause error) {
	s.once.Do(func() {
		s.cancel()
		go func() {
			var errs []error
			if s.location != "" {
				errs = append(errs, s.delete())
			}
			errs = append(errs, s.pc.GracefulClose())
			s.stopSpawning()
			s.wg.Wait()
			s.closeIdle()
			s.err = errors.Join(append([]error{cause}, errs...)...)
			close(s.done)
		}()
	})
}

// abort frees what a session that never got established holds.
func (s *session) abort() {
	s.once.Do(func() {
		s.cancel()
		s.pc.GracefulClose()
		s.stopSpawning()
		s.wg.Wait()
		s.closeIdle()
		close(s.done)
	})
}

// closeIdle closes the connections of the session's own HTTP client.
func (s *session) closeIdle() {
	if s.ownTransport != nil {
		s.ownTransport.CloseIdleConnections()
	}
}

func (s *session) delete() error {
	ctx, cancel := context.WithTimeout(context.Background(), deleteTimeout)
	defer cancel()
	return remove(ctx, s.hc, s.location, s.token)
}

// Close ends the session (DELETE, then the peer connection) and waits until
// every resource is freed. It returns why the session ended, if not by
// Close or its context, and any error of the teardown. Closing twice is
// harmless.
func (s *session) Close() error {
	s.end(nil)
	<-s.done
	return s.err
}

// Done is closed when the session has ended and freed its resources.
func (s *session) Done() <-chan struct{} { return s.done }

// Err returns why the session ended, once Done is closed.
func (s *session) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Location is the session's WHIP resource URL.
func (s *session) Location() string { return s.location }

// Stats returns the session's counters.
func (s *session) Stats() Stats { return s.counters.snapshot() }
