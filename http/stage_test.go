package http_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/live"
)

func esc(arn string) string { return url.PathEscape(arn) }

func TestStageLifecycle(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	var created struct {
		Stage struct {
			ARN       string            `json:"arn"`
			Name      string            `json:"name"`
			Tags      map[string]string `json:"tags"`
			Endpoints struct {
				WHIP string `json:"whip"`
			} `json:"endpoints"`
		} `json:"stage"`
	}
	env.Must(t, http.StatusCreated, "POST", "/api/stage", map[string]any{"name": "room-1", "tags": map[string]string{"team": "a"}}).Decode(t, &created)
	arn := created.Stage.ARN
	if created.Stage.Name != "room-1" || created.Stage.Tags["team"] != "a" || created.Stage.Tags["ManagedBy"] != "ivslive" || created.Stage.Endpoints.WHIP == "" {
		t.Fatalf("created = %+v", created.Stage)
	}

	var list struct {
		Stages []struct {
			StageARN string `json:"stageArn"`
			IsMaster bool   `json:"isMaster"`
		} `json:"stages"`
		TotalStages int `json:"totalStages"`
	}
	env.Must(t, 200, "GET", "/api/stage/list", nil).Decode(t, &list)
	if list.TotalStages != 2 || len(list.Stages) != 2 || !list.Stages[0].IsMaster || list.Stages[1].StageARN != arn {
		t.Fatalf("list = %+v", list)
	}

	var got struct {
		Stage struct {
			Name string `json:"name"`
		} `json:"stage"`
		ViewerCount int `json:"viewerCount"`
	}
	env.Must(t, 200, "GET", "/api/stage/"+esc(arn), nil).Decode(t, &got)
	if got.Stage.Name != "room-1" {
		t.Fatalf("get = %+v", got)
	}
	env.Must(t, 200, "PUT", "/api/stage/"+esc(arn), map[string]string{"name": "room-2"})
	env.Must(t, 200, "GET", "/api/stage/"+esc(arn), nil).Decode(t, &got)
	if got.Stage.Name != "room-2" {
		t.Fatalf("after update name = %q", got.Stage.Name)
	}

	del := env.Must(t, 200, "DELETE", "/api/stage/"+esc(arn), nil)
	if del.Message != "Stage 已刪除" {
		t.Errorf("delete message %q", del.Message)
	}
	r := env.Must(t, 404, "GET", "/api/stage/"+esc(arn), nil)
	if r.Error.Code != "NOT_FOUND" {
		t.Errorf("after delete: %s", r.Raw)
	}
	env.Must(t, 404, "DELETE", "/api/stage/"+esc(arn), nil)
	env.Must(t, 200, "GET", "/api/stage/list", nil).Decode(t, &list)
	if list.TotalStages != 1 {
		t.Fatalf("after delete, %d stages listed", list.TotalStages)
	}
}

func TestMasterStageCannotBeDeleted(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	var info struct {
		Stage struct {
			ARN string `json:"arn"`
		} `json:"stage"`
		IsMasterStage bool `json:"isMasterStage"`
	}
	env.Must(t, 200, "GET", "/api/stage/master/info", nil).Decode(t, &info)
	if !info.IsMasterStage || info.Stage.ARN != env.Live.MasterARN() {
		t.Fatalf("master info = %+v", info)
	}
	r := env.Must(t, 403, "DELETE", "/api/stage/"+esc(info.Stage.ARN), nil)
	if r.Error.Code != "FORBIDDEN" || r.Error.Message != "無法刪除主 Stage" {
		t.Fatalf("delete master: %s", r.Raw)
	}
}

