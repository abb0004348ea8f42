package http

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzFastDecode: whenever the hand-written reader accepts a body,
// encoding/json accepts it too and reads the same values; when it declines,
// it leaves the value zero.
func FuzzFastDecode(f *testing.F) {
	f.Add(`{"userId":"v1","stageArn":"arn:aws:ivs:us-east-1:123456789012:stage/a"}`)
	f.Add(` { "userId" : "a" , "sessionId":"s", "participantId":"p" } `)
	f.Add(`{"userId":"a","userId":"b"}`)
	f.Add(`{"UserId":"a"}`)
	f.Add(`{"userId":"\u00e9"}`)
	f.Add(`{"userId":"é"}`)
	f.Add(`{"userId":1}`)
	f.Add(`{"userId":"a",}`)
	f.Add(`{"userId":"a"} x`)
	f.Add(`{}`)
	f.Add(`{"other":"x"}`)
	f.Fuzz(func(t *testing.T, body string) {
		var fast, slow viewerRequest
		ok := fast.decodeFast([]byte(body))
		if !ok {
			if fast != (viewerRequest{}) {
				t.Fatalf("%q: declined but left %+v", body, fast)
			}
			return
		}
		if err := json.Unmarshal([]byte(body), &slow); err != nil {
			t.Fatalf("%q: the fast path accepted what encoding/json refuses: %v", body, err)
		}
		if fast != slow {
			t.Fatalf("%q: fast %+v, encoding/json %+v", body, fast, slow)
		}
	})
}

// TestFastEncode: the hand-written heartbeat answer is byte for byte what
// encoding/json writes for the same envelope.
func TestFastEncode(t *testing.T) {
	for _, d := range []heartbeatData{
		{UserID: "v1", StageARN: "arn:aws:ivs:us-east-1:123456789012:stage/a", HeartbeatUpdated: true},
		{UserID: `quote " and \ back`, StageARN: "tab\there", HeartbeatUpdated: false},
		{UserID: "é <&> \u2028 \x01 \xff", StageARN: ""},
	} {
		for _, msg := range []string{"心跳更新成功", "", "plain"} {
			env := successEnvelope{Success: true, Data: d, Timestamp: "2026-11-25T22:00:00.000Z", Message: msg}
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(env); err != nil {
				t.Fatal(err)
			}
			got := appendSuccess(nil, d, env.Timestamp, msg)
			if !bytes.Equal(got, want.Bytes()) {
				t.Errorf("fast:\n%s\nencoding/json:\n%s", got, want.Bytes())
			}
		}
	}
}
