package emulator

import "slices"

// recordingConfig is the model's AutoParticipantRecordingConfiguration. The
// same type decodes requests (nil = not sent) and, once normalized, encodes
// responses with every default filled in.
type recordingConfig struct {
	StorageConfigurationArn         *string          `json:"storageConfigurationArn,omitempty"`
	MediaTypes                      []string         `json:"mediaTypes,omitempty"`
	ThumbnailConfiguration          *thumbnailConfig `json:"thumbnailConfiguration,omitempty"`
	RecordingReconnectWindowSeconds *int             `json:"recordingReconnectWindowSeconds,omitempty"`
	HlsConfiguration                *hlsConfig       `json:"hlsConfiguration,omitempty"`
	RecordParticipantReplicas       *bool            `json:"recordParticipantReplicas,omitempty"`
}

// thumbnailConfig is the model's ParticipantThumbnailConfiguration.
type thumbnailConfig struct {
	TargetIntervalSeconds *int     `json:"targetIntervalSeconds,omitempty"`
	Storage               []string `json:"storage,omitempty"`
	RecordingMode         *string  `json:"recordingMode,omitempty"`
}

// hlsConfig is the model's ParticipantRecordingHlsConfiguration.
type hlsConfig struct {
	TargetSegmentDurationSeconds *int `json:"targetSegmentDurationSeconds,omitempty"`
}

// normalizeRecording fills in the documented defaults. An empty (or absent)
// storageConfigurationArn disables recording, and the model says the other
// fields are then reset to their defaults. recordParticipantReplicas uses the
// model's default (false): the SDK never sends false, so the documented
// "Default: true" could not be turned off.
func normalizeRecording(in *recordingConfig) *recordingConfig {
	out := &recordingConfig{
		StorageConfigurationArn:         ptr(""),
		MediaTypes:                      []string{"AUDIO_VIDEO"},
		ThumbnailConfiguration:          &thumbnailConfig{TargetIntervalSeconds: ptr(60), Storage: []string{"SEQUENTIAL"}, RecordingMode: ptr("DISABLED")},
		RecordingReconnectWindowSeconds: ptr(0),
		HlsConfiguration:                &hlsConfig{TargetSegmentDurationSeconds: ptr(6)},
		RecordParticipantReplicas:       ptr(false),
	}
	if in == nil || in.StorageConfigurationArn == nil || *in.StorageConfigurationArn == "" {
		return out
	}
	out.StorageConfigurationArn = ptr(*in.StorageConfigurationArn)
	if len(in.MediaTypes) > 0 {
		out.MediaTypes = slices.Clone(in.MediaTypes)
	}
	if t := in.ThumbnailConfiguration; t != nil {
		if t.TargetIntervalSeconds != nil {
			out.ThumbnailConfiguration.TargetIntervalSeconds = ptr(*t.TargetIntervalSeconds)
		}
		if len(t.Storage) > 0 {
			out.ThumbnailConfiguration.Storage = slices.Clone(t.Storage)
		}
		if t.RecordingMode != nil {
			out.ThumbnailConfiguration.RecordingMode = ptr(*t.RecordingMode)
		}
	}
	if in.RecordingReconnectWindowSeconds != nil {
		out.RecordingReconnectWindowSeconds = ptr(*in.RecordingReconnectWindowSeconds)
	}
	if in.HlsConfiguration != nil && in.HlsConfiguration.TargetSegmentDurationSeconds != nil {
		out.HlsConfiguration.TargetSegmentDurationSeconds = ptr(*in.HlsConfiguration.TargetSegmentDurationSeconds)
	}
	if in.RecordParticipantReplicas != nil {
		out.RecordParticipantReplicas = ptr(*in.RecordParticipantReplicas)
	}
	return out
}

// clone deep-copies c so a response never aliases stored state.
func (c *recordingConfig) clone() *recordingConfig {
	if c == nil {
		return nil
	}
	out := *c
	out.MediaTypes = slices.Clone(c.MediaTypes)
	if c.ThumbnailConfiguration != nil {
		t := *c.ThumbnailConfiguration
		t.Storage = slices.Clone(t.Storage)
		out.ThumbnailConfiguration = &t
	}
	if c.HlsConfiguration != nil {
		h := *c.HlsConfiguration
		out.HlsConfiguration = &h
	}
	return &out
}

// recording validates an AutoParticipantRecordingConfiguration member.
func (v *validator) recording(e *Emulator, member string, c *recordingConfig) {
	if c == nil {
		return
	}
	v.requiredStr(member+".storageConfigurationArn", c.StorageConfigurationArn, 0, 128, e.re.storageArn)
	v.count(member+".mediaTypes", len(c.MediaTypes), 1)
	v.enum(member+".mediaTypes", c.MediaTypes, "AUDIO_VIDEO", "AUDIO_ONLY", "NONE")
	if t := c.ThumbnailConfiguration; t != nil {
		m := member + ".thumbnailConfiguration"
		v.intRange(m+".targetIntervalSeconds", t.TargetIntervalSeconds, 1, 86400)
		v.count(m+".storage", len(t.Storage), 2)
		v.enum(m+".storage", t.Storage, "SEQUENTIAL", "LATEST")
		if len(t.Storage) == 2 && t.Storage[0] == t.Storage[1] {
			v.fail(m+".storage", quote(t.Storage[0]), "Member must have unique items")
		}
		if t.RecordingMode != nil {
			v.enum(m+".recordingMode", []string{*t.RecordingMode}, "INTERVAL", "DISABLED")
		}
	}
	v.intRange(member+".recordingReconnectWindowSeconds", c.RecordingReconnectWindowSeconds, 0, 300)
	if c.HlsConfiguration != nil {
		v.intRange(member+".hlsConfiguration.targetSegmentDurationSeconds", c.HlsConfiguration.TargetSegmentDurationSeconds, 2, 10)
	}
}

func ptr[T any](v T) *T {
	return &v
}
