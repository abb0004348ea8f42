package app

import (
	"errors"
	"net/url"
	"strings"
)

// redacted replaces a hidden value.
const redacted = "redacted"

// redactDSN hides every credential a connection string may carry, in each
// form pgx and go-redis accept: the password in URL user info
// (postgres://u:pw@h, redis://:pw@h, unix://u:pw@/sock), password-like
// query parameters (?password=, ?sslpassword=, percent-encoded key names
// too), and password=/sslpassword= in PostgreSQL keyword/value strings,
// quoted or not. What it cannot parse is hidden whole: a malformed string
// may hold a password anywhere.
func redactDSN(raw string) string {
	if raw == "" {
		return ""
	}
	if !strings.Contains(raw, "://") {
		pairs, err := parseKeywordValue(raw)
		if err != nil {
			return "<" + redacted + ">"
		}
		var b strings.Builder
		for i, p := range pairs {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(p.key + "=")
			if secretParam(p.key) {
				b.WriteString(redacted)
			} else {
				b.WriteString(p.raw)
			}
		}
		return b.String()
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return "<" + redacted + ">"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), redacted)
	}
	q := u.Query()
	for k := range q {
		if secretParam(k) {
			q[k] = []string{redacted}
		}
	}
	u.RawQuery = q.Encode()
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// secretParam reports whether a connection parameter holds a secret.
func secretParam(name string) bool {
	name = strings.ToLower(name)
	return strings.Contains(name, "pass") || strings.Contains(name, "secret") || strings.Contains(name, "token")
}

// kvPair is one keyword=value of a PostgreSQL connection string; raw is
// the value as written (quotes and escapes kept).
type kvPair struct{ key, raw string }

// parseKeywordValue splits a PostgreSQL keyword/value connection string
// ("host=db user=app password='s p'") the way libpq and pgx read it.
func parseKeywordValue(s string) ([]kvPair, error) {
	const space = " \t\n\r\v\f"
	var pairs []kvPair
	s = strings.TrimLeft(s, space)
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return nil, errors.New("want keyword=value")
		}
		key := strings.TrimRight(s[:eq], space)
		if key == "" || strings.ContainsAny(key, space) {
			return nil, errors.New("want keyword=value")
		}
		s = strings.TrimLeft(s[eq+1:], space)
		end := 0
		if strings.HasPrefix(s, "'") {
			end = 1
			for ; end < len(s) && s[end] != '\''; end++ {
				if s[end] == '\\' {
					end++
				}
			}
			if end >= len(s) {
				return nil, errors.New("unterminated quoted value")
			}
			end++
		} else {
			for ; end < len(s) && !strings.ContainsRune(space, rune(s[end])); end++ {
				if s[end] == '\\' {
					end++
				}
			}
			end = min(end, len(s))
		}
		pairs = append(pairs, kvPair{key: key, raw: s[:end]})
		s = strings.TrimLeft(s[end:], space)
	}
	if len(pairs) == 0 {
		return nil, errors.New("want keyword=value")
	}
	return pairs, nil
}
