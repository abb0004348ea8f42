package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/google/go-cmp/cmp"
)

func (h *harness) listTags(t *testing.T, arn string) map[string]string {
	t.Helper()
	out, err := h.client.ListTagsForResource(t.Context(), &ivsrealtime.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("ListTagsForResource %s: %v", arn, err)
	}
	return out.Tags
}

func TestTagsRoundTrip(t *testing.T) {
	h := newHarness(t, Options{})
	st, err := h.client.CreateStage(t.Context(), &ivsrealtime.CreateStageInput{Tags: map[string]string{"env": "dev"}})
	if err != nil {
		t.Fatalf("CreateStage: %v", err)
	}
	key, err := h.client.ImportPublicKey(t.Context(), &ivsrealtime.ImportPublicKeyInput{PublicKeyMaterial: aws.String(newP384PEM(t))})
	if err != nil {
		t.Fatalf("ImportPublicKey: %v", err)
	}
	for _, arn := range []string{aws.ToString(st.Stage.Arn), aws.ToString(key.PublicKey.Arn)} {
		t.Run(arn, func(t *testing.T) {
			before := h.listTags(t, arn)
			if _, err := h.client.TagResource(t.Context(), &ivsrealtime.TagResourceInput{
				ResourceArn: aws.String(arn), Tags: map[string]string{"a": "1", "b": "2", "c": "3", "env": "prod"},
			}); err != nil {
				t.Fatalf("TagResource: %v", err)
			}
			want := map[string]string{"a": "1", "b": "2", "c": "3", "env": "prod"}
			if diff := cmp.Diff(want, h.listTags(t, arn)); diff != "" {
				t.Errorf("tags after TagResource (-want +got), before %v:\n%s", before, diff)
			}
			if _, err := h.client.UntagResource(t.Context(), &ivsrealtime.UntagResourceInput{
				ResourceArn: aws.String(arn), TagKeys: []string{"a", "b", "not-there"},
			}); err != nil {
				t.Fatalf("UntagResource: %v", err)
			}
			want = map[string]string{"c": "3", "env": "prod"}
			if diff := cmp.Diff(want, h.listTags(t, arn)); diff != "" {
				t.Errorf("tags after UntagResource (-want +got):\n%s", diff)
			}
		})
	}
	got, err := h.client.GetStage(t.Context(), &ivsrealtime.GetStageInput{Arn: st.Stage.Arn})
	if err != nil {
		t.Fatalf("GetStage: %v", err)
	}
	if diff := cmp.Diff(map[string]string{"c": "3", "env": "prod"}, got.Stage.Tags); diff != "" {
		t.Errorf("GetStage tags (-want +got):\n%s", diff)
	}
}

func TestTagsErrors(t *testing.T) {
	h := newHarness(t, Options{})
	st := aws.ToString(h.createStage(t, "t").Arn)
	missing := "arn:aws:ivs:us-east-1:123456789012:stage/missing"

	_, err := h.client.ListTagsForResource(t.Context(), &ivsrealtime.ListTagsForResourceInput{ResourceArn: aws.String(missing)})
	wantAPIError[*types.ResourceNotFoundException](t, err, missing)
	_, err = h.client.TagResource(t.Context(), &ivsrealtime.TagResourceInput{ResourceArn: aws.String(missing), Tags: map[string]string{"a": "b"}})
	wantAPIError[*types.ResourceNotFoundException](t, err)
	_, err = h.client.UntagResource(t.Context(), &ivsrealtime.UntagResourceInput{ResourceArn: aws.String(missing), TagKeys: []string{"a"}})
	wantAPIError[*types.ResourceNotFoundException](t, err)

	_, err = h.client.ListTagsForResource(t.Context(), &ivsrealtime.ListTagsForResourceInput{ResourceArn: aws.String("not-an-arn")})
	wantAPIError[*types.ValidationException](t, err, "'resourceArn'")
	_, err = h.client.TagResource(t.Context(), &ivsrealtime.TagResourceInput{ResourceArn: aws.String(st), Tags: map[string]string{longString(129): "v"}})
	wantAPIError[*types.ValidationException](t, err, "'tags.key'")
	_, err = h.client.UntagResource(t.Context(), &ivsrealtime.UntagResourceInput{ResourceArn: aws.String(st), TagKeys: []string{"ok", ""}})
	wantAPIError[*types.ValidationException](t, err, "'tagKeys.", ".member'")

	// 50 tags is the limit for the resource, not only for one request.
	first := map[string]string{}
	for i := range 30 {
		first[fmt.Sprintf("k%02d", i)] = "v"
	}
	if _, err := h.client.TagResource(t.Context(), &ivsrealtime.TagResourceInput{ResourceArn: aws.String(st), Tags: first}); err != nil {
		t.Fatalf("TagResource 30: %v", err)
	}
	second := map[string]string{}
	for i := 20; i < 51; i++ {
		second[fmt.Sprintf("k%02d", i)] = "w"
	}
	_, err = h.client.TagResource(t.Context(), &ivsrealtime.TagResourceInput{ResourceArn: aws.String(st), Tags: second})
	wantAPIError[*types.ValidationException](t, err, "51 tags")
	if got := len(h.listTags(t, st)); got != 30 {
		t.Errorf("a rejected TagResource changed the tag count to %d", got)
	}

	// Raw requests for what the SDK would refuse to send.
	path := "/tags/" + url.PathEscape(st)
	if status, header, b := h.post(t, http.MethodDelete, path, ""); status != 400 || header.Get("X-Amzn-ErrorType") != "ValidationException" {
		t.Errorf("DELETE without tagKeys = %d %s %s, want 400 ValidationException", status, header.Get("X-Amzn-ErrorType"), b)
	}
	if status, _, b := h.post(t, http.MethodPost, path, `{}`); status != 400 {
		t.Errorf("POST without tags = %d %s, want 400", status, b)
	}
	if status, header, _ := h.post(t, http.MethodPut, path, `{}`); status != http.StatusMethodNotAllowed || header.Get("Allow") == "" {
		t.Errorf("PUT /tags = %d (Allow %q), want 405 with Allow", status, header.Get("Allow"))
	}
}
