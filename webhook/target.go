package webhook

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Target is one receiver of webhooks.
type Target struct {
	// Name identifies the target in metrics, logs, the admin routes and
	// the queue's keys.
	Name string
	URL  *url.URL
	// Secrets sign every request, each giving one signature (rotation).
	Secrets []Secret
	// Events lists the types the target receives: exact types, or a
	// prefix and a star ("viewer.*"); empty means every type.
	Events []string
	// Timeout bounds one attempt, from connecting to the end of the answer.
	Timeout time.Duration
	// MaxConns bounds the attempts in flight to the target from one
	// instance (and so its connections).
	MaxConns int
}

// Wants reports whether the target receives events of type typ.
func (t Target) Wants(typ string) bool {
	if len(t.Events) == 0 {
		return true
	}
	for _, e := range t.Events {
		if e == "*" || e == typ || (strings.HasSuffix(e, ".*") && strings.HasPrefix(typ, strings.TrimSuffix(e, "*"))) {
			return true
		}
	}
	return false
}

// Redacted returns the URL without credentials, query or fragment, which
// may hold secrets: the form shown by the admin routes and logs.
func (t Target) Redacted() string {
	u := *t.URL
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// TargetConfig is the configuration of the targets, as the environment
// gives it.
type TargetConfig struct {
	// URLs and Secrets are WEBHOOK_URLS and WEBHOOK_SECRET: targets named
	// after their host that receive every event, signed with every secret.
	URLs    []string
	Secrets string
	// Targets is WEBHOOK_TARGETS: a JSON array of named targets, or the
	// path of a file holding one.
	Targets string
	// Timeout and MaxConns apply to targets that do not set their own.
	Timeout      time.Duration
	MaxConns     int
	AllowPrivate bool
}

// targetJSON is one element of WEBHOOK_TARGETS.
type targetJSON struct {
	Name           string   `json:"name"`
	URL            string   `json:"url"`
	Secrets        []string `json:"secrets"`
	Events         []string `json:"events"`
	Timeout        string   `json:"timeout"`
	MaxConnections int      `json:"maxConnections"`
}

// validName keeps target names safe in Redis keys and metric labels.
func validName(s string) bool { return regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`).MatchString(s) }

// ParseTargets builds the targets from their configuration. Errors name
// the variable at fault. A URL whose host is a literal non-public address
// is refused here already (unless AllowPrivate); names are checked at
// connect time.
func ParseTargets(c TargetConfig) ([]Target, error) {
	var out []Target
	if len(c.URLs) > 0 {
		secrets, err := ParseSecrets(c.Secrets)
		if err != nil {
			return nil, fmt.Errorf("WEBHOOK_SECRET: %w", err)
		}
		if len(secrets) == 0 {
			return nil, fmt.Errorf("WEBHOOK_SECRET: required with WEBHOOK_URLS (whsec_ and 24+ random bytes in base64; make one with: echo whsec_$(openssl rand -base64 32))")
		}
		for _, raw := range c.URLs {
			u, err := parseURL(raw, c.AllowPrivate)
			if err != nil {
				return nil, fmt.Errorf("WEBHOOK_URLS: %w", err)
			}
			out = append(out, Target{Name: nameFor(u), URL: u, Secrets: secrets, Timeout: c.Timeout, MaxConns: c.MaxConns})
		}
	} else if strings.TrimSpace(c.Secrets) != "" {
		return nil, fmt.Errorf("WEBHOOK_SECRET: set without WEBHOOK_URLS (named targets carry their own secrets in WEBHOOK_TARGETS)")
	}
	named, err := parseNamed(c)
	if err != nil {
		return nil, fmt.Errorf("WEBHOOK_TARGETS: %w", err)
	}
	out = append(out, named...)
	for i, t := range out {
		if slices.ContainsFunc(out[:i], func(o Target) bool { return o.Name == t.Name }) {
			return nil, fmt.Errorf("WEBHOOK_TARGETS: two targets are named %q", t.Name)
		}
	}
	return out, nil
}

func parseNamed(c TargetConfig) ([]Target, error) {
	raw := []byte(strings.TrimSpace(c.Targets))
	if len(raw) == 0 {
		return nil, nil
	}
	if raw[0] != '[' {
		b, err := os.ReadFile(string(raw))
		if err != nil {
			return nil, fmt.Errorf("want a JSON array or the path of a file holding one: %w", err)
		}
		raw = b
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var list []targetJSON
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("want a JSON array of {name, url, secrets, events, timeout, maxConnections}: %v", err)
	}
	out := make([]Target, 0, len(list))
	for i, j := range list {
		t, err := j.target(c)
		if err != nil {
			return nil, fmt.Errorf("target %d (%q): %w", i+1, j.Name, err)
		}
		out = append(out, t)
	}
	return out, nil
}

func (j targetJSON) target(c TargetConfig) (Target, error) {
	if !validName(j.Name) {
		return Target{}, fmt.Errorf("name: want 1–40 lower-case letters, digits, - and _, starting with a letter or digit")
	}
	u, err := parseURL(j.URL, c.AllowPrivate)
	if err != nil {
		return Target{}, fmt.Errorf("url: %w", err)
	}
	secrets, err := ParseSecrets(strings.Join(j.Secrets, ","))
	if err != nil {
		return Target{}, fmt.Errorf("secrets: %w", err)
	}
	if len(secrets) == 0 {
		return Target{}, fmt.Errorf("secrets: at least one whsec_ secret is required")
	}
	for _, e := range j.Events {
		if e != "*" && !slices.Contains(Types(), e) && !(strings.HasSuffix(e, ".*") && slices.ContainsFunc(Types(), func(t string) bool { return strings.HasPrefix(t, strings.TrimSuffix(e, "*")) })) {
			return Target{}, fmt.Errorf("events: %q matches no event type (%s)", e, strings.Join(Types(), ", "))
		}
	}
	t := Target{Name: j.Name, URL: u, Secrets: secrets, Events: j.Events, Timeout: c.Timeout, MaxConns: c.MaxConns}
	if j.Timeout != "" {
		if t.Timeout, err = time.ParseDuration(j.Timeout); err != nil || t.Timeout < 100*time.Millisecond || t.Timeout > 5*time.Minute {
			return Target{}, fmt.Errorf("timeout %q: want a duration from 100ms to 5m", j.Timeout)
		}
	}
	if j.MaxConnections != 0 {
		if j.MaxConnections < 1 || j.MaxConnections > 1000 {
			return Target{}, fmt.Errorf("maxConnections %d: want 1–1000", j.MaxConnections)
		}
		t.MaxConns = j.MaxConnections
	}
	return t, nil
}

// parseURL accepts an absolute http or https URL, refusing a literal
// non-public address unless allowPrivate.
func parseURL(raw string, allowPrivate bool) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q: want an absolute http:// or https:// URL", redact(raw))
	}
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && !allowPrivate {
		if err := CheckAddr(ip); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// nameFor names a WEBHOOK_URLS target after its host, with a short hash of
// the whole URL so that two URLs on one host stay apart and the name stays
// the same across restarts (queued jobs keep their target).
func nameFor(u *url.URL) string {
	sum := sha256.Sum256([]byte(u.String()))
	host := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, strings.ToLower(u.Hostname()))
	return strings.Trim(host[:min(len(host), 30)], "-") + "-" + hex.EncodeToString(sum[:3])
}

// redact keeps a URL that failed to parse out of error messages beyond its
// scheme and host, in case it holds credentials.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Scheme + "://" + u.Host + "/…"
	}
	if len(raw) > 12 {
		return raw[:12] + "…"
	}
	return raw
}
