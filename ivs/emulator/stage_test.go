package emulator

import (
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/google/go-cmp/cmp"
)

func TestCreateStage(t *testing.T) {
	h := newHarness(t, Options{BaseURL: "https://live.example.com:8443/ivs/"})
	storage := "arn:aws:ivs:us-east-1:123456789012:storage-configuration/AbCd1234"
	out, err := h.client.CreateStage(t.Context(), &ivsrealtime.CreateStageInput{
		Name: aws.String("studio_1-a"),
		Tags: map[string]string{"env": "dev", "team": ""},
		AutoParticipantRecordingConfiguration: &types.AutoParticipantRecordingConfiguration{
			StorageConfigurationArn:         aws.String(storage),
			MediaTypes:                      []types.ParticipantRecordingMediaType{types.ParticipantRecordingMediaTypeAudioOnly},
			ThumbnailConfiguration:          &types.ParticipantThumbnailConfiguration{RecordingMode: types.ThumbnailRecordingModeInterval},
			RecordingReconnectWindowSeconds: 30,
			HlsConfiguration:                &types.ParticipantRecordingHlsConfiguration{TargetSegmentDurationSeconds: aws.Int32(4)},
			RecordParticipantReplicas:       true,
		},
		ParticipantTokenConfigurations: []types.ParticipantTokenConfiguration{
			{UserId: aws.String("host"), Capabilities: []types.ParticipantTokenCapability{types.ParticipantTokenCapabilityPublish}},
			{Duration: aws.Int32(5)},
		},
	})
	if err != nil {
		t.Fatalf("CreateStage: %v", err)
	}
	arn := aws.ToString(out.Stage.Arn)
	m := regexp.MustCompile(`^arn:aws:ivs:us-east-1:123456789012:stage/([A-Za-z0-9]{12})$`).FindStringSubmatch(arn)
	if m == nil {
		t.Fatalf("stage ARN %q does not look like an IVS stage ARN", arn)
	}
	id := m[1]
	want := &types.Stage{
		Arn:  aws.String(arn),
		Name: aws.String("studio_1-a"),
		Tags: map[string]string{"env": "dev", "team": ""},
		AutoParticipantRecordingConfiguration: &types.AutoParticipantRecordingConfiguration{
			StorageConfigurationArn: aws.String(storage),
			MediaTypes:              []types.ParticipantRecordingMediaType{types.ParticipantRecordingMediaTypeAudioOnly},
			ThumbnailConfiguration: &types.ParticipantThumbnailConfiguration{
				RecordingMode:         types.ThumbnailRecordingModeInterval,
				Storage:               []types.ThumbnailStorageType{types.ThumbnailStorageTypeSequential},
				TargetIntervalSeconds: aws.Int32(60),
			},
			RecordingReconnectWindowSeconds: 30,
			HlsConfiguration:                &types.ParticipantRecordingHlsConfiguration{TargetSegmentDurationSeconds: aws.Int32(4)},
			RecordParticipantReplicas:       true,
		},
		Endpoints: &types.StageEndpoints{
			Events: aws.String("wss://live.example.com:8443/ivs/events/" + id),
			Whip:   aws.String("https://live.example.com:8443/ivs/whip/" + id),
			Rtmp:   aws.String("rtmp://live.example.com/app/"),
			Rtmps:  aws.String("rtmps://live.example.com:443/app/"),
		},
	}
	if diff := cmp.Diff(want, out.Stage, sdkCmp()); diff != "" {
		t.Errorf("CreateStage stage mismatch (-want +got):\n%s", diff)
	}
	if len(out.ParticipantTokens) != 2 {
		t.Fatalf("got %d participant tokens, want 2", len(out.ParticipantTokens))
	}
	first, second := out.ParticipantTokens[0], out.ParticipantTokens[1]
	if aws.ToString(first.UserId) != "host" || aws.ToInt32(first.Duration) != 720 ||
		!cmp.Equal(first.Capabilities, []types.ParticipantTokenCapability{"PUBLISH"}) {
		t.Errorf("first token = %+v, want host/720/[PUBLISH]", first)
	}
	if second.UserId != nil || aws.ToInt32(second.Duration) != 5 ||
		!cmp.Equal(second.Capabilities, []types.ParticipantTokenCapability{"PUBLISH", "SUBSCRIBE"}) {
		t.Errorf("second token = %+v, want no user/5/[PUBLISH SUBSCRIBE]", second)
	}

	got, err := h.client.GetStage(t.Context(), &ivsrealtime.GetStageInput{Arn: aws.String(arn)})
	if err != nil {
		t.Fatalf("GetStage: %v", err)
	}
	if diff := cmp.Diff(want, got.Stage, sdkCmp()); diff != "" {
		t.Errorf("GetStage mismatch (-want +got):\n%s", diff)
	}
}

