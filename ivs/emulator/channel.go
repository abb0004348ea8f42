package emulator

import (
	"net/http"
	"strings"
	"time"
)

// The low-latency IVS API ("ivs", the channels a composition broadcasts to)
// is a second REST-JSON service with the same SigV4 signing name as the
// real-time one. Its paths (/CreateChannel, /ImportPlaybackKeyPair, ...) do
// not collide with ivsrealtime's except /tags/{arn}, so the emulator serves
// it under its own prefix: point the ivs SDK client's BaseEndpoint at
// {emulator}/lowlatency.
const lowLatencyPrefix = "/lowlatency"

// playbackPrefix is where channels' HLS playback is served (playback.go).
const playbackPrefix = "/playback/"

// Channel values from the ivs model.
var (
	channelTypes        = []string{"BASIC", "STANDARD", "ADVANCED_SD", "ADVANCED_HD"}
	channelLatencyModes = []string{"NORMAL", "LOW"}
)

// channel is a stored channel (the model's Channel, less the features the
// emulator does not model: recording, ads, restriction policies, SRT).
type channel struct {
	Arn         string            `json:"arn"`
	ID          string            `json:"id"`
	Name        string            `json:"name,omitempty"`
	Type        string            `json:"type"`
	LatencyMode string            `json:"latencyMode"`
	Authorized  bool              `json:"authorized"`
	Insecure    bool              `json:"insecureIngest"`
	StreamKey   string            `json:"streamKey"`
	Tags        map[string]string `json:"tags"`
	CreatedAt   time.Time         `json:"createdAt"`
	Seq         int64             `json:"seq"`
}

// channelOutput is the model's Channel.
type channelOutput struct {
	Arn             string            `json:"arn"`
	Name            string            `json:"name,omitempty"`
	Type            string            `json:"type"`
	LatencyMode     string            `json:"latencyMode"`
	Authorized      bool              `json:"authorized"`
	InsecureIngest  bool              `json:"insecureIngest"`
	IngestEndpoint  string            `json:"ingestEndpoint"`
	PlaybackURL     string            `json:"playbackUrl"`
	ContainerFormat string            `json:"containerFormat"`
	Preset          string            `json:"preset,omitempty"`
	Tags            map[string]string `json:"tags"`
}

// channelSummary is the model's ChannelSummary.
type channelSummary struct {
	Arn            string            `json:"arn"`
	Name           string            `json:"name,omitempty"`
	Type           string            `json:"type"`
	LatencyMode    string            `json:"latencyMode"`
	Authorized     bool              `json:"authorized"`
	InsecureIngest bool              `json:"insecureIngest"`
	Tags           map[string]string `json:"tags"`
}

// playbackKeyPair is a stored playback key pair: IVS keeps the public half.
type playbackKeyPair struct {
	Arn         string            `json:"arn"`
	ID          string            `json:"id"`
	Name        string            `json:"name,omitempty"`
	Material    string            `json:"publicKeyMaterial"`
	Fingerprint string            `json:"fingerprint"`
	Tags        map[string]string `json:"tags"`
	Seq         int64             `json:"seq"`
}

func (k *playbackKeyPair) output() map[string]any {
	return map[string]any{"arn": k.Arn, "name": k.Name, "fingerprint": k.Fingerprint, "tags": cloneTags(k.Tags)}
}

// playbackURL is the channel's HLS playlist under the emulator's mount; the
// real one is https://<host>.<region>.playback.live-video.net/api/video/v1/
// <region>.<account>.channel.<id>.m3u8.
func (e *Emulator) playbackURL(id string) string {
	return e.base.String() + playbackPrefix + id + ".m3u8"
}

func (c *channel) output(e *Emulator) channelOutput {
	host := e.base.Hostname()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return channelOutput{
		Arn: c.Arn, Name: c.Name, Type: c.Type, LatencyMode: c.LatencyMode, Authorized: c.Authorized,
		InsecureIngest: c.Insecure, IngestEndpoint: host, PlaybackURL: e.playbackURL(c.ID),
		ContainerFormat: "TS", Tags: cloneTags(c.Tags),
	}
}

