package webhook

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// CheckAddr returns an error saying why a webhook may not connect to ip
// unless private targets are allowed, or nil for a public address.
func CheckAddr(ip netip.Addr) error {
	ip = ip.Unmap()
	what := ""
	switch {
	case !ip.IsValid():
		what = "not an address"
	case ip.IsLoopback():
		what = "loopback"
	case ip.IsPrivate():
		what = "private"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		what = "link-local"
	case ip.IsUnspecified():
		what = "unspecified"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		what = "multicast"
	}
	if what == "" {
		what = reserved(ip)
	}
	if what == "" {
		return nil
	}
	return fmt.Errorf("address %s is %s; webhooks reach only public addresses unless WEBHOOK_ALLOW_PRIVATE=true", ip, what)
}

// reserved names the special-purpose range ip is in that netip's
// predicates do not cover, or returns "".
func reserved(ip netip.Addr) string {
	for _, r := range [...]struct{ prefix, what string }{
		{"0.0.0.0/8", `"this network"`},
		{"100.64.0.0/10", "carrier-grade NAT (shared)"},
		{"192.0.0.0/24", "IETF protocol assignments"},
		{"198.18.0.0/15", "benchmarking"},
		{"240.0.0.0/4", "reserved"}, // 255.255.255.255 (broadcast) included
		{"fec0::/10", "site-local"},
		{"64:ff9b:1::/48", "local-use NAT64"},
	} {
		if netip.MustParsePrefix(r.prefix).Contains(ip) {
			return r.what
		}
	}
	// Well-known NAT64: the gateway reaches the IPv4 address in the low
	// 32 bits.
	if netip.MustParsePrefix("64:ff9b::/96").Contains(ip) {
		b := ip.As16()
		if CheckAddr(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})) != nil {
			return "NAT64 of a non-public address"
		}
	}
	return ""
}

// control refuses, at connect time, every address CheckAddr refuses. The
// dialer calls it with the address it is about to connect to, after name
// resolution, for each address it tries: a name that resolves (or is
// rebound) to a private address is caught here, which a check of the URL
// alone cannot do.
func control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook dial %q: %w", address, err)
	}
	return CheckAddr(ap.Addr())
}

// newClient returns the HTTP client of one target: its own connection pool
// capped at the target's connection limit, its timeout, no proxy from the
// environment (a proxy would connect on our behalf, past the address
// check), and no redirects followed (a 3xx is a failed attempt).
func newClient(t Target, allowPrivate bool, resolver *net.Resolver) *http.Client {
	d := &net.Dialer{Timeout: min(t.Timeout, 10*time.Second), KeepAlive: 30 * time.Second, Resolver: resolver}
	if !allowPrivate {
		d.Control = control
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxConnsPerHost:       t.MaxConns,
		MaxIdleConnsPerHost:   t.MaxConns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   min(t.Timeout, 10*time.Second),
		ResponseHeaderTimeout: t.Timeout,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       t.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
