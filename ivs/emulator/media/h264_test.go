package media

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/ivslive/ivslive/internal/whiptest"
)

func TestParseSPS(t *testing.T) {
	tests := []struct {
		w, h    int
		profile byte
	}{{640, 368, 66}, {1280, 720, 66}, {1920, 1088, 77}, {16, 16, 66}}
	for _, tt := range tests {
		f, err := parseSPS(whiptest.SPS(tt.profile, tt.w, tt.h)[1:])
		if err != nil || f.width != tt.w || f.height != tt.h || f.profile != int(tt.profile) {
			t.Errorf("SPS %dx%d profile %d parsed as %+v, %v", tt.w, tt.h, tt.profile, f, err)
		}
	}
}

func TestInspectH264(t *testing.T) {
	sps := whiptest.SPS(66, 640, 368)
	tests := []struct {
		name    string
		payload []byte
		code    string
		sps     bool
	}{
		{"IDR", whiptest.Slice(whiptest.SliceI, true, 40), "", false},
		{"P slice", whiptest.Slice(whiptest.SliceP, false, 40), "", false},
		{"B slice", whiptest.Slice(whiptest.SliceB, false, 40), ErrBFramePresent, false},
		{"STAP-A with SPS", append([]byte{24, 0, byte(len(sps))}, sps...), "", true},
		{"FU-A start of a B slice", append([]byte{0x5c, 0x81}, whiptest.Slice(whiptest.SliceB, false, 40)[1:]...), ErrBFramePresent, false},
		{"FU-A middle of a B slice", append([]byte{0x5c, 0x01}, 0xaa, 0xaa), "", false},
	}
	for _, tt := range tests {
		v, err := inspectH264(tt.payload)
		if err != nil || v.code != tt.code || (v.sps != nil) != tt.sps {
			t.Errorf("%s: %+v, %v; want code %q, SPS %v", tt.name, v, err, tt.code, tt.sps)
		}
	}
}

// The bitrate meter judges whole windows of the clock it is given.
func TestMeter(t *testing.T) {
	now := time.Unix(0, 0)
	m := meter{limit: 8_000, window: time.Second, now: func() time.Time { return now }}
	for range 10 { // 9,000 bits over the first second
		if code := m.add(112); code != "" {
			t.Fatalf("refused within the window: %s", code)
		}
		now = now.Add(100 * time.Millisecond)
	}
	if code := m.add(125); code != ErrBitrateExceeded {
		t.Fatalf("a window over the limit closed with %q, want %s", code, ErrBitrateExceeded)
	}
	now = now.Add(time.Second)
	if code := m.add(100); code != "" {
		t.Fatalf("a quiet window was refused: %s", code)
	}
}

// Whatever bytes arrive as a payload or an offer, the parsers answer
// without panicking.
func FuzzInspectH264(f *testing.F) {
	f.Add(whiptest.SPS(66, 1280, 720))
	f.Add(whiptest.Slice(whiptest.SliceB, false, 20))
	f.Add([]byte{24, 0, 2, 0x67})
	f.Add([]byte{28, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		inspectH264(b)
	})
}

func FuzzCheckPublishOffer(f *testing.F) {
	f.Add("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=ice-ufrag:x\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 profile-level-id=42e01f\r\n")
	f.Add("v=0\r\nm=audio 0 RTP 0\r\n")
	f.Fuzz(func(t *testing.T, offer string) {
		CheckPublishOffer(offer)
		CheckSubscribeOffer(offer)
	})
}

// A subscriber gets the publisher's H.264 flavour when it offers it, any
// H.264 otherwise.
func TestMatchCodec(t *testing.T) {
	h264 := func(pt webrtc.PayloadType, fmtp string) webrtc.RTPCodecParameters {
		return webrtc.RTPCodecParameters{PayloadType: pt, RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: fmtp}}
	}
	opus := webrtc.RTPCodecParameters{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}}
	browser := []webrtc.RTPCodecParameters{
		h264(100, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f"),
		h264(101, "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f"),
		h264(102, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
		opus,
	}
	want := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: "packetization-mode=1;profile-level-id=42E01F"}
	tests := []struct {
		name string
		want webrtc.RTPCodecCapability
		have []webrtc.RTPCodecParameters
		pt   webrtc.PayloadType
		ok   bool
	}{
		{"same flavour", want, browser, 102, true},
		{"any H.264", want, browser[:1], 100, true},
		{"Opus", opus.RTPCodecCapability, browser, 111, true},
		{"no VP8", webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, browser, 0, false},
	}
	for _, tt := range tests {
		got, ok := matchCodec(tt.want, tt.have)
		if ok != tt.ok || got.PayloadType != tt.pt {
			t.Errorf("%s: payload type %d, %v; want %d, %v", tt.name, got.PayloadType, ok, tt.pt, tt.ok)
		}
	}
}
