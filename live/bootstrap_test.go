package live_test

import (
	"github.com/aws/aws-sdk-go-v2/credentials"

	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/ivs"
	"github.com/ivslive/ivslive/ivs/emulator"
	"github.com/ivslive/ivslive/live"
	"github.com/ivslive/ivslive/memory"
	"github.com/ivslive/ivslive/sqlite"
	"github.com/ivslive/ivslive/token"
)

// anIVS is an emulator behind a counter of the calls that reach it.
type anIVS struct {
	client *ivs.Client
	em     *emulator.Emulator
	id     string
	mu     sync.Mutex
	calls  map[string]int
}

func newIVS(t *testing.T) *anIVS {
	t.Helper()
	em, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v := &anIVS{em: em, calls: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v.mu.Lock()
		v.calls[strings.TrimPrefix(r.URL.Path, "/")]++
		v.mu.Unlock()
		em.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	v.client, err = ivs.New(context.Background(), ivs.Options{Endpoint: srv.URL, Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
		Quotas: map[string]float64{"GetStage": 1000, "CreateStage": 1000, "DeleteStage": 1000}})
	if err != nil {
		t.Fatal(err)
	}
	if v.id, err = v.client.Identity(context.Background()); err != nil {
		t.Fatal(err)
	}
	return v
}

func (v *anIVS) count(op string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.calls[op]
}

// shared is what instances share: the stage store and the presence store
// (PostgreSQL and Redis in production).
type shared struct {
	store    *sqlite.DB
	presence *memory.Presence
	leases   *memory.Leases
}

func newShared(t *testing.T) *shared {
	t.Helper()
	db, err := sqlite.Open(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &shared{store: db, presence: memory.NewPresence(db, nil, nil), leases: memory.NewLeases(nil)}
}

// instance is one ivslive on the shared stores and an IVS, not bootstrapped.
func (sh *shared) instance(t *testing.T, v *anIVS, owner string, cfg func(*live.Config)) *live.Service {
	t.Helper()
	key, err := token.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := token.NewSigner(key, "arn:aws:ivs:us-east-1:123456789012:public-key/test", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := live.Config{StageNamePrefix: "test-", Environment: "test", MaxStages: 20, Capacity: 50, Threshold: 45,
		PublisherTokenTTL: time.Hour, ViewerTokenTTL: time.Hour, MediaServerTokenTTL: time.Hour, MaxReplicas: 5,
		IVSIdentity: v.id}
	if cfg != nil {
		cfg(&c)
	}
	svc := live.New(c, v.client, signer, sh.store, sh.presence, slog.New(slog.DiscardHandler))
	svc.History = sh.store
	svc.Leader = &live.Leader{Leases: sh.leases, Name: "jobs", Owner: owner, TTL: time.Minute, Log: slog.New(slog.DiscardHandler)}
	return svc
}

// state is what a failed start must leave as it was.
type state struct {
	Settings map[string]string
	Stages   []ivslive.Stage
	Viewers  map[string]int
}

func (sh *shared) state(t *testing.T, svc *live.Service) state {
	t.Helper()
	ctx := context.Background()
	st := state{Settings: map[string]string{}, Viewers: map[string]int{}}
	for _, k := range []string{ivslive.SettingMasterStageARN, ivslive.SettingIVSIdentity, ivslive.SettingPublicKeyARN} {
		if v, err := sh.store.Setting(ctx, k); err == nil {
			st.Settings[k] = v
		}
	}
	stages, _, _, err := sh.store.FindStages(ctx, ivslive.StageFilter{IncludeDeleted: true})
	if err != nil {
		t.Fatal(err)
	}
	st.Stages = stages
	views, _, _, err := svc.ListStages(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range views {
		st.Viewers[v.ARN] = v.Viewers
	}
	return st
}

// running is a first instance with a publisher and two viewers.
func running(t *testing.T, sh *shared, v *anIVS, cfg func(*live.Config)) *live.Service {
	t.Helper()
	ctx := context.Background()
	a := sh.instance(t, v, "a", cfg)
	if err := a.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.PublisherToken(ctx, "host"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"v1", "v2"} {
		if _, err := a.ViewerToken(ctx, live.ViewerRequest{UserID: u}); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// An instance on another IVS refuses the store the first one recorded, and
// writes nothing: not in the stores, not in its IVS.
func TestBootstrapRefusesAStoreOfAnotherIVS(t *testing.T) {
	sh, ivsA, ivsB := newShared(t), newIVS(t), newIVS(t)
	a := running(t, sh, ivsA, nil)
	before := sh.state(t, a)
	if before.Settings[ivslive.SettingIVSIdentity] != ivsA.id {
		t.Fatalf("the first instance recorded %q, want its IVS %q", before.Settings[ivslive.SettingIVSIdentity], ivsA.id)
	}

	err := sh.instance(t, ivsB, "b", nil).Bootstrap(context.Background())
	var other *live.OtherIVSError
	if !errors.As(err, &other) || other.Recorded != ivsA.id || other.Current != ivsB.id {
		t.Fatalf("Bootstrap on another IVS = %v, want OtherIVSError from %s to %s", err, ivsA.id, ivsB.id)
	}
	if diff := cmp.Diff(before, sh.state(t, a)); diff != "" {
		t.Fatalf("the refused start changed the shared state (-before +after):\n%s", diff)
	}
	for _, op := range []string{"GetStage", "CreateStage", "DeleteStage"} {
		if n := ivsB.count(op); n != 0 {
			t.Errorf("the refused instance called %s %d times", op, n)
		}
	}
}

// A store from before identities were recorded is claimed by an instance
// whose IVS has its master stage, and refused, untouched, by another.
func TestBootstrapClaimsAStoreFromBeforeIdentities(t *testing.T) {
	sh, ivsA, ivsB := newShared(t), newIVS(t), newIVS(t)
	a := running(t, sh, ivsA, func(c *live.Config) { c.IVSIdentity = "" }) // an older version
	before := sh.state(t, a)
	if _, recorded := before.Settings[ivslive.SettingIVSIdentity]; recorded {
		t.Fatal("an instance without an identity recorded one")
	}

	err := sh.instance(t, ivsB, "b", nil).Bootstrap(context.Background())
	var other *live.OtherIVSError
	if !errors.As(err, &other) || other.Recorded != "" || other.Master != before.Settings[ivslive.SettingMasterStageARN] {
		t.Fatalf("Bootstrap on another IVS = %v, want OtherIVSError naming the master stage", err)
	}
	if diff := cmp.Diff(before, sh.state(t, a)); diff != "" {
		t.Fatalf("the refused start changed the shared state (-before +after):\n%s", diff)
	}
	if n := ivsB.count("CreateStage") + ivsB.count("DeleteStage"); n != 0 {
		t.Fatalf("the refused instance created or deleted %d stages", n)
	}

	if err := sh.instance(t, ivsA, "c", nil).Bootstrap(context.Background()); err != nil {
		t.Fatalf("Bootstrap on the store's own IVS: %v", err)
	}
	if id, err := sh.store.Setting(context.Background(), ivslive.SettingIVSIdentity); err != nil || id != ivsA.id {
		t.Fatalf("recorded identity %q, %v; want %q", id, err, ivsA.id)
	}
}

// A store only this instance can use (SQLite in its data dir) follows its
// IVS: an embedded emulator whose state was lost is a new IVS, and the
// master stage is replaced in it.
func TestBootstrapTakesOverALocalStore(t *testing.T) {
	sh, ivsA, ivsB := newShared(t), newIVS(t), newIVS(t)
	local := func(c *live.Config) { c.StoreLocal = true }
	a := running(t, sh, ivsA, local)
	old := a.MasterARN()
	b := sh.instance(t, ivsB, "b", local)
	if err := b.Bootstrap(context.Background()); err != nil {
		t.Fatalf("Bootstrap of a local store on a new IVS: %v", err)
	}
	if b.MasterARN() == old || ivsB.count("CreateStage") != 1 {
		t.Fatalf("master %s (was %s) after %d CreateStage calls, want a new one from one call", b.MasterARN(), old, ivsB.count("CreateStage"))
	}
	if id, _ := sh.store.Setting(context.Background(), ivslive.SettingIVSIdentity); id != ivsB.id {
		t.Fatalf("recorded identity %q, want the new IVS %q", id, ivsB.id)
	}
}

// A master stage that its own IVS no longer has is replaced by the leader
// only, once: another instance waits, and fails after its deadline without
// writing anything, naming the cause.
func TestOnlyTheLeaderReplacesAGoneMaster(t *testing.T) {
	sh, v := newShared(t), newIVS(t)
	a := running(t, sh, v, nil)
	gone := a.MasterARN()
	if err := v.client.DeleteStage(context.Background(), gone); err != nil {
		t.Fatal(err)
	}
	if !a.Leader.TryLead(context.Background()) {
		t.Fatal("the first instance does not lead")
	}
	before := sh.state(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	err := sh.instance(t, v, "b", nil).Bootstrap(ctx)
	if err == nil || !strings.Contains(err.Error(), "only the leader") || !strings.Contains(err.Error(), gone) {
		t.Fatalf("Bootstrap of a follower with the master gone = %v, want an error naming the stage and the leader", err)
	}
	if diff := cmp.Diff(before, sh.state(t, a)); diff != "" {
		t.Fatalf("the follower changed the shared state (-before +after):\n%s", diff)
	}
	if n := v.count("CreateStage"); n != 1 { // the first instance's master
		t.Fatalf("%d CreateStage calls, want only the first master's", n)
	}

	// The leader steps down; the next instance leads and replaces it once.
	if err := sh.leases.ReleaseLease(context.Background(), "jobs", "a"); err != nil {
		t.Fatal(err)
	}
	c := sh.instance(t, v, "c", nil)
	if err := c.Bootstrap(context.Background()); err != nil {
		t.Fatalf("Bootstrap of the new leader: %v", err)
	}
	if c.MasterARN() == gone || v.count("CreateStage") != 2 || v.count("DeleteStage") != 2 { // the test's, and removeStage's (finding it gone)
		t.Fatalf("master %s after %d CreateStage and %d DeleteStage calls", c.MasterARN(), v.count("CreateStage"), v.count("DeleteStage"))
	}
	recorded, _ := sh.store.Setting(context.Background(), ivslive.SettingMasterStageARN)
	old, err := sh.store.FindStageByARN(context.Background(), gone)
	if recorded != c.MasterARN() || err != nil || old.State != ivslive.StageDeleted || old.Master {
		t.Fatalf("recorded master %s, old one %+v (%v)", recorded, old, err)
	}
	if n, _ := c.Stats(context.Background()); n.TotalViewers != 0 {
		t.Fatalf("%d viewers still counted on the stage that is gone", n.TotalViewers)
	}
}

// Two first instances starting together on an empty store end with one
// master stage, in IVS and in the store.
func TestFirstInstancesAgreeOnOneMaster(t *testing.T) {
	sh, v := newShared(t), newIVS(t)
	svcs := []*live.Service{sh.instance(t, v, "a", nil), sh.instance(t, v, "b", nil)}
	errs := make(chan error, len(svcs))
	for _, s := range svcs {
		go func() { errs <- s.Bootstrap(context.Background()) }()
	}
	for range svcs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if svcs[0].MasterARN() != svcs[1].MasterARN() {
		t.Fatalf("masters %s and %s", svcs[0].MasterARN(), svcs[1].MasterARN())
	}
	list, _, err := v.client.ListStages(context.Background(), "", 10)
	if err != nil || len(list) != 1 || list[0].ARN != svcs[0].MasterARN() {
		t.Fatalf("IVS has %+v (%v), want only the master", list, err)
	}
}
