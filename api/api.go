// Package api holds the OpenAPI 3.1 document of the HTTP API (openapi.yaml),
// the reference page that renders it (docs/), and their accessors. The
// document is the contract: contract_test.go drives every route of the real
// server and checks each request and answer against it, and fails when a
// route is added without being documented.
package api

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"

	"go.yaml.in/yaml/v4"
)

// files holds the document and the reference page; it is the package's only
// state, and read-only.
//
//go:embed openapi.yaml docs
var files embed.FS

// YAML returns the document as written, in YAML.
func YAML() []byte {
	b, err := fs.ReadFile(files, "openapi.yaml")
	if err != nil {
		panic("api: openapi.yaml is not embedded: " + err.Error()) // cannot happen: go:embed checked it
	}
	return b
}

// JSON returns the document converted to JSON, for GET /api/openapi.json.
// Keys keep the order they have in the YAML, so renderers list tags, paths
// and fields as written rather than alphabetically. Callers serving it should
// compute it once.
func JSON() ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(YAML(), &root); err != nil {
		return nil, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	var buf bytes.Buffer
	if err := writeJSON(&buf, &root); err != nil {
		return nil, fmt.Errorf("convert openapi.yaml: %w", err)
	}
	return buf.Bytes(), nil
}

// writeJSON writes a YAML node as JSON, keeping mapping order.
func writeJSON(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return fmt.Errorf("line %d: want one document", n.Line)
		}
		return writeJSON(buf, n.Content[0])
	case yaml.AliasNode:
		return writeJSON(buf, n.Alias)
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				buf.WriteByte(',')
			}
			// Keys are strings in JSON, whatever YAML made of them ('200').
			key, _ := json.Marshal(n.Content[i].Value)
			buf.Write(key)
			buf.WriteByte(':')
			if err := writeJSON(buf, n.Content[i+1]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, c); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		return writeScalar(buf, n)
	default:
		return fmt.Errorf("line %d: unexpected YAML node kind %v", n.Line, n.Kind)
	}
	return nil
}

// writeScalar writes a scalar as JSON. Timestamps stay the strings they are
// written as (YAML would make them times and drop the milliseconds).
func writeScalar(buf *bytes.Buffer, n *yaml.Node) error {
	var v any
	switch tag := n.ShortTag(); tag {
	case "!!null":
		v = nil
	case "!!bool", "!!int", "!!float":
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
	default:
		if strings.HasPrefix(tag, "!!") && tag != "!!str" && tag != "!!timestamp" {
			return fmt.Errorf("line %d: unsupported YAML tag %s", n.Line, tag)
		}
		v = n.Value
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	buf.Write(b)
	return nil
}
