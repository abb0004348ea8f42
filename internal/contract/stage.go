// Package contract holds the test suites that twin backends share: memory and
// redis run the same presence suite, sqlite and postgres the same history
// suite. A behaviour one twin lacks is a bug, not a note.
package contract

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ivslive/ivslive"
)

// StageStore runs the stage-store contract against stores made by open. Each
// call of open must return an empty store.
func StageStore(t *testing.T, open func(t *testing.T) ivslive.StageStore) {
	ctx := context.Background()
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	arn := func(i int) string { return fmt.Sprintf("arn:aws:ivs:us-east-1:123456789012:stage/stage%04d", i) }

	t.Run("save and find", func(t *testing.T) {
		s := open(t)
		want := ivslive.Stage{
			ARN: arn(1), Name: "main", Master: true, State: ivslive.StageActive,
			Tags:      map[string]string{"ManagedBy": "ivslive"},
			Endpoints: ivslive.StageEndpoints{Events: "wss://e", WHIP: "https://w", RTMP: "rtmp://r/app/", RTMPS: "rtmps://r:443/app/"},
			CreatedAt: base, UpdatedAt: base.Add(time.Second),
		}
		if err := s.SaveStage(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := s.FindStageByARN(ctx, want.ARN)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("found stage (-want +got):\n%s", diff)
		}
		// Saving again replaces the row, including nested replication state.
		want.State, want.DrainingSince, want.AutoScaled = ivslive.StageDraining, base.Add(time.Minute), true
		want.Replication = &ivslive.Replication{SourceStageARN: arn(9), DestinationStageARN: want.ARN, ParticipantID: "p1", StartedAt: base.Add(2 * time.Second)}
		if err := s.SaveStage(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, _ = s.FindStageByARN(ctx, want.ARN)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("updated stage (-want +got):\n%s", diff)
		}
	})

	t.Run("not found", func(t *testing.T) {
		s := open(t)
		if _, err := s.FindStageByARN(ctx, arn(404)); ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
			t.Fatalf("err = %v, want NOT_FOUND", err)
		}
		if _, err := s.Setting(ctx, "nope"); ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
			t.Fatalf("setting err = %v, want NOT_FOUND", err)
		}
	})

	t.Run("pagination in creation order", func(t *testing.T) {
		s := open(t)
		for i := 0; i < 5; i++ {
			st := ivslive.Stage{ARN: arn(10 - i), CreatedAt: base.Add(time.Duration(i) * time.Minute), State: ivslive.StageActive}
			if err := s.SaveStage(ctx, st); err != nil {
				t.Fatal(err)
			}
		}
		// Two stages created at the same instant are ordered by ARN.
		s.SaveStage(ctx, ivslive.Stage{ARN: arn(1), CreatedAt: base, State: ivslive.StageActive})
		s.SaveStage(ctx, ivslive.Stage{ARN: arn(99), CreatedAt: base, State: ivslive.StageDeleted})

		var got []string
		cur := ""
		for pages := 0; ; pages++ {
			page, next, total, err := s.FindStages(ctx, ivslive.StageFilter{After: cur, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			if total != 6 {
				t.Fatalf("total = %d, want 6", total)
			}
			for _, st := range page {
				got = append(got, st.ARN)
			}
			if next == "" {
				break
			}
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
			cur = next
		}
		want := []string{arn(1), arn(10), arn(9), arn(8), arn(7), arn(6)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("pages (-want +got):\n%s", diff)
		}
		all, _, total, _ := s.FindStages(ctx, ivslive.StageFilter{IncludeDeleted: true})
		if len(all) != 7 || total != 7 {
			t.Errorf("with deleted: %d stages, total %d; want 7", len(all), total)
		}
		if _, _, _, err := s.FindStages(ctx, ivslive.StageFilter{After: "%%%"}); ivslive.ErrorCode(err) != ivslive.EVALIDATION {
			t.Errorf("bad cursor: %v, want VALIDATION_ERROR", err)
		}
	})

	t.Run("concurrent creates never exceed the limit", func(t *testing.T) {
		s := open(t)
		// A live stage counts, a deleted one does not.
		s.SaveStage(ctx, ivslive.Stage{ARN: arn(1), CreatedAt: base, State: ivslive.StageActive})
		s.SaveStage(ctx, ivslive.Stage{ARN: arn(2), CreatedAt: base, State: ivslive.StageDeleted})
		const limit, tries = 3, 24
		var mu sync.Mutex
		codes := map[string]int{}
		var wg sync.WaitGroup
		start := make(chan struct{}) // all at once, to race for the last slots
		for i := range tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				err := s.CreateStage(ctx, ivslive.Stage{ARN: arn(100 + i), CreatedAt: base, State: ivslive.StageActive}, limit)
				mu.Lock()
				codes[ivslive.ErrorCode(err)]++
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		if codes[""] != limit-1 || codes[ivslive.ESTAGELIMIT] != tries-limit+1 {
			t.Fatalf("results by code %v; want %d created and the rest STAGE_LIMIT_REACHED", codes, limit-1)
		}
		if _, _, total, _ := s.FindStages(ctx, ivslive.StageFilter{}); total != limit {
			t.Fatalf("%d stages recorded, want the limit %d", total, limit)
		}
		if err := s.CreateStage(ctx, ivslive.Stage{ARN: arn(1), CreatedAt: base}, 100); ivslive.ErrorCode(err) != ivslive.ECONFLICT {
			t.Fatalf("creating a recorded ARN: %v, want CONFLICT", err)
		}
	})

	t.Run("settings", func(t *testing.T) {
		s := open(t)
		if err := s.SetSetting(ctx, ivslive.SettingMasterStageARN, arn(1)); err != nil {
			t.Fatal(err)
		}
		if err := s.SetSetting(ctx, ivslive.SettingMasterStageARN, arn(2)); err != nil {
			t.Fatal(err)
		}
		if v, err := s.Setting(ctx, ivslive.SettingMasterStageARN); err != nil || v != arn(2) {
			t.Fatalf("setting = %q, %v", v, err)
		}
		if v, err := s.InitSetting(ctx, ivslive.SettingMasterStageARN, arn(3)); err != nil || v != arn(2) {
			t.Fatalf("init of a set setting = %q, %v; want the existing %q", v, err, arn(2))
		}
		if v, err := s.InitSetting(ctx, ivslive.SettingPublicKeyARN, "k1"); err != nil || v != "k1" {
			t.Fatalf("init of a new setting = %q, %v", v, err)
		}
	})
}
