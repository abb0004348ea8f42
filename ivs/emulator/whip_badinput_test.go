package emulator

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/ivslive/ivslive/internal/whiptest"
)

// rawWHIP sends one data-plane request and returns the status, the headers
// and the body.
func (h *harness) rawWHIP(t *testing.T, method, url, contentType, token, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// Bad input on the data plane: a precise 4xx each time, never a 5xx.
func TestWHIPBadInput(t *testing.T) {
	h := newHarness(t, Options{Quotas: Quotas{PublishersPerStage: 1, SubscribersPerStage: 1}})
	st := h.createStage(t, "bad")
	arn := aws.ToString(st.Arn)
	url := h.whipURL(st)
	_, token := h.token(t, arn, "", publishCaps...)
	offer := offerFor(t, whiptest.PublishOptions{})
	tests := []struct {
		name, method, url, contentType, token, body string
		status                                      int
		fragment                                    string
	}{
		{"GET", http.MethodGet, url, "", token, "", 405, "not allowed"},
		{"no stage id", http.MethodPost, h.srv.URL + "/whip/", "application/sdp", token, offer, 404, "no WHIP endpoint"},
		{"bad stage id", http.MethodPost, h.srv.URL + "/whip/a%20b", "application/sdp", token, offer, 404, "no WHIP endpoint"},
		{"unknown stage", http.MethodPost, h.srv.URL + "/whip/nope", "application/sdp", token, offer, 404, "not found"},
		{"unknown path", http.MethodPost, url + "/nothing/here", "application/sdp", token, offer, 404, "no WHIP endpoint"},
		{"JSON", http.MethodPost, url, "application/json", token, `{"sdp":""}`, 415, "application/sdp"},
		{"no content type", http.MethodPost, url, "", token, offer, 415, "application/sdp"},
		{"empty offer", http.MethodPost, url, "application/sdp", token, "", 400, "no SDP offer"},
		{"huge offer", http.MethodPost, url, "application/sdp", token, strings.Repeat("a=x\r\n", 20000), 413, "larger than"},
		{"malformed SDP", http.MethodPost, url, "application/sdp", token, "v=0\r\nthis is not sdp\r\n", 400, "bad SDP offer"},
		{"SDP without media", http.MethodPost, url, "application/sdp", token, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", 400, "no audio or video"},
		{"SDP without ICE credentials", http.MethodPost, url, "application/sdp", token,
			"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n", 400, "ICE"},
		{"trickle ICE", http.MethodPatch, url + "/resource/abc", "application/trickle-ice-sdpfrag", token, "a=end-of-candidates", 405, "not allowed"},
		{"DELETE unknown resource", http.MethodDelete, url + "/resource/abc", "", "", "", 404, "no WHIP resource"},
		{"subscribe to nobody", http.MethodPost, url + "/subscribe/nobody", "application/sdp", token, offer, 404, "PUBLISHER_NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := h.rawWHIP(t, tt.method, tt.url, tt.contentType, tt.token, tt.body)
			if status != tt.status || !strings.Contains(body, tt.fragment) {
				t.Errorf("%s %s = %d %s, want %d mentioning %q", tt.method, tt.url, status, body, tt.status, tt.fragment)
			}
			if header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("no CORS header on a refusal: %v", header)
			}
		})
	}

	// A preflight from a page on another origin.
	status, header, _ := h.rawWHIP(t, http.MethodOptions, url, "", "", "")
	if status != http.StatusNoContent || header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(header.Get("Access-Control-Allow-Headers"), "Authorization") ||
		!strings.Contains(header.Get("Access-Control-Allow-Methods"), "DELETE") {
		t.Errorf("OPTIONS = %d %v", status, header)
	}

	// The stage holds one publisher: a second one is refused and recorded.
	h.em.SetPublishing(arn, "virtual-host", true)
	fullID, fullToken := h.token(t, arn, "", publishCaps...)
	status, _, body := h.rawWHIP(t, http.MethodPost, url, "application/sdp", fullToken, offer)
	if status != http.StatusConflict || !strings.Contains(body, "QUOTA_EXCEEDED") {
		t.Fatalf("publish to a full stage = %d %s, want 409 QUOTA_EXCEEDED", status, body)
	}
	session := h.activeSession(t, arn)
	if diff := cmp.Diff([]string{"JOIN_ERROR:QUOTA_EXCEEDED"}, eventNames(h.events(t, arn, session, fullID))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if code, _, b := h.post(t, http.MethodPost, "/_emulator/publishing", `{"stageArn":"`+arn+`","participantId":"second","publishing":true}`); code != http.StatusPaymentRequired {
		t.Errorf("virtual publisher on a full stage = %d %s, want 402", code, b)
	}
	// A virtual publisher has no media to subscribe to.
	_, viewer := h.token(t, arn, "", subscribeOnly...)
	status, _, body = h.rawWHIP(t, http.MethodPost, url+"/subscribe/virtual-host", "application/sdp", viewer, offerFor(t, whiptest.PublishOptions{}))
	if status != http.StatusConflict || !strings.Contains(body, "without media") {
		t.Errorf("subscribe to a virtual publisher = %d %s, want 409", status, body)
	}

	// A real publisher on another stage, with room for one subscriber.
	st2 := h.createStage(t, "quota")
	hostID, hostToken := h.token(t, aws.ToString(st2.Arn), "", publishCaps...)
	h.publish(t, st2, hostToken, whiptest.PublishOptions{})
	h.waitPublishing(t, aws.ToString(st2.Arn), hostID)
	_, v1 := h.token(t, aws.ToString(st2.Arn), "", subscribeOnly...)
	first := h.subscribe(t, st2, hostID, v1)
	v2ID, v2 := h.token(t, aws.ToString(st2.Arn), "", subscribeOnly...)
	sub, err := whiptest.NewSubscriber(whiptest.Codecs{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	resp, err := sub.Connect(t.Context(), h.srv.Client(), h.whipURL(st2)+"/subscribe/"+hostID, v2)
	if err != nil || resp.Status != http.StatusConflict || !strings.Contains(resp.Body, "QUOTA_EXCEEDED") {
		t.Fatalf("second subscriber = %v %+v, want 409 QUOTA_EXCEEDED", err, resp)
	}
	session2 := h.activeSession(t, aws.ToString(st2.Arn))
	if diff := cmp.Diff([]string{"JOIN_ERROR:QUOTA_EXCEEDED"}, eventNames(h.events(t, aws.ToString(st2.Arn), session2, v2ID))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	// A resource of one stage cannot be ended through another's path.
	status, _, _ = h.rawWHIP(t, http.MethodDelete, url+"/resource/"+lastSegment(first.Resource), "", "", "")
	if status != http.StatusNotFound {
		t.Errorf("DELETE through another stage = %d, want 404", status)
	}
	if status, _, _ = h.rawWHIP(t, http.MethodDelete, first.Resource, "", "", ""); status != http.StatusOK {
		t.Errorf("DELETE through its own stage = %d, want 200", status)
	}
}

func lastSegment(path string) string {
	return path[strings.LastIndex(path, "/")+1:]
}
