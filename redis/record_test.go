package redis_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/redis"
)

// Records written by the scripts read back exactly through every path
// (join, Session, Viewers, the closed record), for long fields, empty ones,
// interned user agents and, once the table is full, inline ones; and a
// session id is checked whole, never by prefix.
func TestRecordEncoding(t *testing.T) {
	client, prefix := testenv.Redis(t)
	p := redis.NewPresence(client, prefix)
	ctx := context.Background()
	arn := "arn:aws:ivs:us-east-1:123456789012:stage/AAAAAAAAAAAA"
	t0 := time.UnixMilli(1_764_072_000_123).UTC()
	if err := p.PutStage(ctx, arn, ivslive.StageActive); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 300)
	want := []ivslive.ViewerSession{
		{ID: long, UserID: "long", ParticipantID: strings.Repeat("p", 254), UserAgent: strings.Repeat("u", 512), IP: "2001:db8::1"},
		{ID: "vs-abc", UserID: "empty"},
		{ID: "vs-def", UserID: "same-agent", UserAgent: strings.Repeat("u", 512), IP: "203.0.113.7"},
	}
	join := func(s *ivslive.ViewerSession) {
		t.Helper()
		s.StageARN, s.JoinedAt, s.LastSeen = arn, t0, t0
		res, err := p.Join(ctx, ivslive.JoinRequest{UserID: s.UserID, StageARN: arn, SessionID: s.ID, ParticipantID: s.ParticipantID,
			UserAgent: s.UserAgent, IP: s.IP, Now: t0, Threshold: 1 << 20, Capacity: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(*s, res.Session); diff != "" {
			t.Errorf("join of %s (-want +got):\n%s", s.UserID, diff)
		}
	}
	for i := range want {
		join(&want[i])
	}
	// Fill the user agent table (one is interned already) as a flood of
	// distinct ones would: the next new one is kept inline in its record.
	agents := map[string]any{}
	for i := 0; len(agents) < 4096-1; i++ {
		agents[strings.Repeat("f", 8)+string(rune('a'+i%26))+strings.Repeat("g", i/26)] = 0
	}
	for ua := range agents {
		if _, err := p.Join(ctx, ivslive.JoinRequest{UserID: "flood", StageARN: arn, SessionID: "vs-flood", UserAgent: ua,
			Now: t0, Threshold: 1 << 20, Capacity: 1 << 20}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Leave(ctx, ivslive.LeaveRequest{StageARN: arn, UserID: "flood", Now: t0}); err != nil {
		t.Fatal(err)
	}
	if n := client.HLen(ctx, prefix+"agents").Val(); n != 4096 {
		t.Fatalf("%d interned user agents, want 4096", n)
	}
	want = append(want, ivslive.ViewerSession{ID: "vs-ghi", UserID: "inline", UserAgent: "Mozilla/5.0 (not interned)"})
	join(&want[len(want)-1])

	for _, w := range want {
		got, err := p.Session(ctx, arn, w.UserID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("session of %s (-want +got):\n%s", w.UserID, diff)
		}
	}
	viewers, err := p.Viewers(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	byUser := map[string]ivslive.ViewerSession{}
	for _, v := range viewers {
		byUser[v.UserID] = v
	}
	for _, w := range want {
		if diff := cmp.Diff(w, byUser[w.UserID]); diff != "" {
			t.Errorf("viewer %s (-want +got):\n%s", w.UserID, diff)
		}
	}
	// Join times outside what 6 bytes hold, or whose text is 6 bytes long,
	// come back exactly too, through restore, Session and the closed record.
	for i, joined := range []time.Time{{}, time.UnixMilli(-12345), time.UnixMilli(123456), time.UnixMilli(1 << 48), time.UnixMilli(1<<48 - 1)} {
		s := ivslive.ViewerSession{ID: fmt.Sprint("vs-r", i), UserID: fmt.Sprint("r", i), StageARN: arn, JoinedAt: joined.UTC(), LastSeen: t0}
		if n, err := p.Restore(ctx, []ivslive.ViewerSession{s}); n != 1 || err != nil {
			t.Fatalf("restore joined at %v: %d, %v", joined, n, err)
		}
		got, err := p.Session(ctx, arn, s.UserID)
		if err != nil || !got.JoinedAt.Equal(s.JoinedAt) {
			t.Errorf("joined at %d ms: session has %d, %v", s.JoinedAt.UnixMilli(), got.JoinedAt.UnixMilli(), err)
		}
		c, err := p.Leave(ctx, ivslive.LeaveRequest{StageARN: arn, UserID: s.UserID, Now: t0})
		if err != nil || !c.JoinedAt.Equal(s.JoinedAt) {
			t.Errorf("joined at %d ms: closed record has %d, %v", s.JoinedAt.UnixMilli(), c.JoinedAt.UnixMilli(), err)
		}
	}

	// IPv4 addresses in dotted decimal are kept in 4 bytes; anything else
	// that looks like one stays text, exactly as given.
	for i, ip := range []string{"0.0.0.0", "255.255.255.255", "10.0.0.1", "010.0.0.1", "256.0.0.1", "1.2.3", "1.2.3.4.5", "::ffff:1.2.3.4", "1.2.3.4 "} {
		s := ivslive.ViewerSession{ID: fmt.Sprint("vs-ip", i), UserID: fmt.Sprint("ip", i), StageARN: arn, JoinedAt: t0, LastSeen: t0, IP: ip}
		if _, err := p.Join(ctx, ivslive.JoinRequest{UserID: s.UserID, StageARN: arn, SessionID: s.ID, IP: ip, Now: t0, Threshold: 1 << 20, Capacity: 1 << 20}); err != nil {
			t.Fatal(err)
		}
		vs, err := p.Viewers(ctx, arn)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			if v.UserID == s.UserID && v.IP != ip {
				t.Errorf("viewers: ip %q read back as %q", ip, v.IP)
			}
		}
		// A rejoin from another address replaces it, in either form.
		other := "2001:db8::7"
		if i%2 == 0 {
			other = "192.0.2.1"
		}
		if res, err := p.Join(ctx, ivslive.JoinRequest{UserID: s.UserID, StageARN: arn, SessionID: "x", IP: other, Now: t0, Threshold: 1 << 20, Capacity: 1 << 20}); err != nil || res.Session.IP != other || res.Session.ID != s.ID {
			t.Errorf("rejoin from %q: %+v, %v", other, res.Session, err)
		}
		if got, err := p.Session(ctx, arn, s.UserID); err != nil || got.IP != other {
			t.Errorf("session after rejoin from %q: %+v, %v", other, got, err)
		}
		c, err := p.Leave(ctx, ivslive.LeaveRequest{StageARN: arn, UserID: s.UserID, Now: t0})
		if err != nil || c.IP != other {
			t.Errorf("closed record after rejoin from %q: ip %q, %v", other, c.IP, err)
		}
	}

	// A prefix of the id, or the id with more after it, is another id.
	for _, id := range []string{long[:299], long + "x"} {
		err := p.Heartbeat(ctx, ivslive.HeartbeatRequest{StageARN: arn, UserID: "long", SessionID: id, Now: t0.Add(time.Second)})
		if code := ivslive.ErrorCode(err); code != ivslive.ENOTFOUND {
			t.Errorf("heartbeat with an id of %d bytes: %v, want %s", len(id), err, ivslive.ENOTFOUND)
		}
	}
	if err := p.Heartbeat(ctx, ivslive.HeartbeatRequest{StageARN: arn, UserID: "long", SessionID: long, Now: t0.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := p.SetParticipant(ctx, arn, "long", long, "pNEW"); err != nil {
		t.Fatal(err)
	}
	c, err := p.Leave(ctx, ivslive.LeaveRequest{StageARN: arn, UserID: "long", SessionID: long, Now: t0.Add(2 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	w := want[0]
	w.ParticipantID, w.LastSeen = "pNEW", t0.Add(time.Second)
	if diff := cmp.Diff(ivslive.ClosedSession{ViewerSession: w, LeftAt: t0.Add(2 * time.Second), Reason: ivslive.EndLeave}, c); diff != "" {
		t.Errorf("closed (-want +got):\n%s", diff)
	}
}