// lowLatencyOperations maps the ivs operations the emulator serves.
func (e *Emulator) lowLatencyOperations() map[string]operation {
	return map[string]operation{
		"CreateChannel":         e.createChannel,
		"GetChannel":            e.getChannel,
		"ListChannels":          e.listChannels,
		"DeleteChannel":         e.deleteChannel,
		"ImportPlaybackKeyPair": e.importPlaybackKeyPair,
		"GetPlaybackKeyPair":    e.getPlaybackKeyPair,
		"ListPlaybackKeyPairs":  e.listPlaybackKeyPairs,
		"DeletePlaybackKeyPair": e.deletePlaybackKeyPair,
	}
}

func (e *Emulator) createChannel(r *http.Request) (any, error) {
	var in struct {
		Name           *string           `json:"name"`
		Type           *string           `json:"type"`
		LatencyMode    *string           `json:"latencyMode"`
		Authorized     bool              `json:"authorized"`
		InsecureIngest bool              `json:"insecureIngest"`
		Tags           map[string]string `json:"tags"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v validator
	v.str("name", in.Name, 0, 128, e.re.name)
	if in.Type != nil {
		v.enum("type", []string{*in.Type}, channelTypes...)
	}
	if in.LatencyMode != nil {
		v.enum("latencyMode", []string{*in.LatencyMode}, channelLatencyModes...)
	}
	v.tags("tags", in.Tags)
	if err := v.err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.state.Channels) >= e.opts.Quotas.Channels {
		return nil, quotaErr("channel quota of %d per Region reached", e.opts.Quotas.Channels)
	}
	id, arn := e.newArnLocked("channel", func(arn string) bool { return e.state.Channels[arn] != nil })
	c := &channel{
		Arn: arn, ID: id, Name: deref(in.Name), Type: "STANDARD", LatencyMode: "LOW",
		Authorized: in.Authorized, Insecure: in.InsecureIngest, StreamKey: "sk_" + e.opts.Region + "_" + randomAlnum(36),
		Tags: cloneTags(in.Tags), CreatedAt: e.now().UTC(), Seq: e.state.nextSeq(),
	}
	if in.Type != nil {
		c.Type = *in.Type
	}
	if in.LatencyMode != nil {
		c.LatencyMode = *in.LatencyMode
	}
	e.state.Channels[arn] = c
	if err := e.commitLocked(); err != nil {
		return nil, err
	}
	e.log.Info("ivs emulator: channel created", "arn", arn, "authorized", c.Authorized)
	key := map[string]any{
		"arn":        e.arn("stream-key", randomAlnum(12)),
		"channelArn": arn, "value": c.StreamKey, "tags": map[string]string{},
	}
	return map[string]any{"channel": c.output(e), "streamKey": key}, nil
}

func (e *Emulator) channelArnOf(r *http.Request) (string, error) {
	return e.decodeArn(r, e.re.channelArn)
}

func (e *Emulator) findChannelLocked(arn string) (*channel, error) {
	c, ok := e.state.Channels[arn]
	if !ok {
		return nil, notFoundErr("Channel not found: %s", arn)
	}
	return c, nil
}

func (e *Emulator) getChannel(r *http.Request) (any, error) {
	arn, err := e.channelArnOf(r)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.findChannelLocked(arn)
	if err != nil {
		return nil, err
	}
	return map[string]any{"channel": c.output(e)}, nil
}

func (e *Emulator) deleteChannel(r *http.Request) (any, error) {
	arn, err := e.channelArnOf(r)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := e.findChannelLocked(arn); err != nil {
		return nil, err
	}
	// IVS refuses to delete a channel that is live.
	for _, comp := range e.compositions {
		if comp.channelArn == arn && comp.running() {
			return nil, conflictErr("channel %s is live: a composition broadcasts to it", arn)
		}
	}
	delete(e.playback, e.state.Channels[arn].ID)
	delete(e.state.Channels, arn)
	if err := e.commitLocked(); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (e *Emulator) listChannels(r *http.Request) (any, error) {
	var in struct {
		FilterByName *string `json:"filterByName"`
		MaxResults   *int    `json:"maxResults"`
		NextToken    *string `json:"nextToken"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v validator
	v.str("filterByName", in.FilterByName, 0, 128, e.re.name)
	v.page(e, in.MaxResults, 100, in.NextToken)
	if err := v.err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	seqOf := func(c *channel) int64 { return c.Seq }
	all := sortedBySeq(e.state.Channels, seqOf)
	if in.FilterByName != nil && *in.FilterByName != "" {
		kept := all[:0]
		for _, c := range all {
			if c.Name == *in.FilterByName {
				kept = append(kept, c)
			}
		}
		all = kept
	}
	page, next, err := paginate("channels", all, seqOf, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := struct {
		Channels  []channelSummary `json:"channels"`
		NextToken string           `json:"nextToken,omitempty"`
	}{Channels: make([]channelSummary, 0, len(page)), NextToken: next}
	for _, c := range page {
		out.Channels = append(out.Channels, channelSummary{Arn: c.Arn, Name: c.Name, Type: c.Type, LatencyMode: c.LatencyMode,
			Authorized: c.Authorized, InsecureIngest: c.Insecure, Tags: cloneTags(c.Tags)})
	}
	return out, nil
}

func (e *Emulator) importPlaybackKeyPair(r *http.Request) (any, error) {
	var in struct {
		PublicKeyMaterial *string           `json:"publicKeyMaterial"`
		Name              *string           `json:"name"`
		Tags              map[string]string `json:"tags"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v validator
	v.requiredStr("publicKeyMaterial", in.PublicKeyMaterial, 1, 1<<20, nil)
	v.str("name", in.Name, 0, 128, e.re.name)
	v.tags("tags", in.Tags)
	if err := v.err(); err != nil {
		return nil, err
	}
	fp, err := keyFingerprint(strings.TrimSpace(*in.PublicKeyMaterial))
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, k := range e.state.PlaybackKeys {
		if k.Fingerprint == fp {
			return nil, conflictErr("playback key material is already imported as %s", k.Arn)
		}
	}
	if len(e.state.PlaybackKeys) >= e.opts.Quotas.PlaybackKeyPairs {
		return nil, quotaErr("playback key pair quota of %d per Region reached", e.opts.Quotas.PlaybackKeyPairs)
	}
	id, arn := e.newArnLocked("playback-key", func(arn string) bool { return e.state.PlaybackKeys[arn] != nil })
	k := &playbackKeyPair{Arn: arn, ID: id, Name: deref(in.Name), Material: *in.PublicKeyMaterial, Fingerprint: fp,
		Tags: cloneTags(in.Tags), Seq: e.state.nextSeq()}
	e.state.PlaybackKeys[arn] = k
	if err := e.commitLocked(); err != nil {
		return nil, err
	}
	return map[string]any{"keyPair": k.output()}, nil
}

func (e *Emulator) playbackKeyArnOf(r *http.Request) (string, error) {
	return e.decodeArn(r, e.re.playbackKeyArn)
}

func (e *Emulator) getPlaybackKeyPair(r *http.Request) (any, error) {
	arn, err := e.playbackKeyArnOf(r)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	k, ok := e.state.PlaybackKeys[arn]
	if !ok {
		return nil, notFoundErr("Playback key pair not found: %s", arn)
	}
	return map[string]any{"keyPair": k.output()}, nil
}

func (e *Emulator) deletePlaybackKeyPair(r *http.Request) (any, error) {
	arn, err := e.playbackKeyArnOf(r)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.state.PlaybackKeys[arn]; !ok {
		return nil, notFoundErr("Playback key pair not found: %s", arn)
	}
	delete(e.state.PlaybackKeys, arn)
	if err := e.commitLocked(); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (e *Emulator) listPlaybackKeyPairs(r *http.Request) (any, error) {
	return listRecords(e, r, "keyPairs", func() map[string]*playbackKeyPair { return e.state.PlaybackKeys }, func(k *playbackKeyPair) int64 { return k.Seq },
		func(k *playbackKeyPair) map[string]any {
			s := k.output()
			delete(s, "fingerprint") // PlaybackKeyPairSummary has none
			return s
		})
}
