package api

import (
	"context"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

// This file is compiled only into the tests, so the server binary, which
// imports this package for JSON and DocsHandler, links neither kin-openapi
// nor its JSON-schema library (deps_test.go checks that).

// Load parses the document with kin-openapi, resolves its references and
// validates it, so a malformed document fails here rather than in a client.
func Load() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(YAML())
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate openapi.yaml: %w", err)
	}
	return doc, nil
}
