package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"

	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/internal/whiptest"
)

// claim reads one claim of a JWT without verifying it (the emulator does).
func claim(t *testing.T, token, name string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	v, _ := claims[name].(string)
	return v
}

// In embedded mode the stage is real: the publisher token's whip_url takes
// a WHIP publish through the API server's /ivs/ mount, and a viewer token
// plays it back.
func TestEmbeddedStageCarriesMedia(t *testing.T) {
	t.Chdir(t.TempDir())
	s := start(t, map[string]string{"API_PORT": "0", "API_SECRET_KEY": testKey})
	defer s.stop()
	s.key = testKey
	status, e := call(t, s, "POST", "/api/token/publisher", `{"userId":"host"}`)
	if status != 200 {
		t.Fatalf("publisher token: %d %s", status, e.Data)
	}
	var host struct {
		Token, ParticipantID, WhipEndpoint string
	}
	json.Unmarshal(e.Data, &host)
	whip := claim(t, host.Token, "whip_url")
	if whip != host.WhipEndpoint || !strings.Contains(whip, "/ivs/whip/") {
		t.Fatalf("whip_url %q, whipEndpoint %q", whip, host.WhipEndpoint)
	}
	pub, err := whiptest.NewPublisher(whiptest.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	resp, err := pub.Connect(t.Context(), http.DefaultClient, whip, host.Token)
	if err != nil || resp.Status != http.StatusCreated || !strings.HasPrefix(resp.Header.Get("Location"), "/ivs/whip/") {
		t.Fatalf("WHIP publish through the API server: %v %+v", err, resp)
	}

	// The emulator's control plane, mounted on the API server, tells when
	// the host's first packet arrived.
	ivs := emulatorClient(s.url + "/ivs")
	testenv.Eventually(t, 5*time.Second, "the host published", func() bool {
		return published(t, ivs, claim(t, host.Token, "resource"), host.ParticipantID)
	})

	status, e = call(t, s, "POST", "/api/token/viewer", `{"userId":"viewer"}`)
	if status != 200 {
		t.Fatalf("viewer token: %d %s", status, e.Data)
	}
	var viewer struct{ Token string }
	json.Unmarshal(e.Data, &viewer)
	sub, err := whiptest.NewSubscriber(whiptest.Codecs{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	resp, err = sub.Connect(t.Context(), http.DefaultClient, claim(t, viewer.Token, "whip_url")+"/subscribe/"+host.ParticipantID, viewer.Token)
	if err != nil || resp.Status != http.StatusCreated {
		t.Fatalf("subscribe: %v %+v", err, resp)
	}
	testenv.Eventually(t, 5*time.Second, "the host's RTP at the viewer", func() bool {
		packets, bytes, _ := sub.Received()
		return packets > 0 && bytes > 0
	})

	// The server follows the emulator's participants: IVS's count appears
	// beside the heartbeat count, and a viewer whose page closes its peer
	// connection, without a leave, is gone from the count within seconds.
	type stats struct{ TotalViewers, IVSConnected, Drift *int }
	read := func() stats {
		var st stats
		if status, e := call(t, s, "GET", "/api/stats", ""); status != 200 || json.Unmarshal(e.Data, &st) != nil || st.TotalViewers == nil {
			t.Fatalf("stats: %d %s", status, e.Data)
		}
		return st
	}
	testenv.Eventually(t, 5*time.Second, "IVS's count of the viewer", func() bool {
		st := read()
		return *st.TotalViewers == 1 && st.IVSConnected != nil && *st.IVSConnected == 1 && *st.Drift == 0
	})
	sub.Close()
	testenv.Eventually(t, 5*time.Second, "the viewer gone from the count", func() bool {
		st := read()
		return *st.TotalViewers == 0 && st.IVSConnected != nil && *st.IVSConnected == 0
	})
	if resp, err := pub.Delete(t.Context(), http.DefaultClient); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("DELETE: %v %+v", err, resp)
	}
}

// The standalone emulator serves the data plane with the same handler.
func TestStandaloneEmulatorServesWHIP(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"emulator", "--addr", "127.0.0.1:0", "--data", "-", "--media-addr", "127.0.0.1:0"},
			func(string) (string, bool) { return "", false }, pw, io.Discard)
		pw.Close()
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("emulator: %v", err)
		}
	}()
	var base string
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "IVS emulator listening on "); ok {
			base, _, _ = strings.Cut(u, " ")
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if base == "" {
		t.Fatal("the emulator did not start")
	}
	client := emulatorClient(base)
	st, err := client.CreateStage(t.Context(), &ivsrealtime.CreateStageInput{Name: aws.String("standalone")})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := client.CreateParticipantToken(t.Context(), &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Stage.Arn})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := whiptest.NewPublisher(whiptest.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	resp, err := pub.Connect(t.Context(), http.DefaultClient, aws.ToString(st.Stage.Endpoints.Whip), aws.ToString(tok.ParticipantToken.Token))
	if err != nil || resp.Status != http.StatusCreated {
		t.Fatalf("WHIP publish to the standalone emulator: %v %+v", err, resp)
	}
	testenv.Eventually(t, 5*time.Second, "the publisher published", func() bool {
		return published(t, client, aws.ToString(st.Stage.Arn), aws.ToString(tok.ParticipantToken.ParticipantId))
	})
}

// emulatorClient is an SDK client for an emulator at url.
func emulatorClient(url string) *ivsrealtime.Client {
	return ivsrealtime.New(ivsrealtime.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
}

// published says whether participant pid publishes in the stage's active
// session, as the emulator reports it.
func published(t *testing.T, c *ivsrealtime.Client, stageArn, pid string) bool {
	out, err := c.GetStage(t.Context(), &ivsrealtime.GetStageInput{Arn: aws.String(stageArn)})
	if err != nil || out.Stage.ActiveSessionId == nil {
		return false
	}
	p, err := c.GetParticipant(t.Context(), &ivsrealtime.GetParticipantInput{StageArn: aws.String(stageArn),
		SessionId: out.Stage.ActiveSessionId, ParticipantId: aws.String(pid)})
	return err == nil && p.Participant.Published
}
