package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/poison"
)

var _ ivslive.SessionSink = (*DB)(nil)

// RecordSessions implements ivslive.SessionSink: every record in one
// transaction, each stored once by session id. With synchronous=FULL the
// records are on disk when it returns. A record that cannot be stored goes
// to the dead letters and the rest are written (see poison.Record); only an
// outage fails the call.
func (d *DB) RecordSessions(ctx context.Context, sessions []ivslive.ClosedSession) error {
	if len(sessions) == 0 {
		return nil
	}
	_, err := poison.Record(ctx, sessions, d.Now(), d.insertSessions, d.SaveDeadLetters)
	return err
}

func (d *DB) insertSessions(ctx context.Context, sessions []ivslive.ClosedSession) error {
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO viewer_sessions (id, user_id, stage_arn, participant_id,
			joined_at, last_seen_at, left_at, watch_duration_seconds, end_reason, user_agent, ip_address, recorded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		now := formatTime(d.Now())
		for _, s := range sessions {
			_, err := stmt.ExecContext(ctx, s.ID, s.UserID, s.StageARN, s.ParticipantID,
				formatTime(s.JoinedAt), formatTime(s.LastSeen), formatTime(s.LeftAt),
				int64(s.WatchDuration()/time.Second), string(s.Reason), s.UserAgent, s.IP, now)
			if err != nil {
				return err
			}
		}
		return nil
	})
	return storeError(fmt.Sprintf("record %d sessions", len(sessions)), err)
}
