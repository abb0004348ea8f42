package api_test

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/ivslive/ivslive/api"
	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/live"
)

// TestContract drives every documented operation of the real server and
// checks each request and answer against the document, then checks that the
// document and the server's routes list the same operations.
func TestContract(t *testing.T) {
	doc, err := api.Load()
	if err != nil {
		t.Fatal(err)
	}
	in := newInbox(t)
	env := apitest.New(t, apitest.Options{Webhooks: webhookOptions(t, in)})
	c := newChecker(t, env, doc)
	routes := routePatterns(env.Server)

	exercisePublic(t, c)
	exercisePool(t, c)
	exerciseErrors(t, c)
	exerciseOptional(t, c)
	exerciseWebhooks(t, c, in)

	small := apitest.New(t, apitest.Options{Live: func(cfg *live.Config) { cfg.Capacity, cfg.Threshold, cfg.MaxStages = 1, 1, 1 }})
	limits := newChecker(t, small, doc)
	limits.passed = c.passed
	exerciseNoWebhooks(t, limits)
	exerciseLimits(t, limits)

	checkCoverage(t, doc, routes, c.passed)
}

// routePatterns returns the server's routes as "METHOD /path", leaving out
// the IVS emulator's mount and the 404 catch-all, which are not the API.
func routePatterns(s *ivshttp.Server) []string {
	var out []string
	for _, p := range s.Patterns() {
		if p == "/ivs/" || p == "/" {
			continue
		}
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			method, path = "ANY", p // a route for every method cannot be documented as one operation
		}
		out = append(out, method+" "+strings.TrimSuffix(path, "{$}"))
	}
	return out
}

// checkCoverage fails unless every route is documented, every documented
// operation is routed, and every one answered a validated success.
func checkCoverage(t *testing.T, doc *openapi3.T, routes []string, passed map[string]bool) {
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	var undocumented, unrouted, unexercised []string
	for _, r := range routes {
		if !slices.Contains(documented, r) {
			undocumented = append(undocumented, r)
		}
	}
	for _, op := range documented {
		switch {
		case !slices.Contains(routes, op):
			unrouted = append(unrouted, op)
		case !passed[op]:
			unexercised = append(unexercised, op)
		}
	}
	report := func(what string, ops []string) {
		if len(ops) > 0 {
			sort.Strings(ops)
			t.Errorf("%s:\n\t%s", what, strings.Join(ops, "\n\t"))
		}
	}
	report("routes missing from api/openapi.yaml", undocumented)
	report("documented operations the server does not route", unrouted)
	report("documented operations no test drove to a validated success", unexercised)
}
