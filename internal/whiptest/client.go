// Package whiptest is a minimal pion WHIP publisher and WHEP-style
// subscriber for tests and benchmarks: the publisher sends a synthetic H.264
// track (hand-built SPS, PPS and slices) and Opus-shaped audio, the
// subscriber counts the RTP it receives. Both use host candidates on
// loopback only.
package whiptest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// Response is what a WHIP endpoint answered.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Location resolves the response's Location header against endpoint.
func (r *Response) Location(endpoint string) (string, error) {
	loc := r.Header.Get("Location")
	if loc == "" {
		return "", errors.New("no Location header")
	}
	base, err := url.Parse(endpoint)
	if err != nil {
		return "", err
	}
	ref, err := url.Parse(loc)
	if err != nil {
		return "", err
	}
	return base.ResolveReference(ref).String(), nil
}

// Codecs names what a client peer offers. The zero value offers H.264
// constrained baseline (packetization mode 1) and Opus.
type Codecs struct {
	// Video is "H264" (default), "VP8" or "none".
	Video string
	// Profile is the H.264 profile-level-id offered; default "42e01f".
	Profile string
	// Audio is "opus" (default), "PCMU" or "none".
	Audio string
}

func (c Codecs) withDefaults() Codecs {
	if c.Video == "" {
		c.Video = "H264"
	}
	if c.Profile == "" {
		c.Profile = "42e01f"
	}
	if c.Audio == "" {
		c.Audio = "opus"
	}
	return c
}

func (c Codecs) video() (webrtc.RTPCodecCapability, bool) {
	switch c.Video {
	case "none":
		return webrtc.RTPCodecCapability{}, false
	case "VP8":
		return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, true
	}
	return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + c.Profile}, true
}

func (c Codecs) audio() (webrtc.RTPCodecCapability, bool) {
	switch c.Audio {
	case "none":
		return webrtc.RTPCodecCapability{}, false
	case "PCMU":
		return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, true
	}
	return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, true
}

// newAPI builds a client API that offers codecs and gathers host candidates
// on loopback only, without mDNS.
func newAPI(c Codecs) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	fb := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	if v, ok := c.video(); ok {
		v.RTCPFeedback = fb
		if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: v, PayloadType: 96}, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, err
		}
	}
	if a, ok := c.audio(); ok {
		pt := webrtc.PayloadType(111)
		if a.MimeType == webrtc.MimeTypePCMU {
			pt = 0
		}
		if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: a, PayloadType: pt}, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, err
		}
	}
	var s webrtc.SettingEngine
	s.SetIncludeLoopbackCandidate(true)
	s.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(s)), nil
}

// offer creates pc's offer with every candidate gathered.
func offer(pc *webrtc.PeerConnection) (string, error) {
	o, err := pc.CreateOffer(nil)
	if err != nil {
		return "", fmt.Errorf("create offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(o); err != nil {
		return "", fmt.Errorf("set local description: %w", err)
	}
	select {
	case <-gathered:
	case <-time.After(5 * time.Second):
		return "", errors.New("ICE gathering did not complete")
	}
	return pc.LocalDescription().SDP, nil
}

// Post sends an SDP offer to a WHIP endpoint with a bearer token (none when
// token is "") and returns the answer as it came.
func Post(ctx context.Context, client *http.Client, endpoint, token, sdp string) (*Response, error) {
	return do(ctx, client, http.MethodPost, endpoint, token, "application/sdp", sdp)
}

// Delete ends a WHIP resource.
func Delete(ctx context.Context, client *http.Client, resource, token string) (*Response, error) {
	return do(ctx, client, http.MethodDelete, resource, token, "", "")
}

func do(ctx context.Context, client *http.Client, method, u, token, contentType, body string) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}, nil
}

// connect posts pc's offer and, on 201, applies the answer.
func connect(ctx context.Context, pc *webrtc.PeerConnection, client *http.Client, endpoint, token string) (*Response, string, error) {
	sdp, err := offer(pc)
	if err != nil {
		return nil, "", err
	}
	resp, err := Post(ctx, client, endpoint, token, sdp)
	if err != nil {
		return nil, "", err
	}
	if resp.Status != http.StatusCreated {
		return resp, "", nil
	}
	loc, err := resp.Location(endpoint)
	if err != nil {
		return resp, "", err
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: resp.Body}); err != nil {
		return resp, loc, fmt.Errorf("set answer: %w", err)
	}
	return resp, loc, nil
}

// connectedSignal returns a channel closed when pc first reaches connected.
func connectedSignal(pc *webrtc.PeerConnection) <-chan struct{} {
	ch := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(ch) })
		}
	})
	return ch
}
