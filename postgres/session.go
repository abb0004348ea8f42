package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/poison"
)

var _ ivslive.SessionSink = (*DB)(nil)

// RecordSessions implements ivslive.SessionSink: the whole batch in one
// statement (arrays unnested server-side, one round trip), each session
// stored once by id. A record PostgreSQL refuses (a NUL in a user id, say)
// goes to the dead letters and the rest are written (see poison.Record);
// only an outage fails the call.
func (d *DB) RecordSessions(ctx context.Context, sessions []ivslive.ClosedSession) error {
	if len(sessions) == 0 {
		return nil
	}
	_, err := poison.Record(ctx, sessions, d.Now(), d.insertSessions, d.SaveDeadLetters)
	return err
}

func (d *DB) insertSessions(ctx context.Context, sessions []ivslive.ClosedSession) error {
	n := len(sessions)
	var (
		ids, users, stages, pids, reasons, uas, ips = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		joined, seen, left                          = make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
		secs                                        = make([]int64, n)
	)
	for i, s := range sessions {
		ids[i], users[i], stages[i], pids[i] = s.ID, s.UserID, s.StageARN, s.ParticipantID
		reasons[i], uas[i], ips[i] = string(s.Reason), s.UserAgent, s.IP
		joined[i], seen[i], left[i] = s.JoinedAt, s.LastSeen, s.LeftAt
		secs[i] = int64(s.WatchDuration() / time.Second)
	}
	ctx, cancel := d.bound(ctx)
	defer cancel()
	_, err := d.pool.Exec(ctx, `INSERT INTO viewer_sessions (id, user_id, stage_arn, participant_id,
			joined_at, last_seen_at, left_at, watch_duration_seconds, end_reason, user_agent, ip_address)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
			$7::timestamptz[], $8::int8[], $9::text[], $10::text[], $11::text[])
		ON CONFLICT (id) DO NOTHING`,
		ids, users, stages, pids, joined, seen, left, secs, reasons, uas, ips)
	return storeError(fmt.Sprintf("record %d sessions", n), err)
}
