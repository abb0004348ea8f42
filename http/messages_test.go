package http_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	ivshttp "github.com/ivslive/ivslive/http"
)

// TestMessageChoosesTheWords: a reason is put in words here whichever
// adapter returned it, an error without one keeps its message, and a cause
// (AWS's or a driver's words) never reaches the client.
func TestMessageChoosesTheWords(t *testing.T) {
	aws := errors.New("AccessDeniedException: User arn:aws:iam::123456789012:user/ci is not authorized")
	for _, tc := range []struct {
		err  error
		want string
	}{
		{ivslive.NotFound(ivslive.RStage), "Stage不存在"},
		{fmt.Errorf("join: %w", ivslive.NotFound(ivslive.RPublisher)), "主播直播不存在"},
		{ivslive.ReasonError(ivslive.ESTAGEFULL, ivslive.RStageFull), "Stage 已滿，請稍後再試"},
		{&ivslive.Error{Code: ivslive.EINTERNAL, Reason: ivslive.RAWSAccess, Err: aws}, "AWS 服務錯誤"},
		{ivslive.WrapError(ivslive.EVALIDATION, "IVS rejected the request", aws), "IVS rejected the request"},
		{&ivslive.Error{Code: ivslive.EUNAVAILABLE, Err: aws}, "服務不可用"},
		{aws, "內部伺服器錯誤"},
		{&ivslive.Error{Code: ivslive.ERATELIMIT}, "請求過於頻繁，請稍後再試"},
		{&ivslive.Error{Code: ivslive.ETOKEN, Err: ivslive.WrapError(ivslive.EUNAVAILABLE, "IVS is unreachable", aws)}, "Token 生成失敗"},
		// Words with numbers: the error carries the numbers, the words are here.
		{ivslive.ReasonError(ivslive.ESTAGELIMIT, ivslive.RStageLimit, 20), "已達到 Stage 數量上限 (20)"},
		{ivslive.ReasonError(ivslive.ESTAGEFULL, ivslive.RStagesFull, 3, 50), "所有承載主播畫面的 Stage 都已滿 (3 個，每個 50 人)，請稍後再試"},
		{ivslive.ReasonError(ivslive.EVALIDATION, ivslive.RMissingField, "name"), "缺少 name 參數"},
		// An inner error is shown in its own words, never its cause's.
		{ivslive.ReasonError(ivslive.ESTAGEFULL, ivslive.RCompositionRefused, ivslive.WrapError(ivslive.EUNAVAILABLE, "IVS is unavailable", aws)),
			"即時席位已滿，且無法啟動合成轉播：IVS is unavailable"},
		{ivslive.ReasonError(ivslive.ESTAGEFULL, ivslive.RCompositionRefused, ivslive.NotFound(ivslive.RCompositionSource)),
			"即時席位已滿，且無法啟動合成轉播：IVS has no such stage or channel for this composition"},
		{ivslive.ReasonError(ivslive.EUNAVAILABLE, ivslive.RHistoryUnavailable).WithCause(aws), "歷史資料庫暫時無法使用，請稍後再試"},
	} {
		if got := ivshttp.Message(tc.err); got != tc.want {
			t.Errorf("Message(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// TestErrorKeepsCausesInTheLog: the envelope shows the chosen words and the
// status of the code; the cause goes to the server's log only.
func TestErrorKeepsCausesInTheLog(t *testing.T) {
	var logged bytes.Buffer
	srv := &ivshttp.Server{Log: slog.New(slog.NewTextHandler(&logged, nil)), Now: time.Now}
	secret := "arn:aws:iam::123456789012:user/ci"
	for _, tc := range []struct {
		err    error
		status int
		want   string
	}{
		{&ivslive.Error{Code: ivslive.EINTERNAL, Reason: ivslive.RAWSAccess, Err: errors.New(secret)}, 500, "AWS 服務錯誤"},
		{ivslive.ReasonError(ivslive.EUNAVAILABLE, ivslive.RMasterNotReady), 503, "the master stage is not ready yet, try again shortly"},
	} {
		logged.Reset()
		w := httptest.NewRecorder()
		srv.Error(w, httptest.NewRequest(http.MethodGet, "/api/stage", nil), tc.err)
		var body struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if w.Code != tc.status || body.Error.Message != tc.want {
			t.Errorf("%v: %d %q, want %d %q", tc.err, w.Code, body.Error.Message, tc.status, tc.want)
		}
		if strings.Contains(w.Body.String(), "123456789012") {
			t.Errorf("the cause reached the client: %s", w.Body)
		}
		if errors.Unwrap(tc.err) != nil && !strings.Contains(logged.String(), "123456789012") {
			t.Errorf("the cause is missing from the log: %s", logged.String())
		}
	}
}

// TestMessageNeverShowsATemplate: a reason whose words take numbers, given
// none or too few, is never shown with fmt's "%!d(MISSING)": the client
// gets the code's words instead.
func TestMessageNeverShowsATemplate(t *testing.T) {
	for _, r := range ivshttp.Reasons() {
		for _, args := range [][]any{nil, {1}} {
			got := ivshttp.Message(ivslive.ReasonError(ivslive.EVALIDATION, r, args...))
			if got == "" || strings.Contains(got, "%") {
				t.Errorf("reason %s with args %v: %q", r, args, got)
			}
		}
	}
}
