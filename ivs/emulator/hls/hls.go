// Package hls turns a publisher's H.264 RTP into a live HLS stream, the
// emulator's stand-in for what an IVS composition broadcasts to a
// low-latency channel. It remuxes, never transcodes: RTP payloads are
// depacketized (RFC 6184) into access units, wrapped in MPEG-TS (PAT, PMT,
// one H.264 elementary stream, PTS from the RTP timestamp) and cut into
// segments on keyframes. The playlist is a rolling live window that gains
// EXT-X-ENDLIST when the stream ends.
//
// Audio is dropped: WebRTC publishers send Opus, which HLS players do not
// take in MPEG-TS, and carrying it would need transcoding to AAC. IVS's own
// composition does transcode (and lays out several publishers in a grid);
// that is out of the emulator's scope.
package hls

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asticode/go-astits"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

const (
	// videoPID is the elementary stream's PID (and the PCR's).
	videoPID = 256
	// clockRate is H.264's RTP clock, which MPEG-TS shares (90 kHz).
	clockRate = 90000
	// ptsOffset keeps the first PTS clear of zero, as muxers customarily do
	// so a decoder's DTS (which may precede PTS) never goes negative.
	ptsOffset = clockRate
	// maxAccessUnit bounds one access unit being assembled; a stream that
	// never sets the marker bit cannot grow it without end.
	maxAccessUnit = 4 << 20
	// maxJump is the largest step between two pictures' timestamps taken
	// as time passing (10 s); a larger one is a new source.
	maxJump = 10 * clockRate
)

// Options shape a Stream; zero fields take the defaults.
type Options struct {
	// SegmentDuration is the shortest segment: a segment is cut at the
	// first keyframe after it. Default 1 s (IVS ingest sends a keyframe
	// every 1 or 2 s, so segments last 1 to 2 s).
	SegmentDuration time.Duration
	// Window is how many segments the live playlist lists. Default 6.
	Window int
}

// segment is one finished MPEG-TS segment.
type segment struct {
	seq      int
	duration time.Duration
	data     []byte
}

// Stream is one channel's live HLS output. WriteRTP feeds it; Playlist and
// Segment serve it. It is safe for concurrent use.
type Stream struct {
	opts Options

	mu       sync.Mutex
	depack   codecs.H264Packet
	au       []byte // the access unit being assembled
	auTS     uint32
	auStart  bool // au holds data of the current timestamp
	lastTS   uint32
	tsBase   int64 // unwrapped timestamp of the first access unit
	tsHigh   int64 // the unwrapped value of lastTS
	haveTS   bool
	started  bool // a keyframe has opened the first segment
	cur      *building
	segments []segment // the window, oldest first, plus a few kept for late readers
	nextSeq  int
	maxDur   time.Duration
	ended    bool
	lastPTS  int64 // of the last access unit
	lastKey  int64 // of the last keyframe
}

// building is the segment being written.
type building struct {
	buf      bytes.Buffer
	mux      *astits.Muxer
	firstPTS int64
	lastPTS  int64
}

// New returns an empty stream.
func New(o Options) *Stream {
	if o.SegmentDuration <= 0 {
		o.SegmentDuration = time.Second
	}
	if o.Window <= 0 {
		o.Window = 6
	}
	s := &Stream{opts: o}
	s.depack.IsAVC = false // Annex B output, start codes included
	return s
}

// WriteRTP takes one of the publisher's packets. Only video is used; the
// packet may be reused by the caller once this returns.
func (s *Stream) WriteRTP(video bool, p *rtp.Packet) {
	if !video || len(p.Payload) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	if s.auStart && p.Timestamp != s.auTS {
		// A new picture began without the last one's marker bit (lost).
		s.flushLocked()
	}
	nal, err := s.depack.Unmarshal(p.Payload)
	if err != nil {
		s.au, s.auStart = s.au[:0], false
		return
	}
	if !s.auStart {
		s.auTS, s.auStart = p.Timestamp, true
	}
	if len(s.au)+len(nal) <= maxAccessUnit {
		s.au = append(s.au, nal...)
	}
	if p.Marker {
		s.flushLocked()
	}
}

// flushLocked hands the assembled access unit to the segmenter.
func (s *Stream) flushLocked() {
	au, ts := s.au, s.auTS
	s.au, s.auStart = s.au[:0], false
	if len(au) == 0 {
		return
	}
	pts := s.unwrapLocked(ts)
	key := hasIDR(au)
	if !s.started {
		if !key {
			return // a decoder can start only at a keyframe
		}
		s.started = true
		s.tsBase = pts
	}
	pts = pts - s.tsBase + ptsOffset
	if s.cur != nil && key && time.Duration(pts-s.cur.firstPTS)*time.Second/clockRate >= s.opts.SegmentDuration {
		s.closeSegmentLocked(pts)
	}
	if s.cur == nil {
		s.cur = newBuilding(pts)
	}
	s.cur.write(au, pts, key)
	s.lastPTS = pts
	if key {
		s.lastKey = pts
	}
}

