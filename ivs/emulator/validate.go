package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxBodyBytes bounds request bodies; the largest real input (a stage with 12
// token configurations of 1 KB attributes each) is far below it.
const maxBodyBytes = 1 << 20

// maxAttributesBytes is the documented 1 KB limit on participant attributes.
const maxAttributesBytes = 1024

// patterns holds the model's regular expressions, compiled once per Emulator.
type patterns struct {
	stageArn       *regexp.Regexp
	channelArn     *regexp.Regexp
	playbackKeyArn *regexp.Regexp
	compositionArn *regexp.Regexp
	encoderArn     *regexp.Regexp
	clientToken    *regexp.Regexp
	publicKeyArn   *regexp.Regexp
	resourceArn    *regexp.Regexp
	storageArn     *regexp.Regexp
	name           *regexp.Regexp
	tokenID        *regexp.Regexp
	participantID  *regexp.Regexp
	nextToken      *regexp.Regexp
	sessionID      *regexp.Regexp
	stageID        *regexp.Regexp
	jti            *regexp.Regexp
	pem            *regexp.Regexp
}

func newPatterns() patterns {
	return patterns{
		stageArn:       regexp.MustCompile(`^arn:aws:ivs:[a-z0-9-]+:[0-9]+:stage/[a-zA-Z0-9-]+$`),
		channelArn:     regexp.MustCompile(`^arn:aws:ivs:[a-z0-9-]+:[0-9]+:channel/[a-zA-Z0-9-]+$`),
		playbackKeyArn: regexp.MustCompile(`^arn:aws:ivs:[a-z0-9-]+:[0-9]+:playback-key/[a-zA-Z0-9-]+$`),
		compositionArn: regexp.MustCompile(`^arn:aws:ivs:[a-z0-9-]+:[0-9]+:composition/[a-zA-Z0-9-]+$`),
		encoderArn:     regexp.MustCompile(`^arn:aws:ivs:[a-z0-9-]+:[0-9]+:encoder-configuration/[a-zA-Z0-9-]+$`),
		clientToken:    regexp.MustCompile(`^[a-zA-Z0-9-_]*$`),
		publicKeyArn:   regexp.MustCompile(`^arn:aws:ivs:[a-z0-9-]+:[0-9]+:public-key/[a-zA-Z0-9-]+$`),
		// The model says "[a-z-]/" (one character) for the resource type, which
		// no real ARN matches; AWS accepts stage and public-key ARNs, so "+".
		resourceArn:   regexp.MustCompile(`^arn:aws:ivs:[a-z0-9-]+:[0-9]+:[a-z-]+/[a-zA-Z0-9-]+$`),
		storageArn:    regexp.MustCompile(`^^$|^arn:aws:ivs:[a-z0-9-]+:[0-9]+:storage-configuration/[a-zA-Z0-9-]+$$`),
		name:          regexp.MustCompile(`^[a-zA-Z0-9-_]*$`),
		tokenID:       regexp.MustCompile(`^[a-zA-Z0-9-_]*$`),
		participantID: regexp.MustCompile(`^[a-zA-Z0-9-]*$`),
		nextToken:     regexp.MustCompile(`^[a-zA-Z0-9+/=_-]*$`),
		sessionID:     regexp.MustCompile(`^st-[a-zA-Z0-9]+$`),
		stageID:       regexp.MustCompile(`^[a-zA-Z0-9-]{1,64}$`),
		// What IVS documents for a self-signed token's jti.
		jti: regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`),
		// Smithy patterns are not anchored, and this one has no ^ or $.
		pem: regexp.MustCompile(`-----BEGIN PUBLIC KEY-----\r?\n([a-zA-Z0-9+/=\r\n]+)\r?\n-----END PUBLIC KEY-----(\r?\n)?`),
	}
}

// decode reads a JSON request body into v. An empty body counts as {}.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return validationErr("request body is larger than %d bytes", maxBodyBytes)
		}
		return validationErr("read request body: %v", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return validationErr("1 validation error detected: Value at '%s' has the wrong type: %v", typeErr.Field, err)
		}
		return validationErr("could not parse request body as JSON: %v", err)
	}
	return nil
}

// validator collects constraint violations in the AWS message format, e.g.
// "Value '0' at 'duration' failed to satisfy constraint: Member must have
// value greater than or equal to 1".
type validator struct {
	problems []string
}

func (v *validator) fail(member, value, constraint string) {
	v.problems = append(v.problems, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", value, member, constraint))
}

// err returns a ValidationException listing every violation, or nil.
func (v *validator) err() error {
	switch len(v.problems) {
	case 0:
		return nil
	case 1:
		return validationErr("1 validation error detected: %s", v.problems[0])
	}
	return validationErr("%d validation errors detected: %s", len(v.problems), strings.Join(v.problems, "; "))
}

// quote renders a scalar for a message, shortened so huge inputs stay readable.
func quote(s string) string {
	if utf8.RuneCountInString(s) > 64 {
		s = string([]rune(s)[:64]) + "..."
	}
	return "'" + s + "'"
}

// required reports a missing (nil) member.
func (v *validator) required(member string, present bool) bool {
	if !present {
		v.fail(member, "null", "Member must not be null")
	}
	return present
}

// str checks an optional string's length in characters and its pattern; a
// nil s passes, and re may be nil.
func (v *validator) str(member string, s *string, minLen, maxLen int, re *regexp.Regexp) {
	if s == nil {
		return
	}
	n := utf8.RuneCountInString(*s)
	switch {
	case n < minLen:
		v.fail(member, quote(*s), fmt.Sprintf("Member must have length greater than or equal to %d", minLen))
	case n > maxLen:
		v.fail(member, quote(*s), fmt.Sprintf("Member must have length less than or equal to %d", maxLen))
	case re != nil && !re.MatchString(*s):
		v.fail(member, quote(*s), "Member must satisfy regular expression pattern: "+re.String())
	}
}

// requiredStr is str for a required member.
func (v *validator) requiredStr(member string, s *string, minLen, maxLen int, re *regexp.Regexp) {
	if v.required(member, s != nil) {
		v.str(member, s, minLen, maxLen, re)
	}
}

// intRange checks an optional integer against an inclusive range.
func (v *validator) intRange(member string, n *int, minVal, maxVal int) {
	if n == nil {
		return
	}
	switch {
	case *n < minVal:
		v.fail(member, quote(strconv.Itoa(*n)), fmt.Sprintf("Member must have value greater than or equal to %d", minVal))
	case *n > maxVal:
		v.fail(member, quote(strconv.Itoa(*n)), fmt.Sprintf("Member must have value less than or equal to %d", maxVal))
	}
}

// count checks the number of items of a list or map member.
func (v *validator) count(member string, n, maxItems int) {
	if n > maxItems {
		v.fail(member, fmt.Sprintf("of %d items", n), fmt.Sprintf("Member must have length less than or equal to %d", maxItems))
	}
}

// enum checks that every value is one of allowed.
func (v *validator) enum(member string, values []string, allowed ...string) {
	for _, s := range values {
		if !slices.Contains(allowed, s) {
			v.fail(member, quote(s), "Member must satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
			return
		}
	}
}

// tags checks a Tags map: at most 50 entries, keys 1-128 and values 0-256
// characters.
func (v *validator) tags(member string, tags map[string]string) {
	v.count(member, len(tags), 50)
	for k, val := range tags {
		v.str(member+".key", &k, 1, 128, nil)
		v.str(member+".value", &val, 0, 256, nil)
	}
}

// attributes checks the 1 KB limit on the total of keys and values.
func (v *validator) attributes(member string, attrs map[string]string) {
	total := 0
	for k, val := range attrs {
		total += len(k) + len(val)
	}
	if total > maxAttributesBytes {
		v.fail(member, fmt.Sprintf("of %d bytes", total),
			fmt.Sprintf("Member must have a total length of keys and values less than or equal to %d bytes", maxAttributesBytes))
	}
}

// page checks maxResults and nextToken of a List operation.
func (v *validator) page(e *Emulator, maxResults *int, maxAllowed int, nextToken *string) {
	v.intRange("maxResults", maxResults, 1, maxAllowed)
	v.str("nextToken", nextToken, 0, 1024, e.re.nextToken)
}
