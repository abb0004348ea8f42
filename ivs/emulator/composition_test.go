package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asticode/go-astits"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/internal/whiptest"
	"github.com/ivslive/ivslive/token"
)

// startComposition composes a stage into a channel through the SDK.
func (h *harness) startComposition(stageArn, channelArn string) (*types.Composition, error) {
	out, err := h.client.StartComposition(context.Background(), &ivsrealtime.StartCompositionInput{
		StageArn: aws.String(stageArn),
		Destinations: []types.DestinationConfiguration{{
			Name: aws.String("audience"), Channel: &types.ChannelDestinationConfiguration{ChannelArn: aws.String(channelArn)},
		}},
	})
	if err != nil {
		return nil, err
	}
	return out.Composition, nil
}

func (h *harness) compositionState(t *testing.T, arn string) types.CompositionState {
	t.Helper()
	out, err := h.client.GetComposition(t.Context(), &ivsrealtime.GetCompositionInput{Arn: aws.String(arn)})
	if err != nil {
		t.Fatalf("GetComposition: %v", err)
	}
	return out.Composition.State
}

// get fetches a URL and returns its status and body.
func (h *harness) get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := h.srv.Client().Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

var segmentLine = regexp.MustCompile(`(?m)^([^#\s][^\s]*\.ts[^\s]*)$`)

// A WHIP publisher's H.264 comes out of the channel's playback URL as HLS:
// a live playlist of MPEG-TS segments with a PAT, a PMT naming an H.264
// stream, and the publisher's IDR pictures; stopping the composition ends
// the playlist.
func TestCompositionServesHLS(t *testing.T) {
	h := newHarness(t, Options{Now: time.Now})
	bridge := h.eventLog(t)
	st := h.createStage(t, "show")
	arn := aws.ToString(st.Arn)
	hostID, hostToken := h.token(t, arn, "host", publishCaps...)
	h.publish(t, st, hostToken, whiptest.PublishOptions{})
	h.waitPublishing(t, arn, hostID)
	ch := h.createChannel(t, "show-audience", false)
	playURL := strings.Replace(aws.ToString(ch.PlaybackUrl), "http://localhost:3000/ivs", h.srv.URL, 1)

	comp, err := h.startComposition(arn, aws.ToString(ch.Arn))
	if err != nil {
		t.Fatalf("StartComposition: %v", err)
	}
	compArn := aws.ToString(comp.Arn)
	if !h.em.re.compositionArn.MatchString(compArn) || len(comp.Destinations) != 1 ||
		aws.ToString(comp.Destinations[0].Configuration.Channel.ChannelArn) != aws.ToString(ch.Arn) {
		t.Fatalf("composition = %+v", comp)
	}
	testenv.Eventually(t, 5*time.Second, "composition ACTIVE", func() bool { return h.compositionState(t, compArn) == types.CompositionStateActive })

	var playlist string
	testenv.Eventually(t, 15*time.Second, "a playlist with two segments", func() bool {
		status, body := h.get(t, playURL)
		playlist = string(body)
		return status == http.StatusOK && len(segmentLine.FindAllString(playlist, -1)) >= 2
	})
	for _, tag := range []string{"#EXTM3U", "#EXT-X-TARGETDURATION:", "#EXT-X-MEDIA-SEQUENCE:", "#EXTINF:"} {
		if !strings.Contains(playlist, tag) {
			t.Errorf("playlist lacks %s:\n%s", tag, playlist)
		}
	}
	if strings.Contains(playlist, "#EXT-X-ENDLIST") {
		t.Errorf("a live playlist ended:\n%s", playlist)
	}
	seg := segmentLine.FindAllString(playlist, -1)[0]
	status, data := h.get(t, playURL[:strings.LastIndex(playURL, "/")+1]+seg)
	if status != http.StatusOK {
		t.Fatalf("segment %s: %d", seg, status)
	}
	checkTS(t, data)

	if _, err := h.client.StopComposition(t.Context(), &ivsrealtime.StopCompositionInput{Arn: aws.String(compArn)}); err != nil {
		t.Fatalf("StopComposition: %v", err)
	}
	// The playlist ends at once; the state passes STOPPING to STOPPED.
	_, body := h.get(t, playURL)
	if !strings.Contains(string(body), "#EXT-X-ENDLIST") {
		t.Errorf("the playlist did not end:\n%s", body)
	}
	if s := h.compositionState(t, compArn); s != types.CompositionStateStopping && s != types.CompositionStateStopped {
		t.Errorf("state after stop = %s", s)
	}
	testenv.Eventually(t, 5*time.Second, "STOPPED", func() bool { return h.compositionState(t, compArn) == types.CompositionStateStopped })
	var names []string
	testenv.Eventually(t, 5*time.Second, "composition events", func() bool {
		bridge.mu.Lock()
		defer bridge.mu.Unlock()
		names = names[:0]
		for _, ev := range bridge.events {
			if ev.DetailType == "IVS Composition State Change" && ev.Resources[0] == compArn {
				names = append(names, ev.Composition.EventName)
			}
		}
		return len(names) == 4
	})
	if want := []string{"Session Start", "Destination Start", "Destination End", "Session End"}; !slices.Equal(names, want) {
		t.Errorf("events = %v, want %v", names, want)
	}
}