func TestStageListPaginates(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	for _, n := range []string{"a", "b", "c", "d"} {
		env.Must(t, 201, "POST", "/api/stage", map[string]string{"name": n})
	}
	seen := map[string]bool{}
	next := ""
	for pages := 0; ; pages++ {
		path := "/api/stage/list?limit=2"
		if next != "" {
			path += "&nextToken=" + url.QueryEscape(next)
		}
		var page struct {
			Stages []struct {
				StageARN string `json:"stageArn"`
			} `json:"stages"`
			NextToken string `json:"nextToken"`
		}
		env.Must(t, 200, "GET", path, nil).Decode(t, &page)
		for _, s := range page.Stages {
			if seen[s.StageARN] {
				t.Fatalf("%s listed twice", s.StageARN)
			}
			seen[s.StageARN] = true
		}
		if page.NextToken == "" {
			break
		}
		next = page.NextToken
		if pages > 4 {
			t.Fatal("pagination does not end")
		}
	}
	if len(seen) != 5 {
		t.Fatalf("listed %d stages over all pages, want 5", len(seen))
	}
}

func TestStageLimit(t *testing.T) {
	env := apitest.New(t, apitest.Options{Live: func(c *live.Config) { c.MaxStages = 2 }})
	env.Must(t, 201, "POST", "/api/stage", map[string]string{"name": "one"})
	r := env.Must(t, 503, "POST", "/api/stage", map[string]string{"name": "two"})
	if r.Error.Code != "STAGE_LIMIT_REACHED" {
		t.Fatalf("over the limit: %s", r.Raw)
	}
}

func TestStageDeleteRefusesViewersUnlessForced(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	var created struct {
		Stage struct {
			ARN string `json:"arn"`
		} `json:"stage"`
	}
	env.Must(t, 201, "POST", "/api/stage", map[string]string{"name": "busy"}).Decode(t, &created)
	arn := created.Stage.ARN
	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"})
	env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "v1", "stageArn": arn})
	r := env.Must(t, 400, "DELETE", "/api/stage/"+esc(arn), nil)
	if r.Error.Code != "VALIDATION_ERROR" || r.Error.Message != "Stage 中仍有觀眾，無法刪除" {
		t.Fatalf("delete with a viewer: %s", r.Raw)
	}
	env.Must(t, 200, "DELETE", "/api/stage/"+esc(arn)+"?force=true", nil)
	rec := env.Sink.Sessions()
	if len(rec) != 1 || rec[0].Reason != "stage_deleted" || rec[0].UserID != "v1" {
		t.Fatalf("recorded %+v, want v1's session closed as stage_deleted", rec)
	}
}

// apitestCapacity sets every stage's capacity and threshold to n.
func apitestCapacity(n int) func(c *live.Config) {
	return func(c *live.Config) { c.Capacity, c.Threshold = n, n }
}

// MAX_STAGES holds under concurrent creates: the store's atomic create
// refuses the ones past the limit, and their stages are deleted from IVS
// again rather than left as orphans.
func TestConcurrentCreatesRespectMaxStages(t *testing.T) {
	env := apitest.New(t, apitest.Options{Live: func(c *live.Config) { c.MaxStages = 3 }})
	const tries = 10
	statuses := make(chan int, tries)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < tries; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses <- env.Do(t, "POST", "/api/stage", map[string]string{"name": fmt.Sprintf("race-%d", i)}).Status
		}()
	}
	close(start)
	wg.Wait()
	close(statuses)
	created := 0
	for s := range statuses {
		switch s {
		case 201:
			created++
		case 503:
		default:
			t.Fatalf("status %d", s)
		}
	}
	if created != 2 {
		t.Fatalf("%d of %d concurrent creates succeeded with MAX_STAGES=3 and the master stage, want 2", created, tries)
	}
	var list struct {
		TotalStages int `json:"totalStages"`
	}
	env.Must(t, 200, "GET", "/api/stage/list", nil).Decode(t, &list)
	stages, _, err := env.IVS.ListStages(context.Background(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if list.TotalStages != 3 || len(stages) != 3 {
		t.Fatalf("%d managed stages and %d in IVS, want 3 each (no orphans)", list.TotalStages, len(stages))
	}
}
