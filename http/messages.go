package http

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ivslive/ivslive"
)

// The client-facing text of errors is chosen here, and only here: adapters
// and the core return a code and, where a client needs to know which thing
// is meant, a reason (ivslive.R*). The texts are the Node server's where it
// had them (its sendNotFound writes "<resource>不存在" with no space), so
// its clients keep matching on them; English otherwise.

// reasonText is the text of each reason.
var reasonText = map[string]string{
	ivslive.RStage:                "Stage不存在",
	ivslive.RPublisher:            "主播直播不存在",
	ivslive.RSession:              "觀眾 Session不存在",
	ivslive.RPublicKey:            "Public key不存在",
	ivslive.RChannel:              "Channel不存在",
	ivslive.RPlaybackKeyPair:      "Playback key pair不存在",
	ivslive.RComposition:          "Composition不存在",
	ivslive.REncoderConfiguration: "Encoder configuration不存在",
	ivslive.RReplicationTarget:    "IVS has no such stage or participant for this replication",
	ivslive.RCompositionSource:    "IVS has no such stage or channel for this composition",
	ivslive.RStageFull:            "Stage 已滿，請稍後再試",
	ivslive.RStageClosing:         "Stage 正在關閉，請稍後再試",
	ivslive.RMasterStage:          "無法刪除主 Stage",
	ivslive.RStageHasViewers:      "Stage 中仍有觀眾，無法刪除",
	ivslive.RMasterNotReady:       "the master stage is not ready yet, try again shortly",
	ivslive.RAWSAccess:            "AWS 服務錯誤",
	ivslive.RMissingField:         "缺少 %s 參數",
	ivslive.RShortStageID:         "此 API 只接受短 Stage ID。如需使用完整 ARN，請使用 GET /api/stats/stages?arn=...",
	ivslive.RStageLimit:           "已達到 Stage 數量上限 (%d)",
	ivslive.RSubscriptionsQuota:   "已達到 AWS 帳號的同時訂閱配額 (%d)，請稍後再試",
	ivslive.RStagesFull:           "所有承載主播畫面的 Stage 都已滿 (%d 個，每個 %d 人)，請稍後再試",
	ivslive.RCompositionRefused:   "即時席位已滿，且無法啟動合成轉播：%s",
	ivslive.RHistoryUnavailable:   "歷史資料庫暫時無法使用，請稍後再試",
	ivslive.RDatabaseUnavailable:  "database unavailable, try again",
	ivslive.RDatabaseRefused:      "the database refused a value",
}

// codeText is the text of an error that carries neither a reason nor a
// message of its own, and of every error that is not an *ivslive.Error.
var codeText = map[string]string{
	ivslive.EINTERNAL:    "內部伺服器錯誤",
	ivslive.EUNAVAILABLE: "服務不可用",
	ivslive.ENOTFOUND:    "not found",
	ivslive.EVALIDATION:  "資料驗證失敗",
	ivslive.ETOKEN:       "Token 生成失敗",
	ivslive.ERATELIMIT:   "請求過於頻繁，請稍後再試",
	ivslive.EFORBIDDEN:   "無權訪問",
}

// routeNotFound is the Node server's answer to a path no route serves.
func routeNotFound(path string) *ivslive.Error {
	return ivslive.Errorf(ivslive.ENOTFOUND, "路由 %s 不存在", path)
}

// authFailures answers a client locked out after failed authentications.
func authFailures() *ivslive.Error {
	return ivslive.Errorf(ivslive.ERATELIMIT, "驗證失敗次數過多，請稍後再試")
}

// Message returns the text a client is shown for err: its reason's words
// (with its Args filled in; an error argument is shown as its own Message),
// else its own message, else its code's words. The cause (an AWS or driver
// message) is never part of it; Error logs that.
func Message(err error) string {
	var e *ivslive.Error
	if !errors.As(err, &e) {
		return codeText[ivslive.EINTERNAL]
	}
	if t, ok := reasonText[e.Reason]; ok {
		if !strings.Contains(t, "%") {
			return t
		}
		args := make([]any, len(e.Args))
		for i, a := range e.Args {
			if inner, isErr := a.(error); isErr {
				a = Message(inner)
			}
			args[i] = a
		}
		// A template given the wrong arguments (fmt's "%!d(MISSING)") is
		// never shown: the error's own message or its code's words are.
		if m := fmt.Sprintf(t, args...); !strings.Contains(m, "%!") {
			return m
		}
	}
	if e.Message != "" {
		return e.Message
	}
	if t, ok := codeText[e.Code]; ok {
		return t
	}
	return e.Code
}
