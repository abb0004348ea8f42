package app

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

// update rewrites the generated parts of the docs: go test ./internal/app -run TestDocs -update
var update = flag.Bool("update", false, "rewrite the generated configuration docs")

// envExample renders .env.example from Config.
func envExample() string {
	var b strings.Builder
	b.WriteString(`# ivslive configuration. Every variable is optional: with none set,
# ` + "`go run ./cmd/ivslive`" + ` starts in embedded mode (IVS emulator, in-memory
# presence, SQLite history) on :3000.
#
# Copy to .env to use it: values in the real environment win over .env.
# Durations take a bare number in the unit named (seconds, or milliseconds for
# *_MS) or a Go duration such as 90s, 5m or 4h.
# Generated from internal/app/config.go: go test ./internal/app -run TestDocs -update
`)
	var c Config
	group := ""
	for _, f := range c.fields() {
		if f.Group != group {
			group = f.Group
			fmt.Fprintf(&b, "\n# ---- %s ----\n", group)
		}
		fmt.Fprintf(&b, "# %s\n%s=%s\n", f.Help, f.Env, f.Default)
	}
	return b.String()
}

// tableLang is one language of the READMEs' configuration table.
type tableLang struct {
	readme string
	header string
	group  func(string) string
	help   func(f field) string
}

var tableLangs = []tableLang{
	{"../../README.md", "| Variable | Default | Meaning |",
		func(g string) string { return g }, func(f field) string { return f.Help }},
	{"../../README.zh-TW.md", "| 變數 | 預設值 | 說明 |",
		func(g string) string { return groupZH()[g] }, func(f field) string { return helpZH()[f.Env] }},
}

// configTable renders a README's configuration table from Config.
func configTable(l tableLang) string {
	var b strings.Builder
	var c Config
	group := ""
	for _, f := range c.fields() {
		if f.Group != group {
			group = f.Group
			fmt.Fprintf(&b, "\n**%s**\n\n%s\n|---|---|---|\n", l.group(group), l.header)
		}
		def := "–"
		if f.Default != "" {
			def = "`" + f.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", f.Env, def, strings.ReplaceAll(l.help(f), "|", `\|`))
	}
	return b.String()
}

const (
	tableBegin = "<!-- config:begin (generated from internal/app/config.go by go test ./internal/app -run TestDocs -update) -->\n"
	tableEnd   = "<!-- config:end -->"
)

func replaceBetween(doc []byte, begin, end, body string) ([]byte, error) {
	i := bytes.Index(doc, []byte(begin))
	j := bytes.Index(doc, []byte(end))
	if i < 0 || j < i {
		return nil, fmt.Errorf("markers %q … %q not found", begin, end)
	}
	var out bytes.Buffer
	out.Write(doc[:i+len(begin)])
	out.WriteString(body)
	out.WriteString("\n")
	out.Write(doc[j:])
	return out.Bytes(), nil
}

// TestDocs keeps .env.example and the READMEs' configuration tables equal to
// what Config declares: every variable, its default and its meaning.
func TestDocs(t *testing.T) {
	check := func(path string, want []byte) {
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(got, want) {
			return
		}
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("%s is out of date with internal/app/config.go; run: go test ./internal/app -run TestDocs -update", path)
	}
	check("../../.env.example", []byte(envExample()))
	for _, l := range tableLangs {
		readme := l.readme
		doc, err := os.ReadFile(readme)
		if err != nil {
			t.Fatal(err)
		}
		want, err := replaceBetween(doc, tableBegin, tableEnd, configTable(l))
		if err != nil {
			t.Fatalf("%s: %v", readme, err)
		}
		check(readme, want)
		var c Config
		for _, f := range c.fields() {
			if !bytes.Contains(want, []byte("`"+f.Env+"`")) {
				t.Errorf("%s does not document %s", readme, f.Env)
			}
		}
	}
}
