package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

func TestNewRejectsBadBaseURL(t *testing.T) {
	for _, base := range []string{"localhost:3000", "ftp://host/ivs", "http://"} {
		if _, err := New(Options{BaseURL: base}); err == nil {
			t.Errorf("New(BaseURL %q) succeeded, want an error", base)
		}
	}
}

func TestWireFormat(t *testing.T) {
	h := newHarness(t, Options{})
	requestID := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	tests := []struct {
		name, method, path, body string
		status                   int
		errorType                string
	}{
		{"success", http.MethodPost, "/CreateStage", `{"name":"raw"}`, 200, ""},
		{"empty body counts as {}", http.MethodPost, "/ListStages", ``, 200, ""},
		{"unknown operation", http.MethodPost, "/CreateChannel", `{}`, 404, "UnknownOperationException"},
		{"unmodeled operation", http.MethodPost, "/CreateIngestConfiguration", `{}`, 404, "UnknownOperationException"},
		{"low-latency operation on the real-time path", http.MethodPost, "/lowlatency/CreateStage", `{}`, 404, "UnknownOperationException"},
		{"nested path", http.MethodPost, "/CreateStage/x", `{}`, 404, "UnknownOperationException"},
		{"wrong method", http.MethodGet, "/CreateStage", ``, 405, "MethodNotAllowedException"},
		{"malformed JSON", http.MethodPost, "/CreateStage", `{"name":`, 400, "ValidationException"},
		{"wrong JSON type", http.MethodPost, "/CreateParticipantToken", `{"stageArn":"arn:aws:ivs:us-east-1:1:stage/a","duration":"long"}`, 400, "ValidationException"},
		{"missing required member", http.MethodPost, "/GetStage", `{}`, 400, "ValidationException"},
		{"not found", http.MethodPost, "/GetStage", `{"arn":"arn:aws:ivs:us-east-1:123456789012:stage/nope"}`, 404, "ResourceNotFoundException"},
		{"missing nested required member", http.MethodPost, "/CreateStage", `{"autoParticipantRecordingConfiguration":{}}`, 400, "ValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := h.post(t, tt.method, tt.path, tt.body)
			if status != tt.status {
				t.Errorf("status = %d, want %d (body %s)", status, tt.status, body)
			}
			if got := header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			if got := header.Get("x-amzn-RequestId"); !requestID.MatchString(got) {
				t.Errorf("x-amzn-RequestId = %q, want a UUID", got)
			}
			if got := header.Get("X-Amzn-ErrorType"); got != tt.errorType {
				t.Errorf("X-Amzn-ErrorType = %q, want %q", got, tt.errorType)
			}
			m := decodeJSON(t, body)
			if tt.errorType != "" && (m["exceptionMessage"] == "" || m["exceptionMessage"] != m["message"]) {
				t.Errorf("error body = %s, want exceptionMessage and message", body)
			}
		})
	}
	_, _, body := h.post(t, http.MethodPost, "/GetStage", `{}`)
	if got := decodeJSON(t, body)["exceptionMessage"]; got != "1 validation error detected: Value null at 'arn' failed to satisfy constraint: Member must not be null" {
		t.Errorf("missing member message = %q", got)
	}
	_, _, body = h.post(t, http.MethodPost, "/CreateStage", `{}`)
	arn := decodeJSON(t, body)["stage"].(map[string]any)["arn"].(string)
	status, _, body := h.post(t, http.MethodPost, "/DeleteStage", `{"arn":"`+arn+`"}`)
	if status != 200 || string(body) != "{}" {
		t.Errorf("DeleteStage = %d %q, want 200 {}", status, body)
	}
}

