package ivs_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/ivs"
	"github.com/ivslive/ivslive/token"
)

// Channels and playback keys go through the low-latency SDK client, which
// finds the emulator's /lowlatency service from the one Endpoint option.
func TestChannelRoundTrip(t *testing.T) {
	c, _ := newClient(t, ivs.Options{})
	ctx := context.Background()
	ch, err := c.CreateChannel(ctx, ivslive.CreateChannelInput{Name: "audience", Authorized: true, Tags: map[string]string{"ivslive": "s1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !ivslive.ValidChannelARN(ch.ARN) || ch.LatencyMode != "LOW" || !ch.Authorized || !strings.HasSuffix(ch.PlaybackURL, ".m3u8") {
		t.Fatalf("created %+v", ch)
	}
	if _, err := c.CreateChannel(ctx, ivslive.CreateChannelInput{Name: "other"}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetChannel(ctx, ch.ARN)
	if err != nil || got.PlaybackURL != ch.PlaybackURL {
		t.Fatalf("get: %+v %v", got, err)
	}
	tagged, err := c.ListChannels(ctx, map[string]string{"ivslive": "s1"})
	if err != nil || len(tagged) != 1 || tagged[0].ARN != ch.ARN {
		t.Fatalf("list by tag: %+v %v", tagged, err)
	}
	if all, err := c.ListChannels(ctx, nil); err != nil || len(all) != 2 {
		t.Fatalf("list all: %d %v", len(all), err)
	}

	key, _ := token.GenerateKey()
	pem, _ := token.EncodePublicKey(&key.PublicKey)
	kp, err := c.ImportPlaybackKeyPair(ctx, "viewers", string(pem), nil)
	if err != nil || kp.Fingerprint == "" {
		t.Fatalf("import: %+v %v", kp, err)
	}
	if got, err := c.GetPlaybackKeyPair(ctx, kp.ARN); err != nil || got.Fingerprint != kp.Fingerprint {
		t.Fatalf("get key: %+v %v", got, err)
	}
	if _, err := c.ImportPlaybackKeyPair(ctx, "again", string(pem), nil); ivslive.ErrorCode(err) != ivslive.ECONFLICT {
		t.Errorf("duplicate import: %v, want CONFLICT", err)
	}
	if _, err := c.CreateChannel(ctx, ivslive.CreateChannelInput{Name: "bad name"}); ivslive.ErrorCode(err) != ivslive.EVALIDATION {
		t.Errorf("bad name: %v, want VALIDATION_ERROR", err)
	}

	if err := c.DeleteChannel(ctx, ch.ARN); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetChannel(ctx, ch.ARN); ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
		t.Fatalf("get after delete: %v", err)
	}
}

// Compositions and encoder configurations go through ivsrealtime; the
// sixth composition of a stage comes back as QUOTA_EXCEEDED saying why.
func TestCompositionRoundTrip(t *testing.T) {
	c, _ := newClient(t, ivs.Options{})
	ctx := context.Background()
	st, err := c.CreateStage(ctx, ivslive.CreateStageInput{Name: "show"})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := c.CreateEncoderConfiguration(ctx, ivslive.EncoderConfiguration{Name: "hd", Width: 1280, Height: 720, Framerate: 30, Bitrate: 2_500_000})
	if err != nil || enc.Width != 1280 || enc.Bitrate != 2_500_000 {
		t.Fatalf("encoder: %+v %v", enc, err)
	}
	if got, err := c.GetEncoderConfiguration(ctx, enc.ARN); err != nil || got.Height != 720 {
		t.Fatalf("get encoder: %+v %v", got, err)
	}
	var first ivslive.Composition
	for i := range 5 {
		ch, err := c.CreateChannel(ctx, ivslive.CreateChannelInput{Name: "c" + strconv.Itoa(i)})
		if err != nil {
			t.Fatal(err)
		}
		comp, err := c.StartComposition(ctx, ivslive.StartCompositionInput{StageARN: st.ARN, ChannelARN: ch.ARN,
			EncoderConfigurationARN: enc.ARN, IdempotencyToken: "start-" + strconv.Itoa(i)})
		if err != nil {
			t.Fatalf("composition %d: %v", i+1, err)
		}
		if i == 0 {
			first = comp
		}
	}
	if first.State != ivslive.CompositionStarting || len(first.Destinations) != 1 || first.Destinations[0].ChannelARN == "" {
		t.Fatalf("first composition %+v", first)
	}
	sixth, _ := c.CreateChannel(ctx, ivslive.CreateChannelInput{Name: "sixth"})
	_, err = c.StartComposition(ctx, ivslive.StartCompositionInput{StageARN: st.ARN, ChannelARN: sixth.ARN})
	if ivslive.ErrorCode(err) != ivslive.EQUOTA || !strings.Contains(err.Error(), "5 per stage") {
		t.Fatalf("sixth composition: %v, want QUOTA_EXCEEDED naming the quota", err)
	}
	again, err := c.StartComposition(ctx, ivslive.StartCompositionInput{StageARN: st.ARN, ChannelARN: first.Destinations[0].ChannelARN, IdempotencyToken: "start-0"})
	if err != nil || again.ARN != first.ARN {
		t.Fatalf("retried start: %+v %v, want %s", again, err, first.ARN)
	}
	list, err := c.ListCompositions(ctx, st.ARN)
	if err != nil || len(list) != 5 {
		t.Fatalf("list: %d %v", len(list), err)
	}
	if err := c.StopComposition(ctx, first.ARN); err != nil {
		t.Fatal(err)
	}
	var got ivslive.Composition
	testenv.Eventually(t, 5*time.Second, "the composition STOPPED", func() bool {
		got, err = c.GetComposition(ctx, first.ARN)
		return err == nil && got.State == ivslive.CompositionStopped
	})
	if got.EndTime.IsZero() {
		t.Errorf("a stopped composition without an end time: %+v", got)
	}
	if _, err := c.GetComposition(ctx, "arn:aws:ivs:us-east-1:123456789012:composition/none"); ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
		t.Errorf("missing composition: %v", err)
	}
	if err := c.DeleteEncoderConfiguration(ctx, enc.ARN); ivslive.ErrorCode(err) != ivslive.ECONFLICT {
		t.Errorf("deleting an encoder configuration in use: %v, want CONFLICT", err)
	}
}
