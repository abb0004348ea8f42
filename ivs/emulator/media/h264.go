package media

import "errors"

// H.264 NAL unit types that matter to the ingest rules (ITU-T H.264 table 7-1)
// and to RTP packetization (RFC 6184).
const (
	nalSlice = 1  // coded slice of a non-IDR picture
	nalIDR   = 5  // coded slice of an IDR picture
	nalSPS   = 7  // sequence parameter set
	nalSTAPA = 24 // single-time aggregation packet
	nalFUA   = 28 // fragmentation unit A
)

// profileBaseline is profile_idc 66. Constrained baseline is the same
// profile_idc with constraint_set1_flag set, so both pass.
const profileBaseline = 66

// sliceTypeB is slice_type 1 (and 6, "all slices of the picture are B").
const sliceTypeB = 1

// errShortNAL reports a NAL unit too short for the fields read from it.
var errShortNAL = errors.New("h264: NAL unit too short")

// videoFormat is what an SPS says about the stream.
type videoFormat struct {
	profile       int
	width, height int
}

// h264Verdict is what inspecting one RTP payload found: the IVS error code
// of a rule the stream breaks ("" when none), and the format of any SPS.
type h264Verdict struct {
	code string
	sps  *videoFormat
}

// inspectH264 looks at the NAL units an RTP payload starts (RFC 6184: a
// single NAL unit, a STAP-A, or the first fragment of an FU-A) and reports
// a B slice or an SPS. Later FU-A fragments carry no header, so they are
// skipped; the slice header sits in the first fragment.
func inspectH264(payload []byte) (h264Verdict, error) {
	if len(payload) < 1 {
		return h264Verdict{}, errShortNAL
	}
	switch typ := payload[0] & 0x1f; typ {
	case nalSTAPA:
		rest := payload[1:]
		var v h264Verdict
		for len(rest) >= 2 {
			size := int(rest[0])<<8 | int(rest[1])
			rest = rest[2:]
			if size == 0 || size > len(rest) {
				return v, errShortNAL
			}
			nal, err := inspectNAL(rest[:size])
			if err != nil {
				return v, err
			}
			if nal.code != "" {
				return nal, nil
			}
			if nal.sps != nil {
				v.sps = nal.sps
			}
			rest = rest[size:]
		}
		return v, nil
	case nalFUA:
		if len(payload) < 2 {
			return h264Verdict{}, errShortNAL
		}
		if payload[1]&0x80 == 0 { // not the start fragment
			return h264Verdict{}, nil
		}
		// Rebuild the NAL header from the FU indicator and FU header.
		inner := make([]byte, 0, 16)
		inner = append(inner, payload[0]&0xe0|payload[1]&0x1f)
		end := min(len(payload), 2+32) // a slice header's first fields fit in 32 bytes
		inner = append(inner, payload[2:end]...)
		return inspectNAL(inner)
	default:
		return inspectNAL(payload)
	}
}

// inspectNAL inspects one complete (or leading part of a) NAL unit.
func inspectNAL(nal []byte) (h264Verdict, error) {
	if len(nal) < 1 {
		return h264Verdict{}, errShortNAL
	}
	switch nal[0] & 0x1f {
	case nalSlice, nalIDR:
		typ, err := sliceType(nal[1:])
		if err != nil {
			return h264Verdict{}, err
		}
		if typ%5 == sliceTypeB {
			return h264Verdict{code: ErrBFramePresent}, nil
		}
	case nalSPS:
		f, err := parseSPS(nal[1:])
		if err != nil {
			return h264Verdict{}, err
		}
		return h264Verdict{sps: &f}, nil
	}
	return h264Verdict{}, nil
}

// sliceType reads first_mb_in_slice and slice_type from a slice header.
func sliceType(rbsp []byte) (uint, error) {
	r := bitReader{data: unescape(rbsp, 16)}
	if _, err := r.ue(); err != nil { // first_mb_in_slice
		return 0, err
	}
	return r.ue()
}