// checkTS demuxes a segment: PAT, a PMT with an H.264 stream, and PES data
// holding an IDR slice of the publisher's.
func checkTS(t *testing.T, data []byte) {
	t.Helper()
	if len(data) == 0 || len(data)%188 != 0 {
		t.Fatalf("segment of %d bytes is not whole TS packets", len(data))
	}
	dmx := astits.NewDemuxer(t.Context(), bytes.NewReader(data))
	var sawPAT, sawH264, sawIDR bool
	for {
		d, err := dmx.NextData()
		if errors.Is(err, astits.ErrNoMorePackets) {
			break
		}
		if err != nil {
			t.Fatalf("demux: %v", err)
		}
		switch {
		case d.PAT != nil:
			sawPAT = true
		case d.PMT != nil:
			for _, es := range d.PMT.ElementaryStreams {
				sawH264 = sawH264 || es.StreamType == astits.StreamTypeH264Video
			}
		case d.PES != nil:
			sawIDR = sawIDR || hasNAL(d.PES.Data, 5)
		}
	}
	if !sawPAT || !sawH264 || !sawIDR {
		t.Errorf("segment: PAT %v, H.264 PMT %v, IDR %v; want all", sawPAT, sawH264, sawIDR)
	}
}

// hasNAL reports whether Annex B data holds a NAL unit of type typ.
func hasNAL(b []byte, typ byte) bool {
	for i := 0; i+3 < len(b); i++ {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 && b[i+3]&0x1f == typ {
			return true
		}
	}
	return false
}

