package emulator

import (
	"net/http"
	"regexp"
)

// arn is the ARN of an IVS resource of this emulator's Region and account.
func (e *Emulator) arn(kind, id string) string {
	return "arn:aws:ivs:" + e.opts.Region + ":" + e.opts.AccountID + ":" + kind + "/" + id
}

// newArnLocked draws a fresh id and ARN for a resource type: ids are random,
// as IVS's are, so a retry never collides with a resource already stored.
func (e *Emulator) newArnLocked(kind string, taken func(arn string) bool) (id, arn string) {
	for {
		id = randomAlnum(12)
		arn = e.arn(kind, id)
		if !taken(arn) {
			return id, arn
		}
	}
}

// decodeArn decodes the {"arn"} body of the Get and Delete operations and
// validates it against the model's pattern for that resource.
func (e *Emulator) decodeArn(r *http.Request, pattern *regexp.Regexp) (string, error) {
	var in struct {
		Arn *string `json:"arn"`
	}
	if err := decode(r, &in); err != nil {
		return "", err
	}
	var v validator
	v.requiredStr("arn", in.Arn, 1, 128, pattern)
	if err := v.err(); err != nil {
		return "", err
	}
	return *in.Arn, nil
}