func TestCreateStageDefaults(t *testing.T) {
	h := newHarness(t, Options{})
	out, err := h.client.CreateStage(t.Context(), &ivsrealtime.CreateStageInput{})
	if err != nil {
		t.Fatalf("CreateStage: %v", err)
	}
	id := strings.TrimPrefix(aws.ToString(out.Stage.Arn), "arn:aws:ivs:us-east-1:123456789012:stage/")
	want := &types.Stage{
		Arn:  out.Stage.Arn,
		Tags: map[string]string{},
		AutoParticipantRecordingConfiguration: &types.AutoParticipantRecordingConfiguration{
			StorageConfigurationArn: aws.String(""),
			MediaTypes:              []types.ParticipantRecordingMediaType{"AUDIO_VIDEO"},
			ThumbnailConfiguration: &types.ParticipantThumbnailConfiguration{
				RecordingMode: "DISABLED", Storage: []types.ThumbnailStorageType{"SEQUENTIAL"}, TargetIntervalSeconds: aws.Int32(60),
			},
			HlsConfiguration: &types.ParticipantRecordingHlsConfiguration{TargetSegmentDurationSeconds: aws.Int32(6)},
		},
		Endpoints: &types.StageEndpoints{
			Events: aws.String("ws://localhost:3000/ivs/events/" + id),
			Whip:   aws.String("http://localhost:3000/ivs/whip/" + id),
			Rtmp:   aws.String("rtmp://localhost/app/"),
			Rtmps:  aws.String("rtmps://localhost:443/app/"),
		},
	}
	if diff := cmp.Diff(want, out.Stage, sdkCmp()); diff != "" {
		t.Errorf("stage mismatch (-want +got):\n%s", diff)
	}
	if out.ParticipantTokens != nil {
		t.Errorf("ParticipantTokens = %v, want none", out.ParticipantTokens)
	}
}

