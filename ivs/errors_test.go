package ivs

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/aws/smithy-go"

	"github.com/ivslive/ivslive"
)

// TestTranslateKeepsAWSWordsForTheLog: IVS's message names ARNs and the
// account; translate keeps it in the cause and gives the client a code and
// a reason only.
func TestTranslateKeepsAWSWordsForTheLog(t *testing.T) {
	aws := "arn:aws:ivs:us-east-1:123456789012:stage/abc"
	text := func(s string) *string { return &s }
	for _, tc := range []struct {
		op     string
		err    error
		code   string
		reason string
	}{
		{"GetStage", &types.ResourceNotFoundException{ExceptionMessage: text(aws + " not found")}, ivslive.ENOTFOUND, ivslive.RStage},
		{"StartParticipantReplication", &types.ResourceNotFoundException{ExceptionMessage: text(aws)}, ivslive.ENOTFOUND, ivslive.RReplicationTarget},
		{"UpdateStage", &types.ValidationException{ExceptionMessage: text(aws + " is invalid")}, ivslive.EVALIDATION, ""},
		{"CreateStage", &types.AccessDeniedException{ExceptionMessage: text("user " + aws)}, ivslive.EINTERNAL, ivslive.RAWSAccess},
		{"ListStages", &smithy.GenericAPIError{Code: "ConflictException", Message: aws}, ivslive.ECONFLICT, ""},
	} {
		err := translate(tc.op, tc.err)
		var e *ivslive.Error
		if !errors.As(err, &e) || e.Code != tc.code || e.Reason != tc.reason {
			t.Errorf("%s %T: got %#v, want %s/%s", tc.op, tc.err, err, tc.code, tc.reason)
			continue
		}
		if strings.Contains(e.Message, "123456789012") {
			t.Errorf("%s: AWS's words in the client message %q", tc.op, e.Message)
		}
		if !strings.Contains(err.Error(), "123456789012") {
			t.Errorf("%s: AWS's words missing from the log text %q", tc.op, err.Error())
		}
	}
}
