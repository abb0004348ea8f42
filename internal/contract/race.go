package contract

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
)

func presenceConcurrency(t *testing.T, open func(t *testing.T) Presence) {
	ctx := context.Background()

	t.Run("500 concurrent joins never overfill", func(t *testing.T) {
		p := open(t)
		putStages(t, p.Store, stageA, stageB, stageC)
		var wg sync.WaitGroup
		var mu sync.Mutex
		seated, full := 0, 0
		for i := 0; i < 500; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := p.Store.Join(ctx, ivslive.JoinRequest{UserID: fmt.Sprint("u", i), SessionID: fmt.Sprint("s", i), Now: t0, Threshold: 45, Capacity: 50})
				mu.Lock()
				defer mu.Unlock()
				switch ivslive.ErrorCode(err) {
				case "":
					seated++
				case ivslive.ESTAGEFULL:
					full++
				default:
					t.Errorf("join %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if seated != 150 || full != 350 {
			t.Fatalf("seated %d, full %d; want 150 and 350", seated, full)
		}
		for arn, n := range loads(t, p.Store) {
			if n != 50 {
				t.Errorf("%s has %d viewers, want 50", arn, n)
			}
		}
	})

	t.Run("heartbeats racing leaves", func(t *testing.T) {
		p := open(t)
		putStages(t, p.Store, stageA)
		const users = 200
		for i := 0; i < users; i++ {
			join(t, p.Store, fmt.Sprint("u", i), stageA, t0)
		}
		var wg sync.WaitGroup
		for i := 0; i < users; i++ {
			user := fmt.Sprint("u", i)
			wg.Add(2)
			go func() {
				defer wg.Done()
				for k := 1; k <= 20; k++ {
					err := p.Store.Heartbeat(ctx, ivslive.HeartbeatRequest{StageARN: stageA, UserID: user, Now: t0.Add(time.Duration(k) * time.Second)})
					if err != nil && ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
						t.Errorf("heartbeat: %v", err)
					}
				}
			}()
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond) // jitter, so leaves land among the heartbeats
				if _, err := p.Store.Leave(ctx, ivslive.LeaveRequest{StageARN: stageA, UserID: user, Now: t0.Add(30 * time.Second)}); err != nil {
					t.Errorf("leave %s: %v", user, err)
				}
			}()
		}
		wg.Wait()
		for i := 0; i < users; i++ {
			err := p.Store.Heartbeat(ctx, ivslive.HeartbeatRequest{StageARN: stageA, UserID: fmt.Sprint("u", i), Now: t0.Add(time.Minute)})
			if ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
				t.Fatalf("heartbeat after leave: %v", err)
			}
		}
		if n := loads(t, p.Store)[stageA]; n != 0 {
			t.Fatalf("count after every leave = %d", n)
		}
		if vs, _ := p.Store.Viewers(ctx, stageA); len(vs) != 0 {
			t.Fatalf("%d viewers listed after every leave", len(vs))
		}
		if rec := p.Recorded(t); len(rec) != users {
			t.Fatalf("recorded %d sessions, want %d", len(rec), users)
		}
	})

	t.Run("random interleavings match a model at every step", func(t *testing.T) {
		p := open(t)
		putStages(t, p.Store, stageA, stageB)
		rng := rand.New(rand.NewPCG(1, 2))
		live := map[string]string{} // user -> stage
		lastSeen := map[string]time.Time{}
		now := t0
		closedCount := 0
		for step := 0; step < 2000; step++ {
			now = now.Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
			user := fmt.Sprint("u", rng.IntN(15))
			switch op := rng.IntN(10); {
			case op < 3:
				res, err := p.Store.Join(ctx, ivslive.JoinRequest{UserID: user, SessionID: fmt.Sprint("s", step), Now: now, Threshold: 5, Capacity: 8})
				if err == nil {
					if prev, ok := live[user]; ok && (prev != res.Session.StageARN || res.New) {
						t.Fatalf("step %d: %s moved from %s to %s (new=%v)", step, user, prev, res.Session.StageARN, res.New)
					}
					live[user], lastSeen[user] = res.Session.StageARN, now
				} else if ivslive.ErrorCode(err) != ivslive.ESTAGEFULL {
					t.Fatalf("step %d join: %v", step, err)
				}
			case op < 7:
				err := p.Store.Heartbeat(ctx, ivslive.HeartbeatRequest{StageARN: stageA, UserID: user, Now: now})
				if _, ok := live[user]; ok && live[user] == stageA {
					if err != nil {
						t.Fatalf("step %d heartbeat of live viewer: %v", step, err)
					}
					lastSeen[user] = now
				} else if ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
					t.Fatalf("step %d heartbeat of absent viewer: %v", step, err)
				}
			case op < 9:
				stage := live[user]
				if stage == "" {
					stage = stageB
				}
				_, err := p.Store.Leave(ctx, ivslive.LeaveRequest{StageARN: stage, UserID: user, Now: now})
				if _, ok := live[user]; ok {
					if err != nil {
						t.Fatalf("step %d leave: %v", step, err)
					}
					delete(live, user)
					closedCount++
				} else if ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
					t.Fatalf("step %d leave of absent viewer: %v", step, err)
				}
			default:
				cutoff := now.Add(-10 * time.Second)
				closed, err := p.Store.Expire(ctx, cutoff, 1000)
				if err != nil {
					t.Fatal(err)
				}
				for u, ls := range lastSeen {
					if _, ok := live[u]; ok && ls.Before(cutoff) {
						delete(live, u)
						closedCount++
					}
				}
				_ = closed
			}
			want := map[string]int{stageA: 0, stageB: 0}
			for _, s := range live {
				want[s]++
			}
			got := loads(t, p.Store)
			for _, s := range []string{stageA, stageB} {
				vs, _ := p.Store.Viewers(ctx, s)
				if got[s] != want[s] || len(vs) != want[s] {
					t.Fatalf("step %d: %s count %d, listed %d, model %d", step, s, got[s], len(vs), want[s])
				}
			}
		}
		if rec := p.Recorded(t); len(rec) != closedCount {
			t.Fatalf("recorded %d sessions, model closed %d", len(rec), closedCount)
		}
	})
}
