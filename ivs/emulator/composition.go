package emulator

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/ivslive/ivslive/ivs/emulator/hls"
)

// Composition facts (ivsrealtime model and user guide): a composition is
// ephemeral; it goes STARTING → ACTIVE (subscribed to the stage, receiving
// media) → STOPPING → STOPPED, or FAILED (its stage deleted, its output
// failed). It stops by itself a minute after the stage has no publisher
// (compositionIdleTimeout), and after 24 hours. At most 2 destinations;
// quotas: 20 compositions per Region, 5 per stage (both adjustable).
const (
	compositionIdleTimeout = time.Minute
	compositionMaxDuration = 24 * time.Hour
	// compositionRetention is how long an ended composition still answers
	// Get and List before it is forgotten (IVS deletes ended compositions;
	// how soon is not documented). Its channel keeps the ended playlist.
	compositionRetention = time.Hour
)

// composition is a running or finished composition (runtime state only).
type composition struct {
	arn, id, stageArn string
	channelArn        string
	channelID         string
	encoderArn        string
	destName          string
	destID            string
	state, destState  string
	layout            json.RawMessage
	tags              map[string]string
	token             string
	start, end        time.Time
	destStart         time.Time
	destEnd           time.Time
	seq               int64

	stream    *hls.Stream
	fedBy     string // the participant whose media feeds the stream
	untap     func()
	idleSince time.Time // no publisher to compose since (zero while fed)
}

func (c *composition) running() bool {
	return c.state == "STARTING" || c.state == "ACTIVE" || c.state == "STOPPING"
}

var errUnknownLayout = errors.New("unknown layout")

// defaultLayout is what IVS answers when StartComposition had no layout.
var defaultLayout = json.RawMessage(`{"grid":{"featuredParticipantAttribute":"","omitStoppedVideo":false,"videoAspectRatio":"VIDEO","videoFillMode":"","gridGap":2,"participantOrderAttribute":""}}`)

type destinationOutput struct {
	ID            string         `json:"id"`
	State         string         `json:"state"`
	StartTime     string         `json:"startTime,omitempty"`
	EndTime       string         `json:"endTime,omitempty"`
	Configuration map[string]any `json:"configuration,omitempty"`
}

func optTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return timestamp(t)
}

func (c *composition) destination(full bool) destinationOutput {
	d := destinationOutput{ID: c.destID, State: c.destState, StartTime: optTime(c.destStart), EndTime: optTime(c.destEnd)}
	if full {
		ch := map[string]any{"channelArn": c.channelArn}
		if c.encoderArn != "" {
			ch["encoderConfigurationArn"] = c.encoderArn
		}
		d.Configuration = map[string]any{"name": c.destName, "channel": ch}
	}
	return d
}

// output is the model's Composition (full) or CompositionSummary.
func (c *composition) output(full bool) map[string]any {
	out := map[string]any{
		"arn": c.arn, "stageArn": c.stageArn, "state": c.state, "tags": cloneTags(c.tags),
		"destinations": []destinationOutput{c.destination(full)},
	}
	if s := optTime(c.start); s != "" {
		out["startTime"] = s
	}
	if s := optTime(c.end); s != "" {
		out["endTime"] = s
	}
	if full {
		out["layout"] = c.layout
	}
	return out
}