func TestMountedUnderPrefix(t *testing.T) {
	em, err := New(Options{BaseURL: "http://127.0.0.1:3000/ivs"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { em.Close() })
	mux := http.NewServeMux()
	mux.Handle("/ivs/", http.StripPrefix("/ivs", em))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "main server", http.StatusTeapot) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client := newClient(srv.URL+"/ivs", 1)

	st, err := client.CreateStage(t.Context(), &ivsrealtime.CreateStageInput{Name: aws.String("mounted"), Tags: map[string]string{"a": "1", "b": "2"}})
	if err != nil {
		t.Fatalf("CreateStage under /ivs: %v", err)
	}
	if got := aws.ToString(st.Stage.Endpoints.Whip); !regexp.MustCompile(`^http://127\.0\.0\.1:3000/ivs/whip/[A-Za-z0-9]{12}$`).MatchString(got) {
		t.Errorf("whip endpoint = %q", got)
	}
	if _, err := client.UntagResource(t.Context(), &ivsrealtime.UntagResourceInput{ResourceArn: st.Stage.Arn, TagKeys: []string{"a"}}); err != nil {
		t.Fatalf("UntagResource under /ivs: %v", err)
	}
	tags, err := client.ListTagsForResource(t.Context(), &ivsrealtime.ListTagsForResourceInput{ResourceArn: st.Stage.Arn})
	if err != nil {
		t.Fatalf("ListTagsForResource under /ivs: %v", err)
	}
	if diff := cmp.Diff(map[string]string{"b": "2"}, tags.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	_, err = client.GetStage(t.Context(), &ivsrealtime.GetStageInput{Arn: aws.String("arn:aws:ivs:us-east-1:123456789012:stage/nope")})
	wantAPIError[*types.ResourceNotFoundException](t, err)

	resp, err := srv.Client().Get(srv.URL + "/ivs/.well-known/jwks.json")
	if err != nil {
		t.Fatalf("GET JWKS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("JWKS under /ivs = %d, want 200", resp.StatusCode)
	}
}

// noBackoff retries at once so a retry test does not sleep.
type noBackoff struct{}

func (noBackoff) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

func TestInjectError(t *testing.T) {
	h := newHarness(t, Options{})
	st := h.createStage(t, "faults")

	h.em.InjectError("GetStage", "ResourceNotFoundException", 404, 1)
	_, err := h.client.GetStage(t.Context(), &ivsrealtime.GetStageInput{Arn: st.Arn})
	wantAPIError[*types.ResourceNotFoundException](t, err, "injected")
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.ServiceRequestID() == "" {
		t.Errorf("error %v carries no request id", err)
	}
	if _, err := h.client.GetStage(t.Context(), &ivsrealtime.GetStageInput{Arn: st.Arn}); err != nil {
		t.Errorf("GetStage after the injected error was used up: %v", err)
	}

	h.em.InjectError("CreateStage", "ServiceQuotaExceededException", 402, 2)
	for range 2 {
		_, err := h.client.CreateStage(t.Context(), &ivsrealtime.CreateStageInput{})
		wantAPIError[*types.ServiceQuotaExceededException](t, err)
	}
	h.createStage(t, "third-call")

	h.em.InjectError("ListTagsForResource", "InternalServerException", 500, 1)
	_, err = h.client.ListTagsForResource(t.Context(), &ivsrealtime.ListTagsForResourceInput{ResourceArn: st.Arn})
	wantAPIError[*types.InternalServerException](t, err)

	h.em.InjectError("ListStages", "ThrottlingException", 429, 1)
	_, err = h.client.ListStages(t.Context(), &ivsrealtime.ListStagesInput{})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ThrottlingException" {
		t.Errorf("throttled ListStages error = %v, want ThrottlingException", err)
	}

	h.em.InjectError("ListStages", "ThrottlingException", 429, 5)
	h.em.InjectError("ListStages", "", 0, 0) // clears the injection
	if _, err := h.client.ListStages(t.Context(), &ivsrealtime.ListStagesInput{}); err != nil {
		t.Errorf("ListStages after clearing the injection: %v", err)
	}

	// With retries on, the SDK treats the throttle as retryable and succeeds.
	h.em.InjectError("ListStages", "ThrottlingException", 429, 2)
	retrying := ivsrealtime.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	}, func(o *ivsrealtime.Options) {
		o.BaseEndpoint = aws.String(h.srv.URL)
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 3
			so.Backoff = noBackoff{}
		})
	})
	if _, err := retrying.ListStages(t.Context(), &ivsrealtime.ListStagesInput{}); err != nil {
		t.Errorf("ListStages with retries after 2 throttles: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	h := newHarness(t, Options{StatePath: t.TempDir() + "/state.json"})
	// Reads retry as any real client does: under load Go's transport now and
	// then loses a keep-alive connection mid-response ("use of closed
	// network connection", aws-sdk-go-v2#2737), which the SDK's retryer
	// treats as transient. Writes keep one attempt, so a retried
	// CreateStage can never create a stage the test does not know of.
	reader := newClient(h.srv.URL, 3)
	const workers, perWorker = 16, 8
	var wg sync.WaitGroup
	var failures atomic.Int32
	arns := make(chan string, workers*perWorker)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				st, err := h.client.CreateStage(t.Context(), &ivsrealtime.CreateStageInput{Name: aws.String(fmt.Sprintf("w%d-%d", w, i))})
				if err != nil {
					failures.Add(1)
					t.Errorf("CreateStage: %v", err)
					return
				}
				arns <- aws.ToString(st.Stage.Arn)
				if _, err := h.client.CreateParticipantToken(t.Context(), &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Stage.Arn}); err != nil {
					t.Errorf("CreateParticipantToken: %v", err)
				}
				if _, err := reader.ListStages(t.Context(), &ivsrealtime.ListStagesInput{MaxResults: aws.Int32(5)}); err != nil {
					t.Errorf("ListStages: %v", err)
				}
				h.em.SetPublishing(aws.ToString(st.Stage.Arn), "p", i%2 == 0)
			}
		}()
	}
	wg.Wait()
	close(arns)
	seen := map[string]bool{}
	for arn := range arns {
		if seen[arn] {
			t.Errorf("duplicate stage ARN %s", arn)
		}
		seen[arn] = true
	}
	if failures.Load() == 0 && len(seen) != workers*perWorker {
		t.Errorf("created %d stages, want %d", len(seen), workers*perWorker)
	}
	var total int
	var token *string
	for {
		out, err := reader.ListStages(t.Context(), &ivsrealtime.ListStagesInput{NextToken: token})
		if err != nil {
			t.Fatalf("ListStages: %v", err)
		}
		total += len(out.Stages)
		if out.NextToken == nil {
			break
		}
		token = out.NextToken
	}
	if total != len(seen) {
		t.Errorf("ListStages saw %d stages, want %d", total, len(seen))
	}
}
