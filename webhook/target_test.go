package webhook_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ivslive/ivslive/webhook"
)

func TestParseTargets(t *testing.T) {
	base := webhook.TargetConfig{Timeout: 10 * time.Second, MaxConns: 16}
	named := `[{"name":"billing","url":"https://billing.example.com/hooks?token=x","secrets":["` + secret('a') + `","` + secret('b') + `"],
		"events":["broadcast.*","viewer.left"],"timeout":"3s","maxConnections":2}]`
	file := filepath.Join(t.TempDir(), "targets.json")
	if err := os.WriteFile(file, []byte(named), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		cfg  func(c *webhook.TargetConfig)
		err  string
	}{
		{"nothing", func(c *webhook.TargetConfig) {}, ""},
		{"urls", func(c *webhook.TargetConfig) {
			c.URLs, c.Secrets = []string{"https://a.example.com/x", "https://a.example.com/y"}, secret('a')+","+secret('b')
		}, ""},
		{"named", func(c *webhook.TargetConfig) { c.Targets = named }, ""},
		{"named from a file", func(c *webhook.TargetConfig) { c.Targets = file }, ""},
		{"urls without secret", func(c *webhook.TargetConfig) { c.URLs = []string{"https://a.example.com/"} }, "WEBHOOK_SECRET: required"},
		{"secret without urls", func(c *webhook.TargetConfig) { c.Secrets = secret('a') }, "WEBHOOK_SECRET: set without WEBHOOK_URLS"},
		{"secret not whsec", func(c *webhook.TargetConfig) { c.URLs, c.Secrets = []string{"https://a.example.com/"}, "hunter2" }, "must start with whsec_"},
		{"secret too short", func(c *webhook.TargetConfig) {
			c.URLs, c.Secrets = []string{"https://a.example.com/"}, "whsec_c2hvcnQ="
		}, "24 to 64 bytes"},
		{"ftp url", func(c *webhook.TargetConfig) { c.URLs, c.Secrets = []string{"ftp://a.example.com/"}, secret('a') }, "http:// or https://"},
		{"private literal", func(c *webhook.TargetConfig) { c.URLs, c.Secrets = []string{"http://[fd00::1]/"}, secret('a') }, "private"},
		{"bad json", func(c *webhook.TargetConfig) { c.Targets = `[{"name":"x","urll":"https://a.example.com"}]` }, "WEBHOOK_TARGETS: want a JSON array"},
		{"missing file", func(c *webhook.TargetConfig) { c.Targets = "/nonexistent/targets.json" }, "WEBHOOK_TARGETS: want a JSON array or the path"},
		{"bad name", func(c *webhook.TargetConfig) {
			c.Targets = `[{"name":"Billing Team","url":"https://a.example.com","secrets":["` + secret('a') + `"]}]`
		}, "name: want"},
		{"no secret", func(c *webhook.TargetConfig) { c.Targets = `[{"name":"x","url":"https://a.example.com"}]` }, "at least one whsec_"},
		{"unknown event", func(c *webhook.TargetConfig) {
			c.Targets = `[{"name":"x","url":"https://a.example.com","secrets":["` + secret('a') + `"],"events":["viewer.joind"]}]`
		}, `"viewer.joind" matches no event type`},
		{"duplicate names", func(c *webhook.TargetConfig) { c.Targets = strings.TrimSuffix(named, "]") + "," + named[1:] }, "two targets are named"},
	} {
		cfg := base
		c.cfg(&cfg)
		targets, err := webhook.ParseTargets(cfg)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: %v, want error containing %q", c.name, err, c.err)
			continue
		}
		if strings.Contains(fmtErr(err), "hunter2") || strings.Contains(fmtErr(err), "token=x") {
			t.Errorf("%s: the error shows a secret: %v", c.name, err)
		}
		if c.name == "named" {
			tg := targets[0]
			if tg.Name != "billing" || tg.Timeout != 3*time.Second || tg.MaxConns != 2 || len(tg.Secrets) != 2 ||
				tg.Redacted() != "https://billing.example.com/hooks" || !tg.Wants("broadcast.ended") || tg.Wants("viewer.joined") || !tg.Wants("viewer.left") {
				t.Errorf("named target: %+v", tg)
			}
		}
		if c.name == "urls" && (len(targets) != 2 || targets[0].Name == targets[1].Name || !strings.HasPrefix(targets[0].Name, "a-example-com-") || !targets[0].Wants("stage.deleted")) {
			t.Errorf("url targets: %+v", targets)
		}
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestBackoff(t *testing.T) {
	b := webhook.Backoff{Min: time.Second, Max: time.Minute}
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 7: time.Minute, 60: time.Minute} {
		seen := map[time.Duration]bool{}
		for range 50 {
			d := b.Delay(n)
			if d < want/2 || d > want {
				t.Fatalf("delay after %d failures: %v, want within [%v, %v]", n, d, want/2, want)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("delay after %d failures: %d distinct values in 50, want jitter", n, len(seen))
		}
	}
}
