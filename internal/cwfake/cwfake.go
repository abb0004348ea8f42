// Package cwfake is a fake CloudWatch endpoint for tests: it decodes what the
// real aws-sdk-go-v2 client sends for PutMetricData (smithy rpcv2Cbor, a POST
// to /service/GraniteServiceVersion20100801/operation/PutMetricData, gzipped
// or not) and records it, refusing anything it does not expect.
package cwfake

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwsdk "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/smithy-go/encoding/cbor"
)

// Fake is a CloudWatch endpoint speaking what this SDK version
// sends for PutMetricData: smithy rpcv2Cbor, a POST to
// /service/GraniteServiceVersion20100801/operation/PutMetricData with a CBOR
// body, gzipped or not (the operation's requestCompression trait).
type Fake struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	calls    []Call // accepted calls, in order
	requests int    // every request, failed ones included
	inFlight int    // requests between the client's send and its answer
	maxIn    int    // most requests in flight at once
	// fail answers the next fail requests with status/code; -1 fails all.
	fail       int
	failStatus int
	failCode   string
	// hang holds every request until the client gives up.
	hang bool
	// Plain makes Client() turn request compression off; a bare aws.Config
	// otherwise gzips every body (LoadDefaultConfig: those over 10 KB). Set
	// it before calling Client.
	Plain bool
}

// Call is one decoded PutMetricData request.
type Call struct {
	// AccessKey is the access key id the request was signed with, which
	// tells apart clients with different credentials.
	AccessKey string
	// SecurityToken is the X-Amz-Security-Token header: the session token
	// of temporary credentials.
	SecurityToken string
	Namespace     string
	Gzipped       bool
	Data          []Datum
}

// Datum is one decoded MetricDatum.
type Datum struct {
	Name      string
	Value     float64
	Unit      string
	Timestamp time.Time
	Dims      map[string]string
}

// New starts a fake for the test; it stops at cleanup.
func New(t *testing.T) *Fake {
	f := &Fake{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// countingTransport counts requests in flight on the client side, where a
// cancelled request ends at once, not when the server notices.
type countingTransport struct {
	f    *Fake
	next http.RoundTripper
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.f.mu.Lock()
	c.f.inFlight++
	c.f.maxIn = max(c.f.maxIn, c.f.inFlight)
	c.f.mu.Unlock()
	defer func() {
		c.f.mu.Lock()
		c.f.inFlight--
		c.f.mu.Unlock()
	}()
	return c.next.RoundTrip(r)
}

// Client is a real SDK client pointed at the fake, with the credentials
// AKID/SECRET in us-east-1 (the fake checks them).
func (f *Fake) Client() *cwsdk.Client {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	f.t.Cleanup(tr.CloseIdleConnections)
	return cwsdk.NewFromConfig(cfg, func(o *cwsdk.Options) {
		o.BaseEndpoint = aws.String(f.srv.URL)
		o.HTTPClient = &http.Client{Transport: countingTransport{f, tr}}
		o.DisableRequestCompression = f.Plain
	})
}

// FailNext answers the next n requests (every one with n = -1) with status
// and the AWS error code.
func (f *Fake) FailNext(n, status int, code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail, f.failStatus, f.failCode = n, status, code
}

// SetHang makes the fake hold every request until the client gives up.
func (f *Fake) SetHang(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hang = on
}

// URL is the fake's endpoint.
func (f *Fake) URL() string { return f.srv.URL }

// Snapshot returns the accepted calls, the number of requests and the most
// requests in flight at once.
func (f *Fake) Snapshot() (calls []Call, requests, maxIn int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...), f.requests, f.maxIn
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests++
	hang := f.hang
	failing := f.fail != 0
	if f.fail > 0 {
		f.fail--
	}
	status, code := f.failStatus, f.failCode
	f.mu.Unlock()

	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return // the client gave up while sending the body
	}
	call, err := decodeRequest(r, raw)
	if err != nil {
		f.t.Errorf("fake CloudWatch: %v", err)
		writeCBOR(w, http.StatusBadRequest, cbor.Map{"__type": cbor.String("SerializationException"), "message": cbor.String(err.Error())})
		return
	}
	if hang {
		<-r.Context().Done()
		return
	}
	if failing {
		writeCBOR(w, status, cbor.Map{
			"__type":  cbor.String("com.amazonaws.cloudwatch#" + code),
			"message": cbor.String("injected failure"),
		})
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, call)
	f.mu.Unlock()
	// PutMetricDataOutput has no members: an empty CBOR map.
	writeCBOR(w, http.StatusOK, cbor.Map{})
}

