package whiptest

// Hand-built H.264 NAL units: enough for an SFU to see a baseline stream
// with keyframes, and for its rules to find B slices or a too-large SPS. The
// slice data after the header is filler; no decoder would show a picture.

// bitWriter writes big-endian bits and Exp-Golomb codes.
type bitWriter struct {
	out  []byte
	nbit int
}

func (w *bitWriter) bit(b uint) {
	if w.nbit%8 == 0 {
		w.out = append(w.out, 0)
	}
	if b != 0 {
		w.out[len(w.out)-1] |= 1 << (7 - w.nbit%8)
	}
	w.nbit++
}

func (w *bitWriter) bits(v uint, n int) {
	for i := n - 1; i >= 0; i-- {
		w.bit(v >> i & 1)
	}
}

func (w *bitWriter) ue(v uint) {
	v++
	n := 0
	for x := v; x > 1; x >>= 1 {
		n++
	}
	w.bits(0, n)
	w.bits(v, n+1)
}

// trailing writes rbsp_trailing_bits.
func (w *bitWriter) trailing() []byte {
	w.bit(1)
	for w.nbit%8 != 0 {
		w.bit(0)
	}
	return w.out
}

// SPS returns a sequence parameter set NAL unit for profile_idc profile
// (66 is baseline) and a width×height picture (multiples of 16).
func SPS(profile byte, width, height int) []byte {
	var w bitWriter
	w.bits(uint(profile), 8)
	w.bits(0xe0, 8) // constraint_set0..2 (constrained baseline)
	w.bits(31, 8)   // level 3.1
	w.ue(0)         // seq_parameter_set_id
	w.ue(0)         // log2_max_frame_num_minus4
	w.ue(2)         // pic_order_cnt_type
	w.ue(1)         // max_num_ref_frames
	w.bit(0)        // gaps_in_frame_num_value_allowed_flag
	w.ue(uint(width/16 - 1))
	w.ue(uint(height/16 - 1))
	w.bit(1) // frame_mbs_only_flag
	w.bit(1) // direct_8x8_inference_flag
	w.bit(0) // frame_cropping_flag
	w.bit(0) // vui_parameters_present_flag
	return append([]byte{0x67}, w.trailing()...)
}

// PPS returns a minimal picture parameter set NAL unit.
func PPS() []byte {
	var w bitWriter
	w.ue(0)  // pic_parameter_set_id
	w.ue(0)  // seq_parameter_set_id
	w.bit(0) // entropy_coding_mode_flag (CAVLC)
	w.bit(0) // bottom_field_pic_order_in_frame_present_flag
	w.ue(0)  // num_slice_groups_minus1
	w.ue(0)  // num_ref_idx_l0_default_active_minus1
	w.ue(0)  // num_ref_idx_l1_default_active_minus1
	w.bit(0) // weighted_pred_flag
	w.bits(0, 2)
	return append([]byte{0x68}, w.trailing()...)
}

// Slice kinds for Slice.
const (
	SliceP = 0
	SliceB = 1
	SliceI = 2
)

// Slice returns a coded slice NAL unit of size bytes: an IDR slice for
// SliceI with idr set, else a non-IDR slice of the given slice_type. The
// body after the header is filler that avoids start-code patterns.
func Slice(sliceType uint, idr bool, size int) []byte {
	var w bitWriter
	w.ue(0)             // first_mb_in_slice
	w.ue(sliceType + 5) // slice_type (+5: every slice of the picture has it)
	w.ue(0)             // pic_parameter_set_id
	header := w.trailing()
	nalType := byte(0x41) // nal_ref_idc 2, type 1
	if idr {
		nalType = 0x65 // nal_ref_idc 3, type 5
	}
	nal := append([]byte{nalType}, header...)
	for len(nal) < size {
		nal = append(nal, 0xaa)
	}
	return nal
}

// stapA aggregates small NAL units into one RTP payload (RFC 6184 5.7.1).
func stapA(nals ...[]byte) []byte {
	out := []byte{24 | 0x60}
	for _, n := range nals {
		out = append(out, byte(len(n)>>8), byte(len(n)))
		out = append(out, n...)
	}
	return out
}

// fragment splits a NAL unit into RTP payloads of at most mtu bytes: the
// NAL itself when it fits, FU-A fragments otherwise (RFC 6184 5.8).
func fragment(nal []byte, mtu int) [][]byte {
	if len(nal) <= mtu {
		return [][]byte{nal}
	}
	indicator := nal[0]&0xe0 | 28
	typ := nal[0] & 0x1f
	body := nal[1:]
	var out [][]byte
	for first := true; len(body) > 0; first = false {
		n := min(len(body), mtu-2)
		header := typ
		if first {
			header |= 0x80
		}
		if n == len(body) {
			header |= 0x40
		}
		p := append([]byte{indicator, header}, body[:n]...)
		out = append(out, p)
		body = body[n:]
	}
	return out
}
