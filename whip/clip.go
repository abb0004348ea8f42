package whip

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// clipFiles is the test pattern: see clip/README.md for how it was made.
//
//go:embed clip/pattern.h264 clip/pattern.ogg
var clipFiles embed.FS

// Frame is one picture of a clip: all its NAL units in Annex-B form (start
// codes included), as the H.264 payloader takes them.
type Frame struct {
	Data []byte
	// Keyframe is true for an IDR picture (with the SPS and PPS before it).
	Keyframe bool
}

// Packet is one Opus packet of a clip, at Offset from the start of the loop.
type Packet struct {
	Data   []byte
	Offset time.Duration
}

// Clip is pre-parsed media that Publish sends in a loop: H.264 pictures at a
// fixed frame rate and Opus packets, both cut to the same loop length so
// picture and sound stay together however long it plays.
type Clip struct {
	Video         []Frame
	FrameDuration time.Duration
	Audio         []Packet
	// Period is the loop's length: the video's.
	Period time.Duration
}

// TestPattern returns the clip built into the binary: a 4-second, 320x240,
// 30 fps test pattern (H.264 constrained baseline, no B-frames, an IDR every
// second) with a 440 Hz tone that beeps every second (Opus, 48 kHz, stereo).
func TestPattern() (*Clip, error) {
	h264, err := clipFiles.ReadFile("clip/pattern.h264")
	if err != nil {
		return nil, err
	}
	ogg, err := clipFiles.ReadFile("clip/pattern.ogg")
	if err != nil {
		return nil, err
	}
	return ParseClip(h264, 30, ogg)
}

// ParseClip reads an H.264 Annex-B stream at fps frames per second and an Ogg
// Opus file with one packet per page (ffmpeg's -page_duration 20000). The
// first picture must be an IDR: the loop restarts there.
func ParseClip(h264 []byte, fps int, ogg []byte) (*Clip, error) {
	if fps <= 0 || fps > 120 {
		return nil, fmt.Errorf("whip: clip frame rate %d: want 1–120", fps)
	}
	frames, err := readFrames(h264)
	if err != nil {
		return nil, err
	}
	if len(frames) == 0 || !frames[0].Keyframe {
		return nil, errors.New("whip: the clip's video must start with an IDR picture")
	}
	c := &Clip{Video: frames, FrameDuration: time.Second / time.Duration(fps)}
	c.Period = c.FrameDuration * time.Duration(len(frames))
	if c.Audio, err = readPackets(ogg, c.Period); err != nil {
		return nil, err
	}
	return c, nil
}

// readFrames groups NAL units into pictures. A picture ends before a
// parameter set or delimiter that follows a slice, or before a slice whose
// first_mb_in_slice is 0 (its first header bit is then 1: ue(v) codes 0 as
// "1").
func readFrames(h264 []byte) ([]Frame, error) {
	r, err := h264reader.NewReader(bytes.NewReader(h264))
	if err != nil {
		return nil, fmt.Errorf("whip: clip video: %w", err)
	}
	var frames []Frame
	var cur Frame
	hasSlice := false
	for {
		nal, err := r.NextNAL()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("whip: clip video: %w", err)
		}
		slice := nal.UnitType == h264reader.NalUnitTypeCodedSliceNonIdr || nal.UnitType == h264reader.NalUnitTypeCodedSliceIdr
		if hasSlice && (!slice || len(nal.Data) > 1 && nal.Data[1]&0x80 != 0) {
			frames = append(frames, cur)
			cur, hasSlice = Frame{}, false
		}
		cur.Data = append(append(cur.Data, 0, 0, 0, 1), nal.Data...)
		if slice {
			hasSlice = true
		}
		if nal.UnitType == h264reader.NalUnitTypeCodedSliceIdr {
			cur.Keyframe = true
		}
	}
	if hasSlice {
		frames = append(frames, cur)
	}
	return frames, nil
}

// readPackets reads the Opus packets that start within period, with their
// offsets from the granule positions (48 kHz samples, whatever the input
// rate was).
func readPackets(ogg []byte, period time.Duration) ([]Packet, error) {
	r, _, err := oggreader.NewWith(bytes.NewReader(ogg))
	if err != nil {
		return nil, fmt.Errorf("whip: clip audio: %w", err)
	}
	var packets []Packet
	var granule uint64
	for {
		payload, page, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("whip: clip audio: %w", err)
		}
		if _, isHeader := page.HeaderType(payload); isHeader || len(payload) == 0 {
			continue // OpusTags, or a page continuing a packet we do not split
		}
		offset := time.Duration(granule) * time.Second / 48000
		if d := page.GranulePosition - granule; d == 0 || d > 48000*120/1000 {
			return nil, fmt.Errorf("whip: clip audio: a page of %d samples: want one Opus packet (at most 120 ms) per page", d)
		}
		granule = page.GranulePosition
		if offset >= period {
			break
		}
		packets = append(packets, Packet{Data: payload, Offset: offset})
	}
	if len(packets) == 0 {
		return nil, errors.New("whip: clip audio: no Opus packets")
	}
	return packets, nil
}

// nextKeyframe returns the index of the first keyframe at or after i,
// wrapping around, and how many pictures lie between.
func (c *Clip) nextKeyframe(i int) (int, int) {
	for k := 0; k < len(c.Video); k++ {
		if j := (i + k) % len(c.Video); c.Video[j].Keyframe {
			return j, k
		}
	}
	return 0, 0 // unreachable: ParseClip checked the first picture
}
