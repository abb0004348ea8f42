package hls

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/asticode/go-astits"
	"github.com/pion/rtp"

	"github.com/ivslive/ivslive/internal/whiptest"
)

// feeder sends a synthetic 30 fps stream, a keyframe every keyEvery
// frames, one NAL unit per RTP packet, starting at RTP timestamp ts0.
type feeder struct {
	s   *Stream
	seq uint16
	ts  uint32
}

func (f *feeder) frames(n, keyEvery int) {
	for i := range n {
		key := i%keyEvery == 0
		var nals [][]byte
		if key {
			nals = [][]byte{whiptest.SPS(66, 640, 360), whiptest.PPS(), whiptest.Slice(whiptest.SliceI, true, 300)}
		} else {
			nals = [][]byte{whiptest.Slice(whiptest.SliceP, false, 100)}
		}
		for j, nal := range nals {
			f.seq++
			f.s.WriteRTP(true, &rtp.Packet{Header: rtp.Header{SequenceNumber: f.seq, Timestamp: f.ts, Marker: j == len(nals)-1}, Payload: nal})
		}
		f.ts += 3000 // 90 kHz / 30 fps
	}
}

var extinf = regexp.MustCompile(`#EXTINF:([0-9.]+),\n(?:ch/)?(\d+)\.ts\n`)

// Segments start at the first keyframe, are cut at keyframes once a second
// has passed, and roll in a window; End closes the last and adds ENDLIST.
// RTP timestamps that wrap around 2^32 do not disturb the durations.
func TestSegmenting(t *testing.T) {
	s := New(Options{SegmentDuration: time.Second, Window: 3})
	f := &feeder{s: s, ts: 1<<32 - 45000} // wraps half a second in
	// Frames before the first keyframe are dropped: nothing to decode.
	f.s.WriteRTP(true, &rtp.Packet{Header: rtp.Header{Timestamp: f.ts - 3000, Marker: true}, Payload: whiptest.Slice(whiptest.SliceP, false, 50)})
	if _, ok := s.Playlist("", ""); ok {
		t.Fatal("a playlist before any segment")
	}
	f.frames(30*5, 30)                                         // five seconds, a keyframe a second
	f.s.WriteRTP(false, &rtp.Packet{Payload: []byte{1, 2, 3}}) // audio is dropped
	pl, ok := s.Playlist("ch/", "?token=x")
	if !ok {
		t.Fatal("no playlist after five seconds")
	}
	text := string(pl)
	m := extinf.FindAllStringSubmatch(strings.ReplaceAll(text, "?token=x", ""), -1)
	if len(m) != 3 || !strings.Contains(text, "#EXT-X-MEDIA-SEQUENCE:1\n") || !strings.Contains(text, "#EXT-X-TARGETDURATION:2\n") {
		t.Fatalf("playlist:\n%s", text)
	}
	for _, x := range m {
		if x[1] != "1.000" {
			t.Errorf("segment %s lasts %s s, want 1.000", x[2], x[1])
		}
	}
	if !strings.Contains(text, "ch/3.ts?token=x\n") || strings.Contains(text, "#EXT-X-ENDLIST") {
		t.Errorf("playlist:\n%s", text)
	}
	s.End()
	pl, _ = s.Playlist("", "")
	if !strings.HasSuffix(string(pl), "4.ts\n#EXT-X-ENDLIST\n") {
		t.Errorf("ended playlist:\n%s", pl)
	}
	f.frames(30, 30)
	if s.Segments() != 5 {
		t.Errorf("%d segments after End and more frames, want 5", s.Segments())
	}
	for _, name := range []string{"5.ts", "x.ts", "4", "../4.ts"} {
		if _, ok := s.Segment(name); ok {
			t.Errorf("segment %q was served", name)
		}
	}
	data, ok := s.Segment("4.ts")
	if !ok {
		t.Fatal("segment 4 is gone")
	}
	var pts []int64
	dmx := astits.NewDemuxer(t.Context(), bytes.NewReader(data))
	for {
		d, err := dmx.NextData()
		if errors.Is(err, astits.ErrNoMorePackets) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if d.PES != nil {
			pts = append(pts, d.PES.Header.OptionalHeader.PTS.Base)
		}
	}
	if len(pts) != 30 || pts[0] != ptsOffset+4*clockRate || pts[1]-pts[0] != 3000 {
		t.Errorf("segment 4: %d pictures, PTS from %v, want 30 from %d spaced 3000", len(pts), pts[:min(2, len(pts))], ptsOffset+4*clockRate)
	}
}

func BenchmarkWriteRTP(b *testing.B) {
	s := New(Options{})
	f := &feeder{s: s}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		f.frames(30, 30) // one second of video per iteration
	}
}

// The stream asks for a keyframe before its first one and after two
// segment durations without one, not while they come every second.
func TestNeedsKeyframe(t *testing.T) {
	s := New(Options{})
	f := &feeder{s: s}
	if !s.NeedsKeyframe() {
		t.Error("a stream without a keyframe does not ask for one")
	}
	f.frames(90, 30)
	if s.NeedsKeyframe() {
		t.Error("a stream with a keyframe a second asks for more")
	}
	f.frames(61, 1000) // one keyframe, then two seconds without
	if !s.NeedsKeyframe() {
		t.Error("two seconds without a keyframe and no request")
	}
	s.End()
	if s.NeedsKeyframe() {
		t.Error("an ended stream asks for a keyframe")
	}
}

// A publisher that reconnects starts a new RTP timestamp base; the stream
// goes on without a leap in PTS or a segment of absurd length.
func TestNewSourceContinues(t *testing.T) {
	s := New(Options{Window: 10})
	f := &feeder{s: s, ts: 1000}
	f.frames(60, 30)
	f.ts += 1 << 31 // the new source's random base
	f.frames(60, 30)
	s.End()
	pl, _ := s.Playlist("", "")
	for _, m := range extinf.FindAllStringSubmatch(string(pl), -1) {
		if m[1] != "1.000" && m[1] != "1.033" {
			t.Errorf("segment %s lasts %s s:\n%s", m[2], m[1], pl)
		}
	}
	if n := len(extinf.FindAllString(string(pl), -1)); n != 4 {
		t.Errorf("%d segments, want 4:\n%s", n, pl)
	}
}
