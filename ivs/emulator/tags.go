package emulator

import (
	"net/http"
	"net/url"
	"strings"
)

// maxTags is the model's limit on tags per resource.
const maxTags = 50

// resourceArn decodes and validates the {resourceArn} label of /tags/{arn}.
// The SDK percent-encodes the whole ARN, so the label comes from the escaped
// path; an unescaped ARN would have been split at its "/".
func (e *Emulator) resourceArn(r *http.Request) (string, *validator) {
	var v validator
	label := strings.TrimPrefix(r.URL.EscapedPath(), "/tags/")
	arn, err := url.PathUnescape(label)
	if err != nil {
		v.fail("resourceArn", quote(label), "Member must be a percent-encoded ARN")
		return "", &v
	}
	v.requiredStr("resourceArn", &arn, 1, 128, e.re.resourceArn)
	return arn, &v
}

// tagsOfLocked returns the tag map of a stage or public key, creating it if a
// hand-edited state file left it null.
func (e *Emulator) tagsOfLocked(arn string) (map[string]string, error) {
	if st, ok := e.state.Stages[arn]; ok {
		if st.Tags == nil {
			st.Tags = make(map[string]string)
		}
		return st.Tags, nil
	}
	if k, ok := e.state.PublicKeys[arn]; ok {
		if k.Tags == nil {
			k.Tags = make(map[string]string)
		}
		return k.Tags, nil
	}
	return nil, notFoundErr("Resource not found: %s", arn)
}

func (e *Emulator) listTagsForResource(r *http.Request) (any, error) {
	arn, v := e.resourceArn(r)
	if err := v.err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	tags, err := e.tagsOfLocked(arn)
	if err != nil {
		return nil, err
	}
	return map[string]any{"tags": cloneTags(tags)}, nil
}

func (e *Emulator) tagResource(r *http.Request) (any, error) {
	arn, v := e.resourceArn(r)
	var in struct {
		Tags map[string]string `json:"tags"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if v.required("tags", in.Tags != nil) {
		v.tags("tags", in.Tags)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	tags, err := e.tagsOfLocked(arn)
	if err != nil {
		return nil, err
	}
	added := 0
	for k := range in.Tags {
		if _, ok := tags[k]; !ok {
			added++
		}
	}
	if len(tags)+added > maxTags {
		return nil, validationErr("resource %s would have %d tags; the limit is %d", arn, len(tags)+added, maxTags)
	}
	for k, val := range in.Tags {
		tags[k] = val
	}
	if err := e.commitLocked(); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (e *Emulator) untagResource(r *http.Request) (any, error) {
	arn, v := e.resourceArn(r)
	keys, present := r.URL.Query()["tagKeys"]
	if v.required("tagKeys", present) {
		v.count("tagKeys", len(keys), maxTags)
		for i := range keys {
			v.str(memberIndex("tagKeys", i), &keys[i], 1, 128, nil)
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	tags, err := e.tagsOfLocked(arn)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		delete(tags, k)
	}
	if err := e.commitLocked(); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}