// Five compositions of one stage run at once; the sixth is refused with the
// model's ServiceQuotaExceededException. A retried start with the same
// idempotency token returns the same composition instead.
func TestCompositionQuota(t *testing.T) {
	h := newHarness(t, Options{})
	st := h.createStage(t, "busy")
	arn := aws.ToString(st.Arn)
	var first *types.Composition
	for i := range 5 {
		ch := h.createChannel(t, "c"+strconv.Itoa(i), false)
		c, err := h.startComposition(arn, aws.ToString(ch.Arn))
		if err != nil {
			t.Fatalf("composition %d: %v", i+1, err)
		}
		if first == nil {
			first = c
		}
	}
	sixth := h.createChannel(t, "sixth", false)
	_, err := h.startComposition(arn, aws.ToString(sixth.Arn))
	wantAPIError[*types.ServiceQuotaExceededException](t, err, "5 per stage")

	// A stopped composition frees its place (once STOPPING is over).
	if _, err := h.client.StopComposition(t.Context(), &ivsrealtime.StopCompositionInput{Arn: first.Arn}); err != nil {
		t.Fatal(err)
	}
	h.em.Sweep()
	if _, err := h.startComposition(arn, aws.ToString(sixth.Arn)); err != nil {
		t.Fatalf("after a stop: %v", err)
	}

	// Idempotency, channel in use, missing resources, validation.
	other := h.createStage(t, "other")
	free := h.createChannel(t, "free", false)
	in := &ivsrealtime.StartCompositionInput{StageArn: other.Arn, IdempotencyToken: aws.String("retry-1"),
		Destinations: []types.DestinationConfiguration{{Channel: &types.ChannelDestinationConfiguration{ChannelArn: free.Arn}}}}
	a, err := h.client.StartComposition(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.client.StartComposition(t.Context(), in)
	if err != nil || aws.ToString(b.Composition.Arn) != aws.ToString(a.Composition.Arn) {
		t.Errorf("retry = %v, %v; want %s", b, err, aws.ToString(a.Composition.Arn))
	}
	_, err = h.startComposition(aws.ToString(other.Arn), aws.ToString(sixth.Arn))
	wantAPIError[*types.ConflictException](t, err, "already live")
	_, err = h.startComposition(arn, "arn:aws:ivs:us-east-1:123456789012:channel/missing")
	wantAPIError[*types.ResourceNotFoundException](t, err, "Channel")
	_, err = h.client.StartComposition(t.Context(), &ivsrealtime.StartCompositionInput{StageArn: st.Arn, Destinations: []types.DestinationConfiguration{}})
	wantAPIError[*types.ValidationException](t, err, "'destinations'")
	status, _, body := h.post(t, "POST", "/StartComposition", `{"stageArn":"`+arn+`","destinations":[{"channel":{"channelArn":"`+aws.ToString(free.Arn)+`"}}],"layout":{"mosaic":{}}}`)
	if status != http.StatusBadRequest || !strings.Contains(string(body), "'layout'") {
		t.Errorf("an unknown layout: %d %s", status, body)
	}
	list, err := h.client.ListCompositions(t.Context(), &ivsrealtime.ListCompositionsInput{FilterByStageArn: st.Arn})
	if err != nil || len(list.Compositions) != 6 {
		t.Errorf("ListCompositions = %d, %v; want 6", len(list.Compositions), err)
	}
}

// A composition without a publisher stops by itself after a minute.
func TestCompositionIdleStops(t *testing.T) {
	h := newHarness(t, Options{})
	st := h.createStage(t, "empty")
	ch := h.createChannel(t, "empty-audience", false)
	c, err := h.startComposition(aws.ToString(st.Arn), aws.ToString(ch.Arn))
	if err != nil {
		t.Fatal(err)
	}
	if s := h.compositionState(t, aws.ToString(c.Arn)); s != types.CompositionStateStarting {
		t.Errorf("state = %s, want STARTING", s)
	}
	h.clock.Add(compositionIdleTimeout)
	h.em.Sweep() // STOPPING
	h.em.Sweep() // STOPPED
	if s := h.compositionState(t, aws.ToString(c.Arn)); s != types.CompositionStateStopped {
		t.Errorf("state after a minute alone = %s, want STOPPED", s)
	}
	h.clock.Add(compositionRetention)
	h.em.Sweep()
	_, err = h.client.GetComposition(t.Context(), &ivsrealtime.GetCompositionInput{Arn: c.Arn})
	wantAPIError[*types.ResourceNotFoundException](t, err)
}

// A private channel plays only with a playback token signed by an imported
// playback key pair and naming the channel.
func TestPrivatePlayback(t *testing.T) {
	h := newHarness(t, Options{Now: time.Now})
	st := h.createStage(t, "private")
	arn := aws.ToString(st.Arn)
	hostID, hostToken := h.token(t, arn, "host", publishCaps...)
	h.publish(t, st, hostToken, whiptest.PublishOptions{})
	h.waitPublishing(t, arn, hostID)
	ch := h.createChannel(t, "members", true)
	playURL := strings.Replace(aws.ToString(ch.PlaybackUrl), "http://localhost:3000/ivs", h.srv.URL, 1)

	key, err := token.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := token.NewPlaybackSigner(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := token.EncodePublicKey(signer.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.lowLatency().ImportPlaybackKeyPair(t.Context(), &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(string(pub))}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.startComposition(arn, aws.ToString(ch.Arn)); err != nil {
		t.Fatal(err)
	}
	sign := func(s *token.PlaybackSigner, channelArn string, d time.Duration) string {
		tok, _, err := s.PlaybackToken(t.Context(), ivslive.PlaybackTokenRequest{ChannelARN: channelArn, Duration: d})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := sign(signer, aws.ToString(ch.Arn), time.Hour)
	var playlist string
	testenv.Eventually(t, 15*time.Second, "a private playlist", func() bool {
		status, body := h.get(t, playURL+"?token="+good)
		playlist = string(body)
		return status == http.StatusOK && segmentLine.MatchString(playlist)
	})
	seg := segmentLine.FindString(playlist)
	if !strings.HasSuffix(seg, "?token="+good) {
		t.Errorf("segment URI %q does not carry the token", seg)
	}
	if status, _ := h.get(t, playURL[:strings.LastIndex(playURL, "/")+1]+seg); status != http.StatusOK {
		t.Errorf("segment with the token: %d", status)
	}

	otherKey, _ := token.GenerateKey()
	stranger, _ := token.NewPlaybackSigner(otherKey, nil)
	past, _ := token.NewPlaybackSigner(key, func() time.Time { return time.Now().Add(-2 * time.Hour) })
	bad := map[string]string{
		"expired":         "?token=" + sign(past, aws.ToString(ch.Arn), time.Hour),
		"no token":        "",
		"garbage":         "?token=abc.def.ghi",
		"unknown key":     "?token=" + sign(stranger, aws.ToString(ch.Arn), time.Hour),
		"another channel": "?token=" + sign(signer, "arn:aws:ivs:us-east-1:123456789012:channel/other", time.Hour),
	}
	for name, q := range bad {
		if status, _ := h.get(t, playURL+q); status != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, status)
		}
	}
}

// When the host stops publishing the composition waits a minute for a
// publisher (IVS's timeout), then stops and its playlist ends; a stage
// deleted under a composition fails it.
func TestCompositionEndsWithoutHost(t *testing.T) {
	h := newHarness(t, Options{})
	bridge := h.eventLog(t)
	st := h.createStage(t, "brief")
	arn := aws.ToString(st.Arn)
	hostID, hostToken := h.token(t, arn, "host", publishCaps...)
	pub := h.publish(t, st, hostToken, whiptest.PublishOptions{})
	h.waitPublishing(t, arn, hostID)
	ch := h.createChannel(t, "brief-audience", false)
	playURL := strings.Replace(aws.ToString(ch.PlaybackUrl), "http://localhost:3000/ivs", h.srv.URL, 1)
	comp, err := h.startComposition(arn, aws.ToString(ch.Arn))
	if err != nil {
		t.Fatal(err)
	}
	compArn := aws.ToString(comp.Arn)
	testenv.Eventually(t, 15*time.Second, "a segment", func() bool { status, _ := h.get(t, playURL); return status == http.StatusOK })

	if resp, err := pub.Delete(t.Context(), h.srv.Client()); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("host DELETE: %v %+v", err, resp)
	}
	h.clock.Add(compositionIdleTimeout - time.Second)
	h.em.Sweep()
	if s := h.compositionState(t, compArn); s != types.CompositionStateActive {
		t.Fatalf("state within the minute = %s, want ACTIVE", s)
	}
	h.clock.Add(time.Second)
	h.em.Sweep()
	h.em.Sweep()
	if s := h.compositionState(t, compArn); s != types.CompositionStateStopped {
		t.Fatalf("state after the minute = %s, want STOPPED", s)
	}
	if _, body := h.get(t, playURL); !strings.Contains(string(body), "#EXT-X-ENDLIST") {
		t.Errorf("the playlist did not end:\n%s", body)
	}

	other := h.createChannel(t, "doomed", false)
	doomed, err := h.startComposition(arn, aws.ToString(other.Arn))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.DeleteStage(t.Context(), &ivsrealtime.DeleteStageInput{Arn: st.Arn}); err != nil {
		t.Fatal(err)
	}
	if s := h.compositionState(t, aws.ToString(doomed.Arn)); s != types.CompositionStateFailed {
		t.Errorf("composition of a deleted stage = %s, want FAILED", s)
	}
	testenv.Eventually(t, 5*time.Second, "Session Failure", func() bool {
		bridge.mu.Lock()
		defer bridge.mu.Unlock()
		return slices.ContainsFunc(bridge.events, func(ev EventBridgeEvent) bool {
			return ev.Composition != nil && ev.Composition.EventName == "Session Failure" && ev.Resources[0] == aws.ToString(doomed.Arn)
		})
	})
}

// A composition event encodes its own detail under "detail", as
// EventBridge delivers it; a stage event keeps its detail.
func TestCompositionEventJSON(t *testing.T) {
	ev := EventBridgeEvent{DetailType: "IVS Composition State Change", Resources: []string{"arn:c"},
		Composition: &CompositionStateChange{EventName: "Session Start", StageArn: "arn:s", CompositionArn: "arn:c"}}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	m := decodeJSON(t, b)
	detail, _ := m["detail"].(map[string]any)
	if detail["event_name"] != "Session Start" || detail["stage_arn"] != "arn:s" || m["detail-type"] != "IVS Composition State Change" {
		t.Errorf("encoded %s", b)
	}
	b, _ = json.Marshal(EventBridgeEvent{DetailType: "IVS Stage Update", Detail: StageUpdate{EventName: "Participant Published"}})
	if detail, _ := decodeJSON(t, b)["detail"].(map[string]any); detail["event_name"] != "Participant Published" {
		t.Errorf("stage event encoded %s", b)
	}
}

// A layout is kept and answered as sent (the emulator does not apply it);
// without one, IVS's default grid is answered.
func TestCompositionLayout(t *testing.T) {
	h := newHarness(t, Options{})
	st := h.createStage(t, "laid-out")
	ch := h.createChannel(t, "grid", false)
	out, err := h.client.StartComposition(t.Context(), &ivsrealtime.StartCompositionInput{
		StageArn:     st.Arn,
		Layout:       &types.LayoutConfiguration{Pip: &types.PipConfiguration{PipPosition: types.PipPositionTopLeft, GridGap: 4}},
		Destinations: []types.DestinationConfiguration{{Channel: &types.ChannelDestinationConfiguration{ChannelArn: ch.Arn}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if p := out.Composition.Layout.Pip; p == nil || p.PipPosition != types.PipPositionTopLeft || p.GridGap != 4 {
		t.Errorf("layout = %+v", out.Composition.Layout)
	}
	plain, err := h.startComposition(aws.ToString(h.createStage(t, "plain").Arn), aws.ToString(h.createChannel(t, "plain", false).Arn))
	if err != nil || plain.Layout == nil || plain.Layout.Grid == nil {
		t.Errorf("default layout = %+v, %v", plain, err)
	}
}