func TestCreateStageValidation(t *testing.T) {
	h := newHarness(t, Options{})
	recording := func(mut func(*types.AutoParticipantRecordingConfiguration)) *types.AutoParticipantRecordingConfiguration {
		c := &types.AutoParticipantRecordingConfiguration{StorageConfigurationArn: aws.String("")}
		mut(c)
		return c
	}
	manyTags := map[string]string{}
	for i := range 51 {
		manyTags[longString(i+1)] = "v"
	}
	tests := []struct {
		name   string
		in     ivsrealtime.CreateStageInput
		member string
	}{
		{"name too long", ivsrealtime.CreateStageInput{Name: aws.String(longString(129))}, "'name'"},
		{"name pattern", ivsrealtime.CreateStageInput{Name: aws.String("my stage")}, "'name'"},
		{"too many token configurations", ivsrealtime.CreateStageInput{ParticipantTokenConfigurations: make([]types.ParticipantTokenConfiguration, 13)}, "participantTokenConfigurations"},
		{"token duration 0", ivsrealtime.CreateStageInput{ParticipantTokenConfigurations: []types.ParticipantTokenConfiguration{{Duration: aws.Int32(0)}}}, "participantTokenConfigurations.1.member.duration"},
		{"token duration 20161", ivsrealtime.CreateStageInput{ParticipantTokenConfigurations: []types.ParticipantTokenConfiguration{{}, {Duration: aws.Int32(20161)}}}, "participantTokenConfigurations.2.member.duration"},
		{"token capabilities", ivsrealtime.CreateStageInput{ParticipantTokenConfigurations: []types.ParticipantTokenConfiguration{{Capabilities: []types.ParticipantTokenCapability{"PUBLISH", "SUBSCRIBE", "PUBLISH"}}}}, "capabilities"},
		{"token attributes", ivsrealtime.CreateStageInput{ParticipantTokenConfigurations: []types.ParticipantTokenConfiguration{{Attributes: map[string]string{"k": longString(1024)}}}}, "attributes"},
		{"too many tags", ivsrealtime.CreateStageInput{Tags: manyTags}, "'tags'"},
		{"tag key empty", ivsrealtime.CreateStageInput{Tags: map[string]string{"": "v"}}, "'tags.key'"},
		{"tag key too long", ivsrealtime.CreateStageInput{Tags: map[string]string{longString(129): "v"}}, "'tags.key'"},
		{"tag value too long", ivsrealtime.CreateStageInput{Tags: map[string]string{"k": longString(257)}}, "'tags.value'"},
		{"storage arn pattern", ivsrealtime.CreateStageInput{AutoParticipantRecordingConfiguration: recording(func(c *types.AutoParticipantRecordingConfiguration) {
			c.StorageConfigurationArn = aws.String("arn:aws:ivs:us-east-1:123456789012:stage/abc")
		})}, "storageConfigurationArn"},
		{"media type enum", ivsrealtime.CreateStageInput{AutoParticipantRecordingConfiguration: recording(func(c *types.AutoParticipantRecordingConfiguration) {
			c.MediaTypes = []types.ParticipantRecordingMediaType{"VIDEO_ONLY"}
		})}, "mediaTypes"},
		{"two media types", ivsrealtime.CreateStageInput{AutoParticipantRecordingConfiguration: recording(func(c *types.AutoParticipantRecordingConfiguration) {
			c.MediaTypes = []types.ParticipantRecordingMediaType{"AUDIO_ONLY", "NONE"}
		})}, "mediaTypes"},
		{"reconnect window 301", ivsrealtime.CreateStageInput{AutoParticipantRecordingConfiguration: recording(func(c *types.AutoParticipantRecordingConfiguration) {
			c.RecordingReconnectWindowSeconds = 301
		})}, "recordingReconnectWindowSeconds"},
		{"hls segment 11", ivsrealtime.CreateStageInput{AutoParticipantRecordingConfiguration: recording(func(c *types.AutoParticipantRecordingConfiguration) {
			c.HlsConfiguration = &types.ParticipantRecordingHlsConfiguration{TargetSegmentDurationSeconds: aws.Int32(11)}
		})}, "targetSegmentDurationSeconds"},
		{"thumbnail interval 0", ivsrealtime.CreateStageInput{AutoParticipantRecordingConfiguration: recording(func(c *types.AutoParticipantRecordingConfiguration) {
			c.ThumbnailConfiguration = &types.ParticipantThumbnailConfiguration{TargetIntervalSeconds: aws.Int32(0)}
		})}, "targetIntervalSeconds"},
		{"thumbnail storage duplicate", ivsrealtime.CreateStageInput{AutoParticipantRecordingConfiguration: recording(func(c *types.AutoParticipantRecordingConfiguration) {
			c.ThumbnailConfiguration = &types.ParticipantThumbnailConfiguration{Storage: []types.ThumbnailStorageType{"LATEST", "LATEST"}}
		})}, "thumbnailConfiguration.storage"},
		{"thumbnail mode enum", ivsrealtime.CreateStageInput{AutoParticipantRecordingConfiguration: recording(func(c *types.AutoParticipantRecordingConfiguration) {
			c.ThumbnailConfiguration = &types.ParticipantThumbnailConfiguration{RecordingMode: "SOMETIMES"}
		})}, "recordingMode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.client.CreateStage(t.Context(), &tt.in)
			wantAPIError[*types.ValidationException](t, err, tt.member)
		})
	}
	list, err := h.client.ListStages(t.Context(), &ivsrealtime.ListStagesInput{})
	if err != nil {
		t.Fatalf("ListStages: %v", err)
	}
	if len(list.Stages) != 0 {
		t.Errorf("invalid requests created %d stages", len(list.Stages))
	}
}