func (e *Emulator) startComposition(r *http.Request) (any, error) {
	var in struct {
		StageArn         *string         `json:"stageArn"`
		IdempotencyToken *string         `json:"idempotencyToken"`
		Layout           json.RawMessage `json:"layout"`
		Destinations     []struct {
			Name    *string `json:"name"`
			Channel *struct {
				ChannelArn              *string `json:"channelArn"`
				EncoderConfigurationArn *string `json:"encoderConfigurationArn"`
			} `json:"channel"`
			S3 json.RawMessage `json:"s3"`
		} `json:"destinations"`
		Tags map[string]string `json:"tags"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v validator
	v.requiredStr("stageArn", in.StageArn, 1, 128, e.re.stageArn)
	v.str("idempotencyToken", in.IdempotencyToken, 1, 64, e.re.clientToken)
	if v.required("destinations", in.Destinations != nil) {
		if len(in.Destinations) < 1 {
			v.fail("destinations", "of 0 items", "Member must have length greater than or equal to 1")
		}
		v.count("destinations", len(in.Destinations), 2)
	}
	for i, d := range in.Destinations {
		m := memberIndex("destinations", i)
		v.str(m+".name", d.Name, 0, 128, e.re.name)
		if d.Channel != nil {
			v.requiredStr(m+".channel.channelArn", d.Channel.ChannelArn, 1, 128, e.re.channelArn)
			v.str(m+".channel.encoderConfigurationArn", d.Channel.EncoderConfigurationArn, 1, 128, e.re.encoderArn)
		}
	}
	v.tags("tags", in.Tags)
	if len(in.Layout) > 0 && string(in.Layout) != "null" {
		// A LayoutConfiguration: grid or pip, each an object.
		var layout map[string]map[string]any
		err := json.Unmarshal(in.Layout, &layout)
		for k := range layout {
			if k != "grid" && k != "pip" {
				err = errUnknownLayout
			}
		}
		if err != nil {
			v.fail("layout", "of the wrong shape", "Member must be a LayoutConfiguration (grid or pip)")
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	// The emulator composes into one channel; S3 recording of a composition
	// and a second destination are IVS features it does not model.
	if len(in.Destinations) != 1 || in.Destinations[0].Channel == nil || len(in.Destinations[0].S3) > 0 {
		return nil, validationErr("the emulator supports exactly one destination, a channel")
	}
	dest := in.Destinations[0]
	layout := defaultLayout
	if len(in.Layout) > 0 && string(in.Layout) != "null" {
		layout = in.Layout
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	token := deref(in.IdempotencyToken)
	if token != "" {
		for _, c := range e.compositions {
			if c.token == token {
				return map[string]any{"composition": c.output(true)}, nil
			}
		}
	}
	if _, err := e.findStageLocked(*in.StageArn); err != nil {
		return nil, err
	}
	ch, err := e.findChannelLocked(*dest.Channel.ChannelArn)
	if err != nil {
		return nil, err
	}
	encoder := deref(dest.Channel.EncoderConfigurationArn)
	if encoder != "" && e.state.EncoderConfigurations[encoder] == nil {
		return nil, notFoundErr("Encoder configuration not found: %s", encoder)
	}
	running, onStage := 0, 0
	for _, c := range e.compositions {
		if !c.running() {
			continue
		}
		running++
		if c.stageArn == *in.StageArn {
			onStage++
		}
		if c.channelArn == ch.Arn {
			return nil, conflictErr("channel %s is already live: composition %s broadcasts to it", ch.Arn, c.arn)
		}
	}
	if onStage >= e.opts.Quotas.CompositionsPerStage {
		return nil, quotaErr("composition quota of %d per stage reached", e.opts.Quotas.CompositionsPerStage)
	}
	if running >= e.opts.Quotas.Compositions {
		return nil, quotaErr("composition quota of %d per Region reached", e.opts.Quotas.Compositions)
	}
	id, arn := e.newArnLocked("composition", func(arn string) bool { return e.compositions[arn] != nil })
	now := e.now().UTC()
	c := &composition{
		arn: arn, id: id, stageArn: *in.StageArn, channelArn: ch.Arn, channelID: ch.ID, encoderArn: encoder,
		destName: deref(dest.Name), destID: randomAlnum(12), state: "STARTING", destState: "STARTING",
		layout: layout, tags: cloneTags(in.Tags), token: token, start: now, seq: e.nextSeqLocked(),
		stream: hls.New(hls.Options{}), idleSince: now,
	}
	e.compositions[arn] = c
	// The channel plays this composition from now on; an old ended
	// stream is replaced.
	e.playback[ch.ID] = c.stream
	e.log.Info("ivs emulator: composition started", "arn", arn, "stage", c.stageArn, "channel", ch.Arn)
	e.feedCompositionsLocked(c.stageArn)
	return map[string]any{"composition": c.output(true)}, nil
}

// feedCompositionsLocked connects each running composition of a stage to a
// publisher's media: the one it has while that one publishes, else the
// first publisher with media. The first media makes a composition ACTIVE.
// Several publishers would need a composed (transcoded) grid; the emulator
// broadcasts one of them as it is.
func (e *Emulator) feedCompositionsLocked(stageArn string) {
	for _, c := range e.compositions {
		if c.stageArn != stageArn || (c.state != "STARTING" && c.state != "ACTIVE") {
			continue
		}
		if c.fedBy != "" && e.publishingLocked(stageArn, c.fedBy) {
			continue
		}
		e.untapLocked(c)
		pid := e.firstPublisherLocked(stageArn)
		if pid == "" {
			if c.idleSince.IsZero() {
				c.idleSince = e.now().UTC()
			}
			continue
		}
		src := e.sources[sourceKey(stageArn, pid)]
		c.untap = src.AddTap(c.stream.WriteRTP)
		c.fedBy, c.idleSince = pid, time.Time{}
		if c.state == "STARTING" {
			now := e.now().UTC()
			c.state, c.destState, c.destStart = "ACTIVE", "ACTIVE", now
			e.emitCompositionLocked(c, "Session Start", now)
			e.emitCompositionLocked(c, "Destination Start", now)
		}
	}
}

// publishingLocked reports whether a participant of the stage's active
// session publishes media now.
func (e *Emulator) publishingLocked(stageArn, pid string) bool {
	l := e.live[stageArn]
	if l == nil || l.active == nil {
		return false
	}
	p := l.active.participants[pid]
	src := e.sources[sourceKey(stageArn, pid)]
	return p != nil && p.publishing && src != nil && src.HasMedia()
}

// firstPublisherLocked returns the earliest-joined participant publishing
// media in the stage's active session, or "".
func (e *Emulator) firstPublisherLocked(stageArn string) string {
	l := e.live[stageArn]
	if l == nil || l.active == nil {
		return ""
	}
	best, bestSeq := "", int64(0)
	for id, p := range l.active.participants {
		if e.publishingLocked(stageArn, id) && (best == "" || p.Seq < bestSeq) {
			best, bestSeq = id, p.Seq
		}
	}
	return best
}

func (e *Emulator) untapLocked(c *composition) {
	if c.untap != nil {
		c.untap()
		c.untap, c.fedBy = nil, ""
	}
}

// endCompositionLocked stops a composition, or fails it with the Session
// Failure event. Its media stops and its playlist ends (EXT-X-ENDLIST) at
// once; a stopped composition is STOPPING until the next sweep makes it
// STOPPED (with Destination End and Session End), as IVS reports a stop in
// progress before the stop.
func (e *Emulator) endCompositionLocked(c *composition, failed bool) {
	if !c.running() || (c.state == "STOPPING" && !failed) {
		return
	}
	e.untapLocked(c)
	c.stream.End()
	now := e.now().UTC()
	if failed {
		c.end, c.destEnd = now, now
		c.state, c.destState = "FAILED", "FAILED"
		e.emitCompositionLocked(c, "Session Failure", now)
	} else {
		c.state, c.destState = "STOPPING", "STOPPING"
	}
	e.log.Info("ivs emulator: composition ending", "arn", c.arn, "state", c.state)
}

// stoppedLocked completes a stop: STOPPED, and its events.
func (e *Emulator) stoppedLocked(c *composition) {
	now := e.now().UTC()
	c.end, c.destEnd = now, now
	c.state, c.destState = "STOPPED", "STOPPED"
	e.emitCompositionLocked(c, "Destination End", now)
	e.emitCompositionLocked(c, "Session End", now)
}

// sweepCompositionsLocked ends compositions without a publisher for a
// minute or past 24 hours, forgets those ended an hour ago, and returns the
// sources feeding streams that wait for a keyframe, which the caller asks
// for one (outside the lock): segments are cut on keyframes, and a browser
// publisher sends them rarely unless asked.
func (e *Emulator) sweepCompositionsLocked(now time.Time) []keyframer {
	var feeding []keyframer
	for arn, c := range e.compositions {
		if c.state == "STOPPING" {
			e.stoppedLocked(c)
			continue
		}
		if !c.running() {
			if now.Sub(c.end) >= compositionRetention {
				delete(e.compositions, arn)
			}
			continue
		}
		switch {
		case now.Sub(c.start) >= compositionMaxDuration:
			e.endCompositionLocked(c, false)
		case !c.idleSince.IsZero() && now.Sub(c.idleSince) >= compositionIdleTimeout:
			e.endCompositionLocked(c, false)
		case c.fedBy != "" && c.stream.NeedsKeyframe():
			if src := e.sources[sourceKey(c.stageArn, c.fedBy)]; src != nil {
				feeding = append(feeding, src)
			}
		}
	}
	return feeding
}

// keyframer is a media source that can be asked for a keyframe.
type keyframer interface{ RequestKeyframe() }

// failStageCompositionsLocked fails the compositions of a deleted stage.
func (e *Emulator) failStageCompositionsLocked(stageArn string) {
	for _, c := range e.compositions {
		if c.stageArn == stageArn {
			e.endCompositionLocked(c, true)
		}
	}
}

func (e *Emulator) compositionArnOf(r *http.Request) (string, error) {
	return e.decodeArn(r, e.re.compositionArn)
}

func (e *Emulator) getComposition(r *http.Request) (any, error) {
	arn, err := e.compositionArnOf(r)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.compositions[arn]
	if !ok {
		return nil, notFoundErr("Composition not found: %s", arn)
	}
	return map[string]any{"composition": c.output(true)}, nil
}

func (e *Emulator) stopComposition(r *http.Request) (any, error) {
	arn, err := e.compositionArnOf(r)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.compositions[arn]
	if !ok {
		return nil, notFoundErr("Composition not found: %s", arn)
	}
	e.endCompositionLocked(c, false)
	return struct{}{}, nil
}

func (e *Emulator) listCompositions(r *http.Request) (any, error) {
	var in struct {
		FilterByStageArn                *string `json:"filterByStageArn"`
		FilterByEncoderConfigurationArn *string `json:"filterByEncoderConfigurationArn"`
		MaxResults                      *int    `json:"maxResults"`
		NextToken                       *string `json:"nextToken"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v validator
	v.str("filterByStageArn", in.FilterByStageArn, 1, 128, e.re.stageArn)
	v.str("filterByEncoderConfigurationArn", in.FilterByEncoderConfigurationArn, 1, 128, e.re.encoderArn)
	v.page(e, in.MaxResults, 100, in.NextToken)
	if err := v.err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	seqOf := func(c *composition) int64 { return c.seq }
	all := sortedBySeq(e.compositions, seqOf)
	kept := all[:0]
	for _, c := range all {
		if (in.FilterByStageArn == nil || c.stageArn == *in.FilterByStageArn) &&
			(in.FilterByEncoderConfigurationArn == nil || c.encoderArn == *in.FilterByEncoderConfigurationArn) {
			kept = append(kept, c)
		}
	}
	page, next, err := paginate("compositions", kept, seqOf, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := struct {
		Compositions []map[string]any `json:"compositions"`
		NextToken    string           `json:"nextToken,omitempty"`
	}{Compositions: make([]map[string]any, 0, len(page)), NextToken: next}
	for _, c := range page {
		out.Compositions = append(out.Compositions, c.output(false))
	}
	return out, nil
}
