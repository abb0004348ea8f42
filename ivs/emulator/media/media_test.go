package media_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/internal/whiptest"
	"github.com/ivslive/ivslive/ivs/emulator/media"
)

// sfu is an engine behind a bare HTTP front: POST /publish and POST
// /subscribe exchange SDP with one shared source. It records the hooks.
type sfu struct {
	engine *media.Engine
	src    *media.Source
	srv    *httptest.Server

	mu      sync.Mutex
	events  []string
	refused chan string
}

func newSFU(t *testing.T) *sfu {
	t.Helper()
	e, err := media.NewEngine(media.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := &sfu{engine: e, src: media.NewSource("pub", nil), refused: make(chan string, 1)}
	hooks := func(role string) media.Hooks {
		return media.Hooks{
			Connected: func() { s.record(role + " connected") },
			Lost:      func() { s.record(role + " lost") },
			Media:     func() { s.record(role + " media") },
			Refused:   func(code string) { s.refused <- code },
		}
	}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var answer string
		var err error
		switch r.URL.Path {
		case "/publish":
			code, cerr := media.CheckPublishOffer(string(body))
			if cerr != nil || code != "" {
				http.Error(w, code, http.StatusUnprocessableEntity)
				return
			}
			_, answer, err = e.Publish(string(body), s.src, hooks("publisher"))
		case "/subscribe":
			_, answer, err = e.Subscribe(string(body), s.src, hooks("subscriber"))
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Location", "/resource")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, answer)
	}))
	t.Cleanup(func() {
		s.srv.Close()
		if err := e.Close(); err != nil {
			t.Errorf("engine Close: %v", err)
		}
	})
	return s
}

func (s *sfu) record(ev string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, ev)
}

func (s *sfu) saw(ev string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.events {
		if e == ev {
			return true
		}
	}
	return false
}

func TestForwardsPublisherToSubscribers(t *testing.T) {
	s := newSFU(t)
	pub, err := whiptest.NewPublisher(whiptest.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	resp, err := pub.Connect(t.Context(), s.srv.Client(), s.srv.URL+"/publish", "")
	if err != nil || resp.Status != http.StatusCreated {
		t.Fatalf("publish: %v %+v", err, resp)
	}
	var subs []*whiptest.Subscriber
	for range 2 {
		sub, err := whiptest.NewSubscriber(whiptest.Codecs{}, false)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		resp, err := sub.Connect(t.Context(), s.srv.Client(), s.srv.URL+"/subscribe", "")
		if err != nil || resp.Status != http.StatusCreated {
			t.Fatalf("subscribe: %v %+v", err, resp)
		}
		subs = append(subs, sub)
	}
	for i, sub := range subs {
		testenv.Eventually(t, 5*time.Second, "video and audio at a subscriber", func() bool {
			packets, bytes, video := sub.Received()
			return video > 0 && packets > video && bytes > 0
		})
		t.Logf("subscriber %d received RTP", i)
	}
	for _, ev := range []string{"publisher connected", "publisher media", "subscriber connected"} {
		if !s.saw(ev) {
			t.Errorf("hook %q never ran", ev)
		}
	}
	if s.engine.Peers() != 3 {
		t.Errorf("engine has %d peers, want 3", s.engine.Peers())
	}
}

func TestRefusesBrokenRules(t *testing.T) {
	tests := []struct {
		name string
		opts whiptest.PublishOptions
		want string
	}{
		{"B frames", whiptest.PublishOptions{BFrames: true}, media.ErrBFramePresent},
		{"1080p", whiptest.PublishOptions{Width: 1920, Height: 1088}, media.ErrResolutionExceed},
		{"main profile in the stream", whiptest.PublishOptions{SPSProfile: 77}, media.ErrInvalidVideoCodec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSFU(t)
			pub, err := whiptest.NewPublisher(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Close()
			if resp, err := pub.Connect(t.Context(), s.srv.Client(), s.srv.URL+"/publish", ""); err != nil || resp.Status != http.StatusCreated {
				t.Fatalf("publish: %v %+v", err, resp)
			}
			select {
			case code := <-s.refused:
				if code != tt.want {
					t.Errorf("refused with %s, want %s", code, tt.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("not refused within 5 s, want %s", tt.want)
			}
		})
	}
}

func TestCheckPublishOffer(t *testing.T) {
	offerOf := func(c whiptest.Codecs) string {
		p, err := whiptest.NewPublisher(whiptest.PublishOptions{Codecs: c})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		o, err := p.Offer()
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	tests := []struct {
		name  string
		offer string
		want  string
		bad   bool
	}{
		{"baseline and opus", offerOf(whiptest.Codecs{}), "", false},
		{"baseline without constraint flags", offerOf(whiptest.Codecs{Profile: "42001f"}), "", false},
		{"VP8", offerOf(whiptest.Codecs{Video: "VP8"}), media.ErrInvalidVideoCodec, false},
		{"high profile", offerOf(whiptest.Codecs{Profile: "640c1f"}), media.ErrInvalidVideoCodec, false},
		{"PCMU", offerOf(whiptest.Codecs{Audio: "PCMU"}), media.ErrInvalidAudioCodec, false},
		{"audio only", offerOf(whiptest.Codecs{Video: "none"}), "", false},
		{"not SDP", "hello", "", true},
		{"no media", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, err := media.CheckPublishOffer(tt.offer)
			if (err != nil) != tt.bad || code != tt.want {
				t.Errorf("CheckPublishOffer = %q, %v; want %q, error %v", code, err, tt.want, tt.bad)
			}
		})
	}
}

// Every test leaves no goroutine behind: engines close at cleanup, and
// closing an engine closes its peers.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"))
}