func TestStageNotFoundAndBadArn(t *testing.T) {
	h := newHarness(t, Options{})
	missing := "arn:aws:ivs:us-east-1:123456789012:stage/abcdefghijkl"
	_, err := h.client.GetStage(t.Context(), &ivsrealtime.GetStageInput{Arn: aws.String(missing)})
	wantAPIError[*types.ResourceNotFoundException](t, err, missing)
	_, err = h.client.UpdateStage(t.Context(), &ivsrealtime.UpdateStageInput{Arn: aws.String(missing), Name: aws.String("x")})
	wantAPIError[*types.ResourceNotFoundException](t, err)
	_, err = h.client.DeleteStage(t.Context(), &ivsrealtime.DeleteStageInput{Arn: aws.String(missing)})
	wantAPIError[*types.ResourceNotFoundException](t, err)

	for _, arn := range []string{"", "stage/abc", "arn:aws:ivs:us-east-1:123456789012:public-key/abc", "arn:aws:ivs:us-east-1:123456789012:stage/" + longString(120)} {
		_, err = h.client.GetStage(t.Context(), &ivsrealtime.GetStageInput{Arn: aws.String(arn)})
		wantAPIError[*types.ValidationException](t, err, "'arn'")
	}
}

func TestUpdateAndDeleteStage(t *testing.T) {
	h := newHarness(t, Options{})
	st := h.createStage(t, "before")
	storage := "arn:aws:ivs:us-east-1:123456789012:storage-configuration/s1"
	out, err := h.client.UpdateStage(t.Context(), &ivsrealtime.UpdateStageInput{
		Arn:  st.Arn,
		Name: aws.String("after"),
		AutoParticipantRecordingConfiguration: &types.AutoParticipantRecordingConfiguration{
			StorageConfigurationArn: aws.String(storage),
		},
	})
	if err != nil {
		t.Fatalf("UpdateStage: %v", err)
	}
	if got := aws.ToString(out.Stage.Name); got != "after" {
		t.Errorf("name = %q, want after", got)
	}
	if got := aws.ToString(out.Stage.AutoParticipantRecordingConfiguration.StorageConfigurationArn); got != storage {
		t.Errorf("storageConfigurationArn = %q, want %q", got, storage)
	}
	if diff := cmp.Diff(st.Endpoints, out.Stage.Endpoints, sdkCmp()); diff != "" {
		t.Errorf("endpoints changed on update (-before +after):\n%s", diff)
	}
	// Updating only the name keeps the recording configuration.
	out, err = h.client.UpdateStage(t.Context(), &ivsrealtime.UpdateStageInput{Arn: st.Arn, Name: aws.String("again")})
	if err != nil {
		t.Fatalf("UpdateStage name: %v", err)
	}
	if got := aws.ToString(out.Stage.AutoParticipantRecordingConfiguration.StorageConfigurationArn); got != storage {
		t.Errorf("storageConfigurationArn after name update = %q, want %q", got, storage)
	}
	_, err = h.client.UpdateStage(t.Context(), &ivsrealtime.UpdateStageInput{Arn: st.Arn, Name: aws.String("bad name")})
	wantAPIError[*types.ValidationException](t, err, "'name'")

	if _, err := h.client.DeleteStage(t.Context(), &ivsrealtime.DeleteStageInput{Arn: st.Arn}); err != nil {
		t.Fatalf("DeleteStage: %v", err)
	}
	_, err = h.client.GetStage(t.Context(), &ivsrealtime.GetStageInput{Arn: st.Arn})
	wantAPIError[*types.ResourceNotFoundException](t, err)
}

