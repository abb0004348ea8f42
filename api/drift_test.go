package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/ivslive/ivslive/api"
	"github.com/ivslive/ivslive/internal/apitest"
)

// TestContractCatchesDrift shows that the contract check has teeth: a real
// viewer-token answer matches the document, and fails against a copy of it
// in which one field of the answer was renamed, as it would if a handler
// renamed the field and the document did not follow.
func TestContractCatchesDrift(t *testing.T) {
	doc, err := api.Load()
	if err != nil {
		t.Fatal(err)
	}
	env := apitest.New(t, apitest.Options{})
	c := newChecker(t, env, doc)
	c.do(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host-1"})
	a := c.do(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "drift"})

	drifted, err := api.Load() // a fresh copy: the schema objects are its own
	if err != nil {
		t.Fatal(err)
	}
	s := drifted.Components.Schemas["ViewerToken"].Value
	if s.Properties["currentViewers"] == nil || !slices.Contains(s.Required, "currentViewers") {
		t.Fatal("the document's ViewerToken has no required currentViewers: update this test")
	}
	s.Properties["currentViewerCount"] = s.Properties["currentViewers"]
	delete(s.Properties, "currentViewers")
	s.Required[slices.Index(s.Required, "currentViewers")] = "currentViewerCount"

	router, err := gorillamux.NewRouter(drifted)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", env.URL+"/api/token/viewer", nil)
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatal(err)
	}
	input := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: options()}
	err = validateAnswer(input, a)
	if err == nil {
		t.Fatalf("an answer with currentViewers passed a document that calls it currentViewerCount: %s", a.Raw)
	}
	if !strings.Contains(err.Error(), "currentViewerCount") || !strings.Contains(err.Error(), "currentViewers") {
		t.Errorf("the failure should name both fields:\n%v", err)
	}
	t.Logf("drift caught:\n%v", err)
}
