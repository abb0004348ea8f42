package emulator

import (
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	ivstypes "github.com/aws/aws-sdk-go-v2/service/ivs/types"
)

// lowLatency returns a real ivs (low-latency) SDK client for the harness's
// emulator, which serves that service under /lowlatency.
func (h *harness) lowLatency() *ivs.Client {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	return ivs.NewFromConfig(cfg, func(o *ivs.Options) {
		o.BaseEndpoint = aws.String(h.srv.URL + "/lowlatency")
		o.RetryMaxAttempts = 1
	})
}

// createChannel creates a low-latency channel through the SDK.
func (h *harness) createChannel(t *testing.T, name string, authorized bool) *ivstypes.Channel {
	t.Helper()
	out, err := h.lowLatency().CreateChannel(t.Context(), &ivs.CreateChannelInput{
		Name: aws.String(name), LatencyMode: ivstypes.ChannelLatencyModeLowLatency, Authorized: authorized,
		Tags: map[string]string{"ivslive": "test"}})
	if err != nil {
		t.Fatalf("CreateChannel %s: %v", name, err)
	}
	return out.Channel
}

func TestChannelLifecycle(t *testing.T) {
	h := newHarness(t, Options{BaseURL: "http://example.test:3000/ivs"})
	c := h.lowLatency()
	ch := h.createChannel(t, "audience", true)
	arn := aws.ToString(ch.Arn)
	if !h.em.re.channelArn.MatchString(arn) {
		t.Errorf("ARN %q does not match the model's pattern", arn)
	}
	if ch.LatencyMode != ivstypes.ChannelLatencyModeLowLatency || ch.Type != ivstypes.ChannelTypeStandardChannelType || !ch.Authorized {
		t.Errorf("channel = %+v", ch)
	}
	id := arn[len(arn)-12:]
	if got, want := aws.ToString(ch.PlaybackUrl), "http://example.test:3000/ivs/playback/"+id+".m3u8"; got != want {
		t.Errorf("playbackUrl = %q, want %q", got, want)
	}

	got, err := c.GetChannel(t.Context(), &ivs.GetChannelInput{Arn: aws.String(arn)})
	if err != nil || aws.ToString(got.Channel.PlaybackUrl) != aws.ToString(ch.PlaybackUrl) || got.Channel.Tags["ivslive"] != "test" {
		t.Fatalf("GetChannel = %+v, %v", got, err)
	}
	h.createChannel(t, "other", false)
	list, err := c.ListChannels(t.Context(), &ivs.ListChannelsInput{FilterByName: aws.String("audience")})
	if err != nil || len(list.Channels) != 1 || aws.ToString(list.Channels[0].Arn) != arn {
		t.Fatalf("ListChannels by name = %+v, %v", list, err)
	}
	all, err := c.ListChannels(t.Context(), &ivs.ListChannelsInput{MaxResults: aws.Int32(1)})
	if err != nil || len(all.Channels) != 1 || all.NextToken == nil {
		t.Fatalf("ListChannels page 1 = %+v, %v", all, err)
	}

	if _, err := c.DeleteChannel(t.Context(), &ivs.DeleteChannelInput{Arn: aws.String(arn)}); err != nil {
		t.Fatalf("DeleteChannel: %v", err)
	}
	_, err = c.GetChannel(t.Context(), &ivs.GetChannelInput{Arn: aws.String(arn)})
	wantAPIError[*ivstypes.ResourceNotFoundException](t, err, arn)
}

