package http

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/ivslive/ivslive"
)

// EmulatorControl says who may use the embedded IVS emulator's control
// plane at /ivs/ (create and delete stages, mint participant tokens,
// import public keys): anyone who can would control the broadcast.
type EmulatorControl string

// Emulator control modes (EMULATOR_CONTROL).
const (
	// EmulatorLoopback admits a request only when it came straight from
	// this host: a loopback peer, a loopback Host (no DNS rebinding from a
	// browser), no forwarding headers, and TRUST_PROXY unset (a proxy on
	// the same host is a loopback peer too, and may add no header).
	EmulatorLoopback EmulatorControl = "loopback"
	// EmulatorKey admits a request carrying the admin key in x-api-key,
	// from anywhere.
	EmulatorKey EmulatorControl = "key"
	// EmulatorOff refuses every control-plane request.
	EmulatorOff EmulatorControl = "off"
)

// forwardingHeaders are what proxies and CDNs add to a request they pass
// on; any of them means the peer is not the client.
var forwardingHeaders = []string{"Forwarded", "X-Real-Ip", "Via", "True-Client-Ip", "X-Client-Ip",
	"Cf-Connecting-Ip", "Fastly-Client-Ip", "X-Cluster-Client-Ip", "X-Original-Forwarded-For"}

// guardEmulator lets the emulator's data plane through untouched (its JWKS,
// everything under /ivs/whip/, which browsers reach with participant
// tokens, and channels' HLS under /ivs/playback/, which players reach with
// at most a playback token, as on IVS) and guards its control plane by Config.EmulatorControl.
func (s *Server) guardEmulator(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if emulatorDataPlane(r) {
			next.ServeHTTP(w, r)
			return
		}
		switch s.Config.EmulatorControl {
		case EmulatorOff:
			s.Error(w, r, ivslive.Errorf(ivslive.EFORBIDDEN, "the IVS emulator's control plane is off (EMULATOR_CONTROL=off)"))
			return
		case EmulatorKey:
			p, err := s.authenticate(r, r.Header.Get("X-Api-Key"))
			if err == nil && !p.allows(ScopeAdmin) {
				err = ivslive.Errorf(ivslive.EFORBIDDEN, "the IVS emulator's control plane needs an admin key")
			}
			if err != nil {
				s.Error(w, r, err)
				return
			}
		default:
			if why := s.notDirect(r); why != "" {
				s.Error(w, r, ivslive.Errorf(ivslive.EFORBIDDEN, "the IVS emulator's control plane answers direct loopback clients only: %s", why))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// emulatorDataPlane reports whether r is for the emulator's public data
// plane. A dot segment, as sent or percent-encoded (%2e%2e, or hidden
// behind an encoded %2F), must not carry a control-plane request through
// the whip or playback prefix.
func emulatorDataPlane(r *http.Request) bool {
	p, raw := r.URL.Path, r.URL.EscapedPath()
	if p == "/ivs/.well-known/jwks.json" {
		return raw == p
	}
	whip := strings.HasPrefix(p, "/ivs/whip/") && strings.HasPrefix(raw, "/ivs/whip/")
	playback := strings.HasPrefix(p, "/ivs/playback/") && strings.HasPrefix(raw, "/ivs/playback/")
	if !whip && !playback {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// notDirect says why r may have come through a proxy or from a browser
// tricked into calling this host, or "" when it came straight from a local
// tool.
func (s *Server) notDirect(r *http.Request) string {
	if s.Config.TrustProxy.Enabled() {
		return "TRUST_PROXY is set, so requests may come through a proxy (use EMULATOR_CONTROL=key)"
	}
	for name := range r.Header {
		if strings.HasPrefix(name, "X-Forwarded-") {
			return "the request came through a proxy (" + name + ")"
		}
	}
	for _, name := range forwardingHeaders {
		if _, ok := r.Header[name]; ok {
			return "the request came through a proxy (" + name + ")"
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if a, perr := netip.ParseAddr(host); err != nil || perr != nil || !a.Unmap().IsLoopback() {
		return "the client is not on this host"
	}
	if !loopbackHost(r.Host) {
		return "the Host header does not name this host (use localhost or 127.0.0.1)"
	}
	return ""
}

// loopbackHost reports whether a Host header names the local host.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}
