package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func lookupFrom(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestConfigDefaults(t *testing.T) {
	c, err := LoadConfig(lookupFrom(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	// IVS's quotas, not the Node server's example values (issue 12).
	if c.Port != 3000 || c.MaxViewersPerStage != 10000 || c.ScaleUpThreshold != 9000 || c.ScaleDownThreshold != 5 ||
		c.MaxSubscriptions != 20000 || c.PublisherGrace != 2*time.Minute ||
		c.PublisherTokenTTL != 4*time.Hour || c.ViewerTokenTTL != time.Hour || c.DataDir != "./data" || c.RedisKeyPrefix != "ivs:prod:" {
		t.Fatalf("defaults = %+v", c)
	}
	if c.Modes() != "ivs=emulator presence=memory history=sqlite tokens=key-pair" {
		t.Fatalf("modes = %s", c.Modes())
	}
}

func TestDotenvAndEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	os.WriteFile(path, []byte(`# the seed's .env.example style
export API_PORT=4000
PUBLISHER_TOKEN_DURATION=7200  # 2 小時 (秒)
VIEWER_TOKEN_DURATION=30m
CORS_ORIGINS="http://a.example, http://b.example"
API_SECRET_KEY='k # not a comment'
RATE_IGNORED=1
MASTER_STAGE_ARN=arn:aws:ivs:us-east-1:123456789012:stage/abcdEFGH1234
`), 0o600)
	dotenv, err := ReadDotenv(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(lookupFrom(map[string]string{"API_PORT": "5000"}), dotenv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 5000 {
		t.Errorf("API_PORT = %d: the real environment must win over .env", c.Port)
	}
	if c.PublisherTokenTTL != 2*time.Hour || c.ViewerTokenTTL != 30*time.Minute {
		t.Errorf("durations %v %v", c.PublisherTokenTTL, c.ViewerTokenTTL)
	}
	if strings.Join(c.CORSOrigins, "|") != "http://a.example|http://b.example" {
		t.Errorf("CORS_ORIGINS = %q", c.CORSOrigins)
	}
	if c.APISecretKey != "k # not a comment" {
		t.Errorf("quoted value = %q", c.APISecretKey)
	}
	if c.Backend() != "aws" || c.TokenMode() != "api" {
		t.Errorf("with MASTER_STAGE_ARN: %s", c.Modes())
	}
}

func TestInvalidConfigNamesTheVariable(t *testing.T) {
	cases := map[string]string{
		"API_PORT":                     "http",
		"SKIP_AUTH":                    "sure",
		"VIEWER_TOKEN_DURATION":        "15d",
		"PUBLISHER_TOKEN_DURATION":     "20",
		"LOG_LEVEL":                    "loud",
		"IVS_BACKEND":                  "gcp",
		"MAX_VIEWERS_PER_STAGE":        "0",
		"SCALE_DOWN_THRESHOLD":         "9000",
		"MAX_CONCURRENT_SUBSCRIPTIONS": "0",
		"PUBLISHER_GRACE_PERIOD":       "2h",
		"MASTER_STAGE_ARN":             "arn:aws:ivs:us-east-1:1:channel/x",
		"REDIS_URL":                    "localhost",
		"METRICS_INTERVAL":             "7200",
		"STAGE_NAME_PREFIX":            "has space",
		"WEBHOOK_URLS":                 "https://hooks.example.com/x", // no WEBHOOK_SECRET
		"WEBHOOK_SECRET":               "whsec_c2hvcnQ=",              // without URLs
		"WEBHOOK_TARGETS":              `[{"name":"x"}]`,
		"WEBHOOK_MAX_AGE":              "10",
		"WEBHOOK_TIMEOUT":              "0",
		"WEBHOOK_MAX_CONNECTIONS":      "0",
	}
	for name, value := range cases {
		_, err := LoadConfig(lookupFrom(map[string]string{name: value}), nil)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: error %v should name the variable", name, value, err)
		}
	}
	// The media address is the ICE candidate: it must be an IP clients reach.
	for _, value := range []string{"0.0.0.0:5000", "localhost:5000", "127.0.0.1", "127.0.0.1:99999", "[::]:0"} {
		_, err := LoadConfig(lookupFrom(map[string]string{"EMULATOR_MEDIA_ADDR": value}), nil)
		if err == nil || !strings.Contains(err.Error(), "EMULATOR_MEDIA_ADDR") {
			t.Errorf("EMULATOR_MEDIA_ADDR=%s: error %v should name the variable", value, err)
		}
	}
	for _, value := range []string{"192.168.1.20:50000", "[::1]:0"} {
		if _, err := LoadConfig(lookupFrom(map[string]string{"EMULATOR_MEDIA_ADDR": value}), nil); err != nil {
			t.Errorf("EMULATOR_MEDIA_ADDR=%s: %v", value, err)
		}
	}
}

// A webhook target on a loopback or private address is refused when the
// configuration loads, unless WEBHOOK_ALLOW_PRIVATE=true.
func TestWebhookTargetOnLoopbackRefused(t *testing.T) {
	env := map[string]string{"WEBHOOK_URLS": "http://127.0.0.1:9000/hooks", "WEBHOOK_SECRET": "whsec_" + strings.Repeat("QUFB", 8)}
	_, err := LoadConfig(lookupFrom(env), nil)
	if err == nil || !strings.Contains(err.Error(), "WEBHOOK_URLS") || !strings.Contains(err.Error(), "WEBHOOK_ALLOW_PRIVATE") {
		t.Fatalf("a target on 127.0.0.1: %v, want refused naming WEBHOOK_URLS and WEBHOOK_ALLOW_PRIVATE", err)
	}
	env["WEBHOOK_ALLOW_PRIVATE"] = "true"
	c, err := LoadConfig(lookupFrom(env), nil)
	if err != nil {
		t.Fatal(err)
	}
	if targets, err := c.Webhooks(); err != nil || len(targets) != 1 || targets[0].Timeout != 10*time.Second || targets[0].MaxConns != 16 {
		t.Fatalf("targets %+v, %v", targets, err)
	}
}

// A short admin key is refused in production and only warned about in
// development, as API_KEYS' short secrets are refused.
func TestShortAdminKeyRefusedInProduction(t *testing.T) {
	_, err := LoadConfig(lookupFrom(map[string]string{"NODE_ENV": "production", "API_SECRET_KEY": "Summer2024!"}), nil)
	if err == nil || !strings.Contains(err.Error(), "API_SECRET_KEY") {
		t.Fatalf("production with an 11-character admin key: %v, want an error naming API_SECRET_KEY", err)
	}
	for _, env := range []map[string]string{
		{"NODE_ENV": "production", "API_SECRET_KEY": "a-long-enough-admin-key"},
		{"NODE_ENV": "development", "API_SECRET_KEY": "Summer2024!"},
	} {
		if _, err := LoadConfig(lookupFrom(env), nil); err != nil {
			t.Errorf("%v: %v", env, err)
		}
	}
}

func TestRedactedHidesSecrets(t *testing.T) {
	c, err := LoadConfig(lookupFrom(map[string]string{
		"API_SECRET_KEY": "supersecret", "DATABASE_URL": "postgres://u:pw123@db:5432/x", "REDIS_PASSWORD": "rpw",
		"WEBHOOK_URLS": "https://hooks.example.com/x", "WEBHOOK_SECRET": "whsec_" + strings.Repeat("c2VjcmV0", 4),
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := strings.Join(c.Redacted(), "\n")
	for _, secret := range []string{"supersecret", "pw123", "rpw", "c2VjcmV0"} {
		if strings.Contains(out, secret) {
			t.Errorf("redacted config shows %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "DATABASE_URL=postgres://u:redacted@db:5432/x") {
		t.Errorf("database URL not shown redacted:\n%s", out)
	}
	if got := c.PostgresAddress(); got != "postgres://u:pw123@db:5432/x" {
		t.Errorf("postgres address %q", got)
	}
}

// FuzzDotenv: any .env content parses or fails with a line number; values
// never keep an unquoted inline comment.
func FuzzDotenv(f *testing.F) {
	f.Add("A=1\nB=2 # comment\nexport C='x # y'\n")
	f.Add("=\n")
	f.Add("A=\"unterminated\n")
	f.Fuzz(func(t *testing.T, content string) {
		path := filepath.Join(t.TempDir(), ".env")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		vals, err := ReadDotenv(path)
		if err != nil {
			if !strings.Contains(err.Error(), path+":") {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		for k := range vals {
			if k == "" || strings.ContainsAny(k, "=\n") {
				t.Fatalf("bad key %q from %q", k, content)
			}
		}
	})
}

// Every credential form pgx and go-redis accept is hidden from the startup
// log and `config check`, and the rest stays readable.
func TestRedactDSN(t *testing.T) {
	cases := []struct{ in, want string }{
		{"postgres://u:pw123@db:5432/x", "postgres://u:redacted@db:5432/x"},
		{"postgres://u@db/x?sslmode=disable&password=pw123", "postgres://u@db/x?password=redacted&sslmode=disable"},
		{"postgresql://db/x?pass%77ord=pw123&sslpassword=pw456", "postgresql://db/x?password=redacted&sslpassword=redacted"},
		{"postgres://u:sec:ret@db/x", "postgres://u:redacted@db/x"},
		{"postgres://u:pw/123@db/x", "<redacted>"},
		{"postgres:u:pw123@db", "<redacted>"},
		{"host=db user=app password=pw123 dbname=x", "host=db user=app password=redacted dbname=x"},
		{"host=db password='pw 123' sslpassword = pw456 user=app", "host=db password=redacted sslpassword=redacted user=app"},
		{`host=db password='pw\' 123'`, "host=db password=redacted"},
		{"host=db password='unterminated pw123", "<redacted>"},
		{"redis://:pw123@cache:6379/0", "redis://:redacted@cache:6379/0"},
		{"rediss://default:pw123@cache:6380/2?dial_timeout=3s", "rediss://default:redacted@cache:6380/2?dial_timeout=3s"},
		{"unix://u:pw123@/run/redis.sock?db=1", "unix://u:redacted@/run/redis.sock?db=1"},
		{"redis://cache:6379/0#pw123", "redis://cache:6379/0"},
	}
	for _, c := range cases {
		got := redactDSN(c.in)
		if got != c.want {
			t.Errorf("redactDSN(%q) = %q, want %q", c.in, got, c.want)
		}
		for _, secret := range []string{"pw123", "pw456", "ret", "pw 123"} {
			if strings.Contains(c.in, secret) && strings.Contains(got, secret) {
				t.Errorf("redactDSN(%q) shows %q", c.in, secret)
			}
		}
	}
}