func TestStageQuota(t *testing.T) {
	h := newHarness(t, Options{Quotas: Quotas{Stages: 2}})
	first := h.createStage(t, "a")
	h.createStage(t, "b")
	_, err := h.client.CreateStage(t.Context(), &ivsrealtime.CreateStageInput{Name: aws.String("c")})
	wantAPIError[*types.ServiceQuotaExceededException](t, err, "quota")
	// IVS models this error as 402, not the usual 4xx of other services.
	if status, header, _ := h.post(t, "POST", "/CreateStage", `{}`); status != 402 || header.Get("X-Amzn-ErrorType") != "ServiceQuotaExceededException" {
		t.Errorf("raw CreateStage over quota = %d %s, want 402 ServiceQuotaExceededException", status, header.Get("X-Amzn-ErrorType"))
	}
	if _, err := h.client.DeleteStage(t.Context(), &ivsrealtime.DeleteStageInput{Arn: first.Arn}); err != nil {
		t.Fatalf("DeleteStage: %v", err)
	}
	h.createStage(t, "c")
}

func TestListStagesPagination(t *testing.T) {
	h := newHarness(t, Options{})
	var want []string
	for i := range 5 {
		st, err := h.client.CreateStage(t.Context(), &ivsrealtime.CreateStageInput{
			Name: aws.String("s" + string(rune('0'+i))), Tags: map[string]string{"i": string(rune('0' + i))},
		})
		if err != nil {
			t.Fatalf("CreateStage: %v", err)
		}
		want = append(want, aws.ToString(st.Stage.Arn))
	}
	var got []string
	var sizes []int
	var token *string
	for {
		out, err := h.client.ListStages(t.Context(), &ivsrealtime.ListStagesInput{MaxResults: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatalf("ListStages: %v", err)
		}
		sizes = append(sizes, len(out.Stages))
		for _, s := range out.Stages {
			got = append(got, aws.ToString(s.Arn))
			if aws.ToString(s.Name) != "s"+s.Tags["i"] {
				t.Errorf("summary %s has name %q and tags %v", aws.ToString(s.Arn), aws.ToString(s.Name), s.Tags)
			}
		}
		if out.NextToken == nil {
			break
		}
		token = out.NextToken
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ARNs in creation order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{2, 2, 1}, sizes); diff != "" {
		t.Errorf("page sizes (-want +got):\n%s", diff)
	}

	all, err := h.client.ListStages(t.Context(), &ivsrealtime.ListStagesInput{})
	if err != nil {
		t.Fatalf("ListStages default: %v", err)
	}
	if len(all.Stages) != 5 || all.NextToken != nil {
		t.Errorf("default page: %d stages, nextToken %v; want 5 and none", len(all.Stages), all.NextToken)
	}

	bad := []struct {
		name   string
		in     ivsrealtime.ListStagesInput
		member string
	}{
		{"maxResults 0", ivsrealtime.ListStagesInput{MaxResults: aws.Int32(0)}, "maxResults"},
		{"maxResults 101", ivsrealtime.ListStagesInput{MaxResults: aws.Int32(101)}, "maxResults"},
		{"nextToken pattern", ivsrealtime.ListStagesInput{NextToken: aws.String("not a token!")}, "nextToken"},
		{"nextToken too long", ivsrealtime.ListStagesInput{NextToken: aws.String(longString(1025))}, "nextToken"},
		{"nextToken garbage", ivsrealtime.ListStagesInput{NextToken: aws.String("abc")}, "nextToken"},
		{"nextToken of another list", ivsrealtime.ListStagesInput{NextToken: aws.String(encodePageToken("publicKeys", 1))}, "nextToken"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.client.ListStages(t.Context(), &tt.in)
			wantAPIError[*types.ValidationException](t, err, tt.member)
		})
	}
}