// unwrapLocked extends a 32-bit RTP timestamp to 64 bits across wraps. A
// jump of more than maxJump either way is another source (the publisher
// reconnected with a new random timestamp base, or another publisher took
// over): the stream goes on one frame later instead of leaping in time.
func (s *Stream) unwrapLocked(ts uint32) int64 {
	if !s.haveTS {
		s.haveTS, s.tsHigh, s.lastTS = true, int64(ts), ts
		return s.tsHigh
	}
	d := int64(int32(ts - s.lastTS))
	if d > maxJump || d < -maxJump {
		d = clockRate / 30
	}
	s.tsHigh += d
	s.lastTS = ts
	return s.tsHigh
}

func newBuilding(pts int64) *building {
	b := &building{firstPTS: pts, lastPTS: pts}
	b.mux = astits.NewMuxer(context.Background(), &b.buf)
	// Errors here are programming errors (a duplicate PID); none can occur.
	_ = b.mux.AddElementaryStream(astits.PMTElementaryStream{ElementaryPID: videoPID, StreamType: astits.StreamTypeH264Video})
	b.mux.SetPCRPID(videoPID)
	return b
}

// audNAL is an access unit delimiter (primary_pic_type 7: any slice type),
// which some HLS players expect at the start of every access unit.
var audNAL = []byte{0, 0, 0, 1, 0x09, 0xf0}

// write muxes one access unit. A keyframe carries the random access flag,
// which also makes the muxer repeat PAT and PMT in front of it.
func (b *building) write(au []byte, pts int64, key bool) {
	data := make([]byte, 0, len(audNAL)+len(au))
	data = append(append(data, audNAL...), au...)
	_, _ = b.mux.WriteData(&astits.MuxerData{
		PID: videoPID,
		AdaptationField: &astits.PacketAdaptationField{
			HasPCR: true, PCR: &astits.ClockReference{Base: pts}, RandomAccessIndicator: key,
		},
		PES: &astits.PESData{
			Header: &astits.PESHeader{
				OptionalHeader: &astits.PESOptionalHeader{
					MarkerBits: 2, PTSDTSIndicator: astits.PTSDTSIndicatorOnlyPTS, PTS: &astits.ClockReference{Base: pts},
					DataAlignmentIndicator: true,
				},
				StreamID: 0xe0,
			},
			Data: data,
		},
	})
	b.lastPTS = pts
}

// closeSegmentLocked ends the current segment at nextPTS (the start of the
// next one, or the last picture's time plus one frame at the end).
func (s *Stream) closeSegmentLocked(nextPTS int64) {
	c := s.cur
	s.cur = nil
	d := time.Duration(nextPTS-c.firstPTS) * time.Second / clockRate
	if d <= 0 {
		d = time.Millisecond
	}
	s.segments = append(s.segments, segment{seq: s.nextSeq, duration: d, data: c.buf.Bytes()})
	s.nextSeq++
	s.maxDur = max(s.maxDur, d)
	// Keep two segments past the window for players that read the
	// playlist just before it moved on.
	if keep := s.opts.Window + 2; len(s.segments) > keep {
		s.segments = append(s.segments[:0], s.segments[len(s.segments)-keep:]...)
	}
}

// NeedsKeyframe reports whether the stream waits for a keyframe: none came
// yet, or none for twice the segment duration (IVS asks WHIP publishers for
// one every 1 or 2 s, but a browser left alone sends them rarely).
func (s *Stream) NeedsKeyframe() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return false
	}
	return !s.started || time.Duration(s.lastPTS-s.lastKey)*time.Second/clockRate >= 2*s.opts.SegmentDuration
}

// End closes the last segment and marks the playlist ended (ENDLIST).
func (s *Stream) End() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	s.ended = true
	if s.cur != nil {
		s.closeSegmentLocked(s.cur.lastPTS + clockRate/30)
	}
}

// Segments returns how many segments were finished so far.
func (s *Stream) Segments() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nextSeq
}

// Playlist renders the live media playlist. Each segment URI is
// prefix + seq + ".ts" + query, so a private channel's token rides along
// (query "" or "?token=..."). ok is false before the first segment.
func (s *Stream) Playlist(prefix, query string) (playlist []byte, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.segments) == 0 {
		return nil, false
	}
	window := s.segments[max(0, len(s.segments)-s.opts.Window):]
	target := max(int(math.Ceil(s.maxDur.Seconds())), int(math.Ceil((2 * s.opts.SegmentDuration).Seconds())))
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:3\n")
	fmt.Fprintf(&b, "#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:%d\n", target, window[0].seq)
	for _, seg := range window {
		fmt.Fprintf(&b, "#EXTINF:%.3f,\n%s%d.ts%s\n", seg.duration.Seconds(), prefix, seg.seq, query)
	}
	if s.ended {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	return []byte(b.String()), true
}

// Segment returns segment seq's MPEG-TS bytes, if still kept.
func (s *Stream) Segment(name string) ([]byte, bool) {
	seq, err := strconv.Atoi(strings.TrimSuffix(name, ".ts"))
	if err != nil || !strings.HasSuffix(name, ".ts") {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, seg := range s.segments {
		if seg.seq == seq {
			return seg.data, true
		}
	}
	return nil, false
}

// hasIDR reports whether an Annex B access unit holds an IDR slice.
func hasIDR(au []byte) bool {
	for i := 0; i+3 < len(au); i++ {
		if au[i] == 0 && au[i+1] == 0 && au[i+2] == 1 && au[i+3]&0x1f == 5 {
			return true
		}
	}
	return false
}
