package whip_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ivslive/ivslive/whip"
)

// The embedded clip is what clip/README.md says: 4 s at 30 fps, an IDR
// every second, and 20 ms Opus packets over the same 4 s.
func TestTestPattern(t *testing.T) {
	c, err := whip.TestPattern()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Video) != 120 || c.FrameDuration != time.Second/30 || c.Period != 120*(time.Second/30) {
		t.Fatalf("%d pictures of %v, period %v; want 120 of 1/30 s", len(c.Video), c.FrameDuration, c.Period)
	}
	for i, f := range c.Video {
		if f.Keyframe != (i%30 == 0) {
			t.Errorf("picture %d: keyframe %v", i, f.Keyframe)
		}
		if !strings.HasPrefix(string(f.Data), "\x00\x00\x00\x01") {
			t.Errorf("picture %d does not start with a start code", i)
		}
		// An IDR carries its parameter sets: a receiver can start there.
		if f.Keyframe && (f.Data[4]&0x1f != 7) {
			t.Errorf("keyframe %d starts with NAL type %d, want an SPS", i, f.Data[4]&0x1f)
		}
	}
	if n := len(c.Audio); n < 190 || n > 200 {
		t.Errorf("%d audio packets, want about 200 of 20 ms", n)
	}
	for i := 1; i < len(c.Audio); i++ {
		if d := c.Audio[i].Offset - c.Audio[i-1].Offset; d != 20*time.Millisecond {
			t.Fatalf("audio packet %d comes %v after the previous one, want 20 ms", i, d)
		}
	}
	if last := c.Audio[len(c.Audio)-1].Offset; last >= c.Period {
		t.Errorf("audio packet at %v, beyond the %v loop", last, c.Period)
	}
}

func TestParseClipRefusesBadInput(t *testing.T) {
	good, err := whip.TestPattern()
	if err != nil {
		t.Fatal(err)
	}
	var idr, p []byte
	for _, f := range good.Video {
		if f.Keyframe && idr == nil {
			idr = f.Data
		} else if !f.Keyframe && p == nil {
			p = f.Data
		}
	}
	for name, tc := range map[string]struct {
		h264, ogg []byte
		fps       int
		want      string
	}{
		"not H.264":           {[]byte("hello"), nil, 30, "clip video"},
		"starts with P frame": {append(append([]byte{}, p...), idr...), nil, 30, "must start with an IDR"},
		"bad frame rate":      {idr, nil, 0, "frame rate"},
		"not Ogg":             {idr, []byte("OggSnope"), 30, "clip audio"},
	} {
		if _, err := whip.ParseClip(tc.h264, tc.fps, tc.ogg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error about %q", name, err, tc.want)
		}
	}
}
