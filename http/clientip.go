package http

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// TrustProxy says which X-Forwarded-For hops to believe, like Express's
// "trust proxy": none (the peer address is the client), all (the leftmost
// address), the last Hops hops, or hops from the listed networks.
type TrustProxy struct {
	All      bool
	Hops     int
	Networks []netip.Prefix
}

// ParseTrustProxy reads TRUST_PROXY: "", "false", "true", a number of hops,
// or a comma-separated list of proxy addresses or CIDRs.
func ParseTrustProxy(raw string) (TrustProxy, error) {
	raw = strings.TrimSpace(raw)
	switch raw {
	case "", "false":
		return TrustProxy{}, nil
	case "true":
		return TrustProxy{All: true}, nil
	}
	if n, err := strconv.Atoi(raw); err == nil {
		if n < 0 || n > 10 {
			return TrustProxy{}, fmt.Errorf("TRUST_PROXY=%d: want 0–10 hops", n)
		}
		return TrustProxy{Hops: n}, nil
	}
	var tp TrustProxy
	for _, part := range strings.Split(raw, ",") {
		part = strings.TrimSpace(part)
		if !strings.Contains(part, "/") {
			addr, err := netip.ParseAddr(part)
			if err != nil {
				return TrustProxy{}, fmt.Errorf("TRUST_PROXY: %q is not an address or CIDR", part)
			}
			part = netip.PrefixFrom(addr, addr.BitLen()).String()
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return TrustProxy{}, fmt.Errorf("TRUST_PROXY: %q is not an address or CIDR", part)
		}
		tp.Networks = append(tp.Networks, p.Masked())
	}
	return tp, nil
}

// Enabled reports whether any X-Forwarded-For hop is believed, that is
// whether the server is said to run behind a proxy.
func (tp TrustProxy) Enabled() bool { return tp.All || tp.Hops > 0 || len(tp.Networks) > 0 }

func (tp TrustProxy) trusts(addr string) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range tp.Networks {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP is the client's address: the peer, or the X-Forwarded-For hop
// that TrustProxy allows believing.
func (s *Server) clientIP(r *http.Request) string {
	peer, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		peer = r.RemoteAddr
	}
	tp := s.Config.TrustProxy
	if !tp.Enabled() {
		return peer
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hops = append(hops, h)
			}
		}
	}
	// The chain as seen from here: client, proxies..., then the peer.
	chain := append(hops, peer)
	switch {
	case tp.All:
		return valid(chain[0], peer)
	case tp.Hops > 0:
		i := max(len(chain)-1-tp.Hops, 0)
		return valid(chain[i], peer)
	default:
		i := len(chain) - 1
		for i > 0 && tp.trusts(chain[i]) {
			i--
		}
		return valid(chain[i], peer)
	}
}

// valid returns addr if it is an IP address, else the peer (a forged
// header must not become a rate-limit key of the attacker's choosing).
func valid(addr, peer string) string {
	if a, err := netip.ParseAddr(addr); err == nil {
		return a.Unmap().String()
	}
	return peer
}
