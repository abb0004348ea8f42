package ivslive

import "testing"

func TestValidChannelARN(t *testing.T) {
	for arn, want := range map[string]bool{
		"arn:aws:ivs:us-west-2:251394915937:channel/aVHZaA2R5mCI": true,
		"arn:aws:ivs:us-east-1:123456789012:channel/a-b":          true,
		"arn:aws:ivs:us-east-1:123456789012:stage/aVHZaA2R5mCI":   false,
		"arn:aws:ivs:us-east-1:123456789012:channel/":             false,
		"arn:aws:ivs:us-east-1:12x:channel/abc":                   false,
		"arn:aws:ivs:US-EAST-1:123456789012:channel/abc":          false,
		"arn:aws:ivs:us-east-1:123456789012:channel/a_b":          false,
	} {
		if got := ValidChannelARN(arn); got != want {
			t.Errorf("ValidChannelARN(%q) = %v, want %v", arn, got, want)
		}
	}
	if ValidStageARN("arn:aws:ivs:us-east-1:123456789012:channel/abc") {
		t.Error("a channel ARN passed for a stage ARN")
	}
}