func writeCBOR(w http.ResponseWriter, status int, v cbor.Value) {
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.WriteHeader(status)
	w.Write(cbor.Encode(v))
}

// decodeRequest checks the request line and headers the SDK must send and
// decodes the CBOR body, refusing members it does not expect.
func decodeRequest(r *http.Request, raw []byte) (Call, error) {
	var c Call
	if r.Method != http.MethodPost || r.URL.Path != "/service/GraniteServiceVersion20100801/operation/PutMetricData" {
		return c, fmt.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
	}
	for h, want := range map[string]string{"Smithy-Protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"} {
		if got := r.Header.Get(h); got != want {
			return c, fmt.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
	a := r.Header.Get("Authorization")
	cred, ok := strings.CutPrefix(a, "AWS4-HMAC-SHA256 Credential=")
	if !ok || !strings.Contains(a, "/us-east-1/monitoring/aws4_request") {
		return c, fmt.Errorf("unexpected Authorization %q", a)
	}
	c.AccessKey, _, _ = strings.Cut(cred, "/")
	c.SecurityToken = r.Header.Get("X-Amz-Security-Token")
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "":
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return c, fmt.Errorf("gunzip: %w", err)
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return c, fmt.Errorf("gunzip: %w", err)
		}
		c.Gzipped = true
	default:
		return c, fmt.Errorf("unexpected Content-Encoding %q", enc)
	}
	v, err := cbor.Decode(raw)
	if err != nil {
		return c, fmt.Errorf("decode CBOR: %w", err)
	}
	in, ok := v.(cbor.Map)
	if !ok {
		return c, fmt.Errorf("body is %T, want a map", v)
	}
	for k, v := range in {
		switch k {
		case "Namespace":
			c.Namespace, err = str(v)
		case "MetricData":
			c.Data, err = decodeData(v)
		default:
			err = fmt.Errorf("unexpected input member %q", k)
		}
		if err != nil {
			return c, fmt.Errorf("%s: %w", k, err)
		}
	}
	return c, nil
}

func decodeData(v cbor.Value) ([]Datum, error) {
	list, ok := v.(cbor.List)
	if !ok {
		return nil, fmt.Errorf("is %T, want a list", v)
	}
	out := make([]Datum, 0, len(list))
	for i, item := range list {
		m, ok := item.(cbor.Map)
		if !ok {
			return nil, fmt.Errorf("[%d] is %T, want a map", i, item)
		}
		var d Datum
		for k, v := range m {
			var err error
			switch k {
			case "MetricName":
				d.Name, err = str(v)
			case "Unit":
				d.Unit, err = str(v)
			case "Value":
				d.Value, err = cbor.AsFloat64(v)
			case "Timestamp":
				d.Timestamp, err = cbor.AsTime(v)
			case "Dimensions":
				d.Dims, err = decodeDims(v)
			default:
				err = fmt.Errorf("unexpected member")
			}
			if err != nil {
				return nil, fmt.Errorf("[%d].%s: %w", i, k, err)
			}
		}
		out = append(out, d)
	}
	return out, nil
}

func decodeDims(v cbor.Value) (map[string]string, error) {
	list, ok := v.(cbor.List)
	if !ok {
		return nil, fmt.Errorf("is %T, want a list", v)
	}
	out := map[string]string{}
	for _, item := range list {
		m, ok := item.(cbor.Map)
		if !ok || len(m) != 2 {
			return nil, fmt.Errorf("dimension %v, want {Name, Value}", item)
		}
		name, err := str(m["Name"])
		if err != nil {
			return nil, err
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("dimension %q twice", name)
		}
		if out[name], err = str(m["Value"]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func str(v cbor.Value) (string, error) {
	s, ok := v.(cbor.String)
	if !ok {
		return "", fmt.Errorf("is %T, want a text string", v)
	}
	return string(s), nil
}
