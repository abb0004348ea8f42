package http_test

import (
	"testing"
	"time"

	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/token"
)

type tokenData struct {
	Token         string   `json:"token"`
	ParticipantID string   `json:"participantId"`
	UserID        string   `json:"userId"`
	StageARN      string   `json:"stageArn"`
	Capabilities  []string `json:"capabilities"`
	ExpiresAt     string   `json:"expiresAt"`
	ExpiresIn     int64    `json:"expiresIn"`
	WHIPEndpoint  string   `json:"whipEndpoint"`
}

func TestPublisherToken(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	var tok tokenData
	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host1"}).Decode(t, &tok)
	if tok.UserID != "broadcaster-host1" || tok.StageARN != env.Live.MasterARN() || len(tok.Capabilities) != 1 || tok.Capabilities[0] != "PUBLISH" {
		t.Fatalf("token data = %+v", tok)
	}
	// Four hours, in seconds: the Node server sent seconds as minutes.
	if tok.ExpiresIn < 4*3600-5 || tok.ExpiresIn > 4*3600 {
		t.Fatalf("expiresIn = %d, want 14400", tok.ExpiresIn)
	}
	claims, err := token.Verify(tok.Token, env.Signer.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if claims.ID != tok.ParticipantID || claims.Resource != tok.StageARN || !claims.Capabilities.AllowPublish || claims.Capabilities.AllowSubscribe {
		t.Fatalf("claims = %+v", claims)
	}
	if claims.WHIPURL != tok.WHIPEndpoint || tok.WHIPEndpoint == "" {
		t.Fatalf("whip url %q vs whipEndpoint %q", claims.WHIPURL, tok.WHIPEndpoint)
	}
	if got := claims.ExpiresAt.Sub(claims.IssuedAt.Time); got != 4*time.Hour {
		t.Fatalf("token lifetime %v, want 4h", got)
	}
	var info struct {
		HasPublisher  bool `json:"hasPublisher"`
		PublisherInfo struct {
			ParticipantID string `json:"participantId"`
			UserID        string `json:"userId"`
		} `json:"publisherInfo"`
	}
	env.Must(t, 200, "GET", "/api/stage/replication/publisher-info", nil).Decode(t, &info)
	if !info.HasPublisher || info.PublisherInfo.ParticipantID != tok.ParticipantID || info.PublisherInfo.UserID != "host1" {
		t.Fatalf("publisher info = %+v", info)
	}
	env.Must(t, 200, "POST", "/api/token/publisher/end", map[string]string{})
	env.Must(t, 200, "GET", "/api/stage/replication/publisher-info", nil).Decode(t, &info)
	if info.HasPublisher {
		t.Fatal("publisher still live after end")
	}
	env.Must(t, 404, "POST", "/api/token/publisher/end", map[string]string{})
}

func TestMediaServerToken(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	body := map[string]string{"serverId": "relay1", "stageArn": env.Live.MasterARN()}
	for name, secret := range map[string]string{"no secret": "", "wrong secret": "nope"} {
		r := env.Must(t, 403, "POST", "/api/token/mediaserver", body, "X-Internal-Secret", secret)
		if r.Error.Code != "FORBIDDEN" {
			t.Errorf("%s: %s", name, r.Raw)
		}
	}
	var tok tokenData
	env.Must(t, 200, "POST", "/api/token/mediaserver", body, "X-Internal-Secret", "internal-secret").Decode(t, &tok)
	claims, err := token.Verify(tok.Token, env.Signer.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if claims.UserID != "media-server-relay1" || !claims.Capabilities.AllowPublish || !claims.Capabilities.AllowSubscribe {
		t.Fatalf("claims = %+v", claims)
	}
}

func TestMediaServerFailsClosedWithoutSecret(t *testing.T) {
	env := apitest.New(t, apitest.Options{HTTP: func(c *ivshttp.Config) { c.InternalSecret = "" }})
	body := map[string]string{"serverId": "relay1", "stageArn": env.Live.MasterARN()}
	env.Must(t, 403, "POST", "/api/token/mediaserver", body)
	env.Must(t, 403, "POST", "/api/token/mediaserver", body, "X-Internal-Secret", "anything")
}

// A viewer's token answer names the publisher to subscribe to, so a player
// holding only a viewer key can find it.
func TestViewerTokenNamesThePublisher(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	var pub tokenData
	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host1"}).Decode(t, &pub)
	var v struct {
		tokenData
		PublisherParticipantID string `json:"publisherParticipantId"`
	}
	env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "u1"}, "X-Api-Key", apitest.ViewerKey).Decode(t, &v)
	if v.PublisherParticipantID == "" || v.PublisherParticipantID != pub.ParticipantID || v.ParticipantID == pub.ParticipantID {
		t.Fatalf("viewer token names publisher %q (its own id %q), want %q", v.PublisherParticipantID, v.ParticipantID, pub.ParticipantID)
	}
}
