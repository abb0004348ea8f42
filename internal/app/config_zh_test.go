package app

import (
	"regexp"
	"strings"
	"testing"
)

// TestHelpZHCoversConfig keeps helpZH in step with Config: a new or renamed
// variable without a translation would leave a hole in README.zh-TW.md's
// table, and a translation for a removed variable would document a setting
// that no longer exists.
func TestHelpZHCoversConfig(t *testing.T) {
	zh := helpZH()
	declared := map[string]bool{}
	for _, f := range (&Config{}).fields() {
		declared[f.Env] = true
		if strings.TrimSpace(zh[f.Env]) == "" {
			t.Errorf("helpZH has no translation for %s (English: %q)", f.Env, f.Help)
		}
	}
	for name := range zh {
		if !declared[name] {
			t.Errorf("helpZH translates %s, which Config does not declare", name)
		}
	}
}

// Literals a translation must carry over unchanged: numbers (defaults,
// limits, addresses), upper-case names (variables, AWS and protocol terms),
// paths, URL schemes and name=value or a:b:c examples.
var (
	literalNumber = regexp.MustCompile(`[0-9]+`)
	literalUpper  = regexp.MustCompile(`[A-Z][A-Z0-9_]+`)
	literalCode   = regexp.MustCompile(`[A-Za-z0-9_./*-]*(?:://|/[a-z]|[a-z]:[a-z]|=[a-z])[A-Za-z0-9_./:=*-]*`)
)

// TestHelpZHKeepsLiterals catches translations that drift from the English
// help: a changed default or limit, a dropped variable name, or a lost unit.
// It cannot judge the prose, but it does catch the mistakes that would make
// the Chinese table say something the code does not do.
func TestHelpZHKeepsLiterals(t *testing.T) {
	zh := helpZH()
	for _, f := range (&Config{}).fields() {
		got, ok := zh[f.Env]
		if !ok {
			continue // reported by TestHelpZHCoversConfig
		}
		var want []string
		for _, re := range []*regexp.Regexp{literalNumber, literalUpper, literalCode} {
			want = append(want, re.FindAllString(f.Help, -1)...)
		}
		for _, lit := range want {
			lit = strings.TrimRight(lit, ".")
			if !strings.Contains(got, lit) {
				t.Errorf("%s: the translation lacks %q from the English help %q", f.Env, lit, f.Help)
			}
		}
		// Units, so a translation never turns seconds into minutes.
		for en, cn := range map[string]string{"milliseconds": "毫秒", "seconds": "秒", "days": "天"} {
			if strings.Contains(f.Help, en) && !strings.Contains(got, cn) {
				t.Errorf("%s: the English help names %s, the translation lacks %q", f.Env, en, cn)
			}
		}
		// Literal values the variable takes.
		for _, word := range []string{"true", "false", "aws", "debug", "warn"} {
			if regexp.MustCompile(`\b`+word+`\b`).MatchString(f.Help) && !strings.Contains(got, word) {
				t.Errorf("%s: the translation lacks the value %q", f.Env, word)
			}
		}
	}
}

// TestGroupZHCoversConfig: every configuration group has a Chinese heading.
func TestGroupZHCoversConfig(t *testing.T) {
	var c Config
	for _, f := range c.fields() {
		if groupZH()[f.Group] == "" {
			t.Errorf("group %q (of %s) has no entry in groupZH", f.Group, f.Env)
		}
	}
}
