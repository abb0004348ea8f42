package main

import (
	"os"
	"regexp"
	"testing"
)

// Every variable of Config is documented where users look for it.
func TestEveryVariableIsDocumented(t *testing.T) {
	var c Config
	for _, file := range []string{"../../.env.example"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range c.fields() {
			if !regexp.MustCompile(`(?m)\b` + f.Env + `\b`).Match(b) {
				t.Errorf("%s does not mention %s", file, f.Env)
			}
		}
	}
}