func TestChannelValidation(t *testing.T) {
	h := newHarness(t, Options{})
	c := h.lowLatency()
	_, err := c.CreateChannel(t.Context(), &ivs.CreateChannelInput{Name: aws.String("no spaces")})
	wantAPIError[*ivstypes.ValidationException](t, err, "'name'", "regular expression")
	_, err = c.CreateChannel(t.Context(), &ivs.CreateChannelInput{Type: "HUGE"})
	wantAPIError[*ivstypes.ValidationException](t, err, "'type'", "enum")
	_, err = c.GetChannel(t.Context(), &ivs.GetChannelInput{Arn: aws.String("arn:aws:ivs:us-east-1:123456789012:stage/abc")})
	wantAPIError[*ivstypes.ValidationException](t, err, "'arn'")
	_, err = c.ImportPlaybackKeyPair(t.Context(), &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(newECPEM(t, elliptic256()))})
	wantAPIError[*ivstypes.ValidationException](t, err, "P-384")
	// The real-time API's operations are not the low-latency API's.
	_, err = c.GetStream(t.Context(), &ivs.GetStreamInput{ChannelArn: aws.String("arn:aws:ivs:us-east-1:123456789012:channel/abc")})
	if err == nil {
		t.Error("GetStream, which the emulator does not serve, succeeded")
	}
}

func TestPlaybackKeyPairs(t *testing.T) {
	h := newHarness(t, Options{Quotas: Quotas{PlaybackKeyPairs: 1}})
	c := h.lowLatency()
	pemKey := newP384PEM(t)
	out, err := c.ImportPlaybackKeyPair(t.Context(), &ivs.ImportPlaybackKeyPairInput{
		Name: aws.String("viewers"), PublicKeyMaterial: aws.String(pemKey)})
	if err != nil {
		t.Fatalf("ImportPlaybackKeyPair: %v", err)
	}
	kp := out.KeyPair
	if !h.em.re.playbackKeyArn.MatchString(aws.ToString(kp.Arn)) || aws.ToString(kp.Fingerprint) == "" || aws.ToString(kp.Name) != "viewers" {
		t.Errorf("key pair = %+v", kp)
	}
	got, err := c.GetPlaybackKeyPair(t.Context(), &ivs.GetPlaybackKeyPairInput{Arn: kp.Arn})
	if err != nil || aws.ToString(got.KeyPair.Fingerprint) != aws.ToString(kp.Fingerprint) {
		t.Fatalf("GetPlaybackKeyPair = %+v, %v", got, err)
	}
	_, err = c.ImportPlaybackKeyPair(t.Context(), &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(pemKey)})
	wantAPIError[*ivstypes.ConflictException](t, err, "already imported")
	_, err = c.ImportPlaybackKeyPair(t.Context(), &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(newP384PEM(t))})
	wantAPIError[*ivstypes.ServiceQuotaExceededException](t, err, "quota")
	if _, err := c.DeletePlaybackKeyPair(t.Context(), &ivs.DeletePlaybackKeyPairInput{Arn: kp.Arn}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetPlaybackKeyPair(t.Context(), &ivs.GetPlaybackKeyPairInput{Arn: kp.Arn})
	wantAPIError[*ivstypes.ResourceNotFoundException](t, err)
}

// Channels and playback keys are durable, like stages: a restarted
// emulator with the same state file still has them.
func TestChannelsPersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	h := newHarness(t, Options{StatePath: path})
	ch := h.createChannel(t, "kept", true)
	kp, err := h.lowLatency().ImportPlaybackKeyPair(t.Context(), &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(newP384PEM(t))})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.em.Close(); err != nil {
		t.Fatal(err)
	}
	again := newHarness(t, Options{StatePath: path})
	got, err := again.lowLatency().GetChannel(t.Context(), &ivs.GetChannelInput{Arn: ch.Arn})
	if err != nil || !got.Channel.Authorized || aws.ToString(got.Channel.PlaybackUrl) != aws.ToString(ch.PlaybackUrl) {
		t.Fatalf("channel after restart: %+v, %v", got, err)
	}
	if _, err := again.lowLatency().GetPlaybackKeyPair(t.Context(), &ivs.GetPlaybackKeyPairInput{Arn: kp.KeyPair.Arn}); err != nil {
		t.Fatalf("playback key after restart: %v", err)
	}
}
