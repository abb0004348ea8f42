package whip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxRedirects bounds the redirects an offer may follow.
const maxRedirects = 5

// maxAnswer bounds an SDP answer (a few KB in practice).
const maxAnswer = 256 << 10

// RefusedError is a WHIP request the server refused: any answer other than
// the one expected. It names the method, the URL, the status and the start
// of the body; never the token.
type RefusedError struct {
	Method, URL string
	Status      int
	Body        string
}

// Error says what was refused, with the status and the server's reason.
func (e *RefusedError) Error() string {
	msg := fmt.Sprintf("whip: %s %s: %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// postOffer POSTs an SDP offer and returns the answer and the session's resource
// URL (the Location header, resolved against the URL that answered). It
// follows 307 and 308 redirects itself, re-sending the Authorization header:
// IVS's global WHIP host redirects to a regional one, and Go's client would
// drop the header on a change of host.
func postOffer(ctx context.Context, hc *http.Client, target, token string, sdp string) (answer, location string, err error) {
	noFollow := *hc
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for range maxRedirects + 1 {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(sdp))
		if err != nil {
			return "", "", fmt.Errorf("whip: %w", err)
		}
		req.Header.Set("Content-Type", "application/sdp")
		req.Header.Set("Accept", "application/sdp")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := noFollow.Do(req)
		if err != nil {
			return "", "", fmt.Errorf("whip: POST %s: %w", target, err)
		}
		body, readErr := io.ReadAll(io.LimitReader(res.Body, maxAnswer+1))
		res.Body.Close()
		switch {
		case res.StatusCode == http.StatusTemporaryRedirect || res.StatusCode == http.StatusPermanentRedirect:
			next, err := resolve(target, res.Header.Get("Location"))
			if err != nil {
				return "", "", fmt.Errorf("whip: POST %s: redirect: %w", target, err)
			}
			if strings.HasPrefix(target, "https:") && strings.HasPrefix(next, "http:") {
				// The token would travel in clear text.
				return "", "", fmt.Errorf("whip: POST %s: refusing a redirect from https to %s", target, next)
			}
			target = next
			continue
		case res.StatusCode != http.StatusCreated:
			return "", "", refused(http.MethodPost, target, res.StatusCode, body)
		case readErr != nil:
			return "", "", fmt.Errorf("whip: POST %s: read the answer: %w", target, readErr)
		case len(body) > maxAnswer:
			return "", "", fmt.Errorf("whip: POST %s: the answer is larger than %d bytes", target, maxAnswer)
		}
		if location, err = resolve(target, res.Header.Get("Location")); err != nil {
			return "", "", fmt.Errorf("whip: POST %s: %w", target, err)
		}
		return string(body), location, nil
	}
	return "", "", fmt.Errorf("whip: POST %s: more than %d redirects", target, maxRedirects)
}

// remove DELETEs the session's resource. A 404 counts as done: the server
// has already forgotten the session (it timed out, or this is a retry).
func remove(ctx context.Context, hc *http.Client, location, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, location, nil)
	if err != nil {
		return fmt.Errorf("whip: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("whip: DELETE %s: %w", location, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
	if res.StatusCode/100 != 2 && res.StatusCode != http.StatusNotFound {
		return refused(http.MethodDelete, location, res.StatusCode, body)
	}
	return nil
}

// resolve resolves a Location header against the URL that sent it.
func resolve(base, location string) (string, error) {
	if location == "" {
		return "", errors.New("no Location header")
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	l, err := url.Parse(location)
	if err != nil {
		return "", fmt.Errorf("Location %q: %w", location, err)
	}
	u := b.ResolveReference(l)
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("Location %q: not an http(s) URL", location)
	}
	return u.String(), nil
}

// refused builds the error of a refusal, keeping the first 512 bytes of the
// body (as text) to say why.
func refused(method, target string, status int, body []byte) error {
	const keep = 512
	text := string(bytes.TrimSpace(body))
	if len(text) > keep {
		text = text[:keep] + "…"
	}
	return &RefusedError{Method: method, URL: target, Status: status, Body: strings.ToValidUTF8(text, "\uFFFD")}
}
