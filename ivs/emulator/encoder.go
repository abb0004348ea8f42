package emulator

import (
	"net/http"
	"strconv"
)

// encoderConfiguration is a stored encoder configuration. The emulator
// remuxes the publisher's video instead of encoding, so the video settings
// are kept and answered, not applied.
type encoderConfiguration struct {
	Arn   string            `json:"arn"`
	Name  string            `json:"name,omitempty"`
	Video encoderVideo      `json:"video"`
	Tags  map[string]string `json:"tags"`
	Seq   int64             `json:"seq"`
}

// encoderVideo is the model's Video, with IVS's defaults filled in.
type encoderVideo struct {
	Width     int     `json:"width"`
	Height    int     `json:"height"`
	Framerate float64 `json:"framerate"`
	Bitrate   int     `json:"bitrate"`
}

func (c *encoderConfiguration) output() map[string]any {
	return map[string]any{"arn": c.Arn, "name": c.Name, "video": c.Video, "tags": cloneTags(c.Tags)}
}

func (e *Emulator) createEncoderConfiguration(r *http.Request) (any, error) {
	var in struct {
		Name  *string `json:"name"`
		Video *struct {
			Width     *int     `json:"width"`
			Height    *int     `json:"height"`
			Framerate *float64 `json:"framerate"`
			Bitrate   *int     `json:"bitrate"`
		} `json:"video"`
		Tags map[string]string `json:"tags"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v validator
	v.str("name", in.Name, 0, 128, e.re.name)
	video := encoderVideo{Width: 1280, Height: 720, Framerate: 30, Bitrate: 2_500_000}
	if in.Video != nil {
		v.intRange("video.width", in.Video.Width, 2, 1920)
		v.intRange("video.height", in.Video.Height, 2, 1920)
		v.intRange("video.bitrate", in.Video.Bitrate, 1, 8_500_000)
		if f := in.Video.Framerate; f != nil && (*f < 1 || *f > 60) {
			v.fail("video.framerate", quote(strconv.FormatFloat(*f, 'f', -1, 64)), "Member must have value between 1 and 60")
		}
		video.Width = derefOr(in.Video.Width, video.Width)
		video.Height = derefOr(in.Video.Height, video.Height)
		video.Framerate = derefOr(in.Video.Framerate, video.Framerate)
		video.Bitrate = derefOr(in.Video.Bitrate, video.Bitrate)
	}
	v.tags("tags", in.Tags)
	if err := v.err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.state.EncoderConfigurations) >= e.opts.Quotas.EncoderConfigurations {
		return nil, quotaErr("encoder configuration quota of %d per Region reached", e.opts.Quotas.EncoderConfigurations)
	}
	_, arn := e.newArnLocked("encoder-configuration", func(arn string) bool { return e.state.EncoderConfigurations[arn] != nil })
	c := &encoderConfiguration{Arn: arn, Name: deref(in.Name), Video: video, Tags: cloneTags(in.Tags), Seq: e.state.nextSeq()}
	e.state.EncoderConfigurations[arn] = c
	if err := e.commitLocked(); err != nil {
		return nil, err
	}
	return map[string]any{"encoderConfiguration": c.output()}, nil
}

func derefOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func (e *Emulator) encoderArnOf(r *http.Request) (string, error) {
	return e.decodeArn(r, e.re.encoderArn)
}

func (e *Emulator) getEncoderConfiguration(r *http.Request) (any, error) {
	arn, err := e.encoderArnOf(r)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.state.EncoderConfigurations[arn]
	if !ok {
		return nil, notFoundErr("Encoder configuration not found: %s", arn)
	}
	return map[string]any{"encoderConfiguration": c.output()}, nil
}

func (e *Emulator) deleteEncoderConfiguration(r *http.Request) (any, error) {
	arn, err := e.encoderArnOf(r)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.state.EncoderConfigurations[arn]; !ok {
		return nil, notFoundErr("Encoder configuration not found: %s", arn)
	}
	for _, c := range e.compositions {
		if c.encoderArn == arn && c.running() {
			return nil, conflictErr("encoder configuration %s is used by composition %s", arn, c.arn)
		}
	}
	delete(e.state.EncoderConfigurations, arn)
	if err := e.commitLocked(); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (e *Emulator) listEncoderConfigurations(r *http.Request) (any, error) {
	return listRecords(e, r, "encoderConfigurations", func() map[string]*encoderConfiguration { return e.state.EncoderConfigurations },
		func(c *encoderConfiguration) int64 { return c.Seq },
		func(c *encoderConfiguration) map[string]any {
			s := c.output()
			delete(s, "video") // EncoderConfigurationSummary has none
			return s
		})
}
