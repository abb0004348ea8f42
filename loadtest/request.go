package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"
)

// call is one request the engine sends.
type call struct {
	route  route
	method string
	url    string
	body   []byte
	header http.Header // shared and read-only: never modified after creation
	// decode, when set, reads a 2xx answer's body; an error makes the
	// request count as failed ("unusable answer").
	decode func(body []byte) error
	// onSend, when set, is called once the request may go: when result.
	// started is true.
	onSend func()
}

// result is what the caller learns about a request.
type result struct {
	started bool          // onSend was called
	ok      bool          // answered 2xx with a usable body
	sent    time.Duration // since the run's start
	done    time.Duration
}

// envelope is the part of the API's answer the engine reads.
type envelope[T any] struct {
	Success bool `json:"success"`
	Data    T    `json:"data"`
}

// decodeData unmarshals an envelope's data into v, failing on an envelope
// that says it did not succeed.
func decodeData[T any](body []byte, v *T) error {
	var e envelope[T]
	if err := json.Unmarshal(body, &e); err != nil {
		return errors.New("unusable answer: not the JSON envelope")
	}
	if !e.Success {
		return errors.New("unusable answer: success is false")
	}
	*v = e.Data
	return nil
}

// do sends c within the concurrency bound, measures it from send to the
// whole body read, and records it. A request that fails because ctx ended is
// not recorded: the run is stopping.
func (e *engine) do(ctx context.Context, c call) result {
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return result{}
	}
	defer func() { <-e.sem }()
	var res result
	if c.onSend != nil {
		c.onSend()
		res.started = true
	}

	var body io.Reader = http.NoBody
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, body)
	if err != nil {
		e.rec[c.route].record(0, true, 0, errorText(err))
		return res
	}
	req.Header = c.header
	rec := &e.rec[c.route]
	t0 := time.Now()
	res.sent = t0.Sub(e.start)
	if res.sent < e.o.Warmup {
		rec = &e.warm // made, not counted
	}
	resp, err := e.client.Do(req)
	if err != nil {
		res.done = time.Since(e.start)
		if ctx.Err() == nil {
			rec.record(res.done-res.sent, true, 0, errorText(err))
		}
		return res
	}
	var rerr error
	var buf *bytes.Buffer
	refusal := ""
	switch {
	case c.decode != nil && resp.StatusCode/100 == 2:
		buf = e.buffers.Get().(*bytes.Buffer)
		buf.Reset()
		_, rerr = buf.ReadFrom(resp.Body)
	case resp.StatusCode/100 != 2:
		refusal = errorCode(resp.Body)
		_, rerr = io.Copy(io.Discard, resp.Body)
	default:
		_, rerr = io.Copy(io.Discard, resp.Body)
	}
	resp.Body.Close()
	res.done = time.Since(e.start)
	lat := res.done - res.sent
	switch {
	case rerr != nil:
		if ctx.Err() == nil {
			rec.record(lat, true, 0, errorText(rerr))
		}
	case resp.StatusCode/100 != 2:
		rec.record(lat, true, resp.StatusCode, refusal)
	case c.decode != nil:
		if err := c.decode(buf.Bytes()); err != nil {
			rec.record(lat, true, resp.StatusCode, err.Error())
		} else {
			res.ok = true
			rec.record(lat, false, resp.StatusCode, "")
		}
	default:
		res.ok = true
		rec.record(lat, false, resp.StatusCode, "")
	}
	if c.route == rHeartbeat && e.series != nil {
		e.series.add(res.sent, lat)
	}
	if buf != nil && buf.Cap() <= 64<<10 {
		e.buffers.Put(buf)
	}
	return res
}

// keyHeader is the header of requests authenticated by the API key.
func keyHeader(key string) http.Header {
	h := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"ivslive-loadtest"}}
	if key != "" {
		h["X-Api-Key"] = []string{key}
	}
	return h
}

// bearerHeader is the header of a viewer's requests authenticated by its
// session token.
func bearerHeader(token string) http.Header {
	return http.Header{"Content-Type": {"application/json"}, "User-Agent": {"ivslive-loadtest"},
		"Authorization": {"Bearer " + token}}
}

// errorCode reads the API's error code from a refusal's envelope, as
// "refused: STAGE_FULL", so the report says why; "" when the body is not the
// envelope.
func errorCode(body io.Reader) string {
	var env struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.NewDecoder(io.LimitReader(body, 16<<10)).Decode(&env) != nil || env.Error.Code == "" {
		return ""
	}
	return "refused: " + env.Error.Code
}