// parseSPS reads the profile and the cropped picture size of a sequence
// parameter set (ITU-T H.264 7.3.2.1.1).
func parseSPS(rbsp []byte) (videoFormat, error) {
	r := bitReader{data: unescape(rbsp, len(rbsp))}
	profile, err := r.bits(8)
	if err != nil {
		return videoFormat{}, err
	}
	if _, err := r.bits(16); err != nil { // constraint flags, level_idc
		return videoFormat{}, err
	}
	if _, err := r.ue(); err != nil { // seq_parameter_set_id
		return videoFormat{}, err
	}
	chroma := uint(1)
	switch profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		if chroma, err = r.ue(); err != nil {
			return videoFormat{}, err
		}
		if chroma == 3 {
			r.skip(1) // separate_colour_plane_flag
		}
		r.ue()    // bit_depth_luma_minus8
		r.ue()    // bit_depth_chroma_minus8
		r.skip(1) // qpprime_y_zero_transform_bypass_flag
		if flag, _ := r.bits(1); flag == 1 {
			// Scaling lists are rare in live encoders; their presence makes
			// the size unknowable without parsing them, so report no size.
			return videoFormat{profile: int(profile)}, nil
		}
	}
	r.ue() // log2_max_frame_num_minus4
	pocType, err := r.ue()
	if err != nil {
		return videoFormat{}, err
	}
	switch pocType {
	case 0:
		r.ue() // log2_max_pic_order_cnt_lsb_minus4
	case 1:
		r.skip(1) // delta_pic_order_always_zero_flag
		r.se()    // offset_for_non_ref_pic
		r.se()    // offset_for_top_to_bottom_field
		n, err := r.ue()
		if err != nil || n > 255 {
			return videoFormat{}, errShortNAL
		}
		for range n {
			r.se()
		}
	}
	r.ue()    // max_num_ref_frames
	r.skip(1) // gaps_in_frame_num_value_allowed_flag
	wMbs, _ := r.ue()
	hUnits, _ := r.ue()
	frameMbsOnly, _ := r.bits(1)
	if frameMbsOnly == 0 {
		r.skip(1) // mb_adaptive_frame_field_flag
	}
	r.skip(1) // direct_8x8_inference_flag
	var cropL, cropR, cropT, cropB uint
	if crop, _ := r.bits(1); crop == 1 {
		cropL, _ = r.ue()
		cropR, _ = r.ue()
		cropT, _ = r.ue()
		cropB, err = r.ue()
	}
	if err != nil || r.err != nil {
		return videoFormat{}, errShortNAL
	}
	width := int(wMbs+1) * 16
	height := int(hUnits+1) * 16 * int(2-frameMbsOnly)
	// Crop units (7.4.2.1.1): 2 luma samples horizontally for 4:2:0 and
	// 4:2:2, and 2 (or 4 for fields) vertically for 4:2:0.
	cropX, cropY := 1, int(2-frameMbsOnly)
	if chroma == 1 || chroma == 2 {
		cropX = 2
	}
	if chroma == 1 {
		cropY *= 2
	}
	width -= int(cropL+cropR) * cropX
	height -= int(cropT+cropB) * cropY
	return videoFormat{profile: int(profile), width: width, height: height}, nil
}

// unescape removes emulation prevention bytes (00 00 03 -> 00 00) from at
// most limit bytes of a NAL unit payload.
func unescape(b []byte, limit int) []byte {
	b = b[:min(len(b), limit)]
	out := make([]byte, 0, len(b))
	zeros := 0
	for _, c := range b {
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		out = append(out, c)
	}
	return out
}

// bitReader reads big-endian bits and Exp-Golomb codes. Reading past the end
// sets err and returns zeros, so a sequence of reads can be checked once.
type bitReader struct {
	data []byte
	pos  int // in bits
	err  error
}

func (r *bitReader) bits(n int) (uint, error) {
	var v uint
	for range n {
		if r.pos >= len(r.data)*8 {
			r.err = errShortNAL
			return 0, r.err
		}
		bit := r.data[r.pos/8] >> (7 - r.pos%8) & 1
		v = v<<1 | uint(bit)
		r.pos++
	}
	return v, nil
}

func (r *bitReader) skip(n int) {
	r.bits(n)
}

// ue reads an unsigned Exp-Golomb code; more than 31 leading zeros is not a
// value any field here can hold.
func (r *bitReader) ue() (uint, error) {
	zeros := 0
	for {
		bit, err := r.bits(1)
		if err != nil {
			return 0, err
		}
		if bit == 1 {
			break
		}
		zeros++
		if zeros > 31 {
			r.err = errShortNAL
			return 0, r.err
		}
	}
	rest, err := r.bits(zeros)
	if err != nil {
		return 0, err
	}
	return (1<<zeros - 1) + rest, nil
}

// se reads a signed Exp-Golomb code.
func (r *bitReader) se() (int, error) {
	v, err := r.ue()
	if err != nil {
		return 0, err
	}
	if v%2 == 1 {
		return int(v+1) / 2, nil
	}
	return -int(v / 2), nil
}
