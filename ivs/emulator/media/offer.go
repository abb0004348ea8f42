package media

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"
)

// MaxOfferBytes bounds an SDP offer. A browser's offer with audio, video and
// every codec it knows is under 10 KB.
const MaxOfferBytes = 64 << 10

// ErrBadOffer wraps every reason an SDP offer cannot be used at all
// (unparsable, no media): the client's fault, answered 400.
var ErrBadOffer = errors.New("bad SDP offer")

// CheckPublishOffer reads a WHIP offer and reports the IVS error code of
// the first media rule it breaks: a video section without H.264 baseline
// (INVALID_VIDEO_CODEC) or an audio section without Opus
// (INVALID_AUDIO_CODEC). It returns "" for an acceptable offer and an error
// wrapping ErrBadOffer for one that is not a usable offer.
func CheckPublishOffer(offer string) (string, error) {
	d, err := parseOffer(offer)
	if err != nil {
		return "", err
	}
	media := 0
	for _, m := range d.MediaDescriptions {
		if m.MediaName.Port.Value == 0 { // rejected or stopped section
			continue
		}
		switch m.MediaName.Media {
		case "video":
			media++
			if !hasCodec(m, isBaselineH264) {
				return ErrInvalidVideoCodec, nil
			}
		case "audio":
			media++
			if !hasCodec(m, func(name, _ string) bool { return strings.EqualFold(name, "opus") }) {
				return ErrInvalidAudioCodec, nil
			}
		}
	}
	if media == 0 {
		return "", fmt.Errorf("%w: no audio or video section to publish", ErrBadOffer)
	}
	return "", nil
}

// CheckSubscribeOffer reads a WHEP-style offer: it must parse and ask for
// at least one audio or video section.
func CheckSubscribeOffer(offer string) error {
	d, err := parseOffer(offer)
	if err != nil {
		return err
	}
	for _, m := range d.MediaDescriptions {
		if (m.MediaName.Media == "video" || m.MediaName.Media == "audio") && m.MediaName.Port.Value != 0 {
			return nil
		}
	}
	return fmt.Errorf("%w: no audio or video section to receive", ErrBadOffer)
}

func parseOffer(offer string) (*sdp.SessionDescription, error) {
	if len(offer) > MaxOfferBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrBadOffer, MaxOfferBytes)
	}
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	for _, m := range d.MediaDescriptions {
		if _, ok := m.Attribute("ice-ufrag"); ok {
			continue
		}
		if _, ok := d.Attribute("ice-ufrag"); !ok {
			return nil, fmt.Errorf("%w: a media section has no ICE credentials", ErrBadOffer)
		}
	}
	return &d, nil
}

// hasCodec reports whether a media section lists a payload type whose
// rtpmap name and fmtp satisfy ok.
func hasCodec(m *sdp.MediaDescription, ok func(name, fmtp string) bool) bool {
	names := map[string]string{} // payload type -> codec name
	fmtps := map[string]string{}
	for _, a := range m.Attributes {
		pt, rest, found := strings.Cut(a.Value, " ")
		if !found {
			continue
		}
		switch a.Key {
		case "rtpmap":
			name, _, _ := strings.Cut(rest, "/")
			names[pt] = name
		case "fmtp":
			fmtps[pt] = rest
		}
	}
	for _, pt := range m.MediaName.Formats {
		if name, found := names[pt]; found && ok(name, fmtps[pt]) {
			return true
		}
	}
	return false
}

// isBaselineH264 accepts H.264 whose profile-level-id names profile_idc 66
// (baseline; constrained baseline sets a constraint flag on the same
// profile). An H.264 format without profile-level-id defaults to baseline
// (RFC 6184 8.1).
func isBaselineH264(name, fmtp string) bool {
	if !strings.EqualFold(name, "H264") {
		return false
	}
	for _, p := range strings.Split(fmtp, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "profile-level-id") {
			return len(v) == 6 && strings.EqualFold(v[:2], "42")
		}
	}
	return true
}
