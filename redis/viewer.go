package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive"
)

// Join implements ivslive.PresenceStore. The stage choice and the seat are
// one script, so concurrent joins from any number of instances never
// overfill a stage.
func (p *Presence) Join(ctx context.Context, r ivslive.JoinRequest) (ivslive.JoinResult, error) {
	res, err := joinScript.Run(ctx, p.scripts, nil, p.prefix, r.UserID, r.StageARN, r.SessionID,
		r.ParticipantID, r.UserAgent, r.IP, r.Now.UnixMilli(), r.Threshold, r.Capacity).Slice()
	if err != nil {
		return ivslive.JoinResult{}, unavailable("join", err)
	}
	if len(res) == 0 {
		return ivslive.JoinResult{}, malformed("join", errors.New("empty reply"))
	}
	switch status := str(res[0]); status {
	case "ok":
	case "nostage":
		return ivslive.JoinResult{}, ivslive.NotFound(ivslive.RStage)
	case "draining":
		return ivslive.JoinResult{}, ivslive.ReasonError(ivslive.ESTAGEFULL, ivslive.RStageClosing)
	case "full":
		return ivslive.JoinResult{}, ivslive.ReasonError(ivslive.ESTAGEFULL, ivslive.RStageFull)
	default:
		return ivslive.JoinResult{}, malformed("join", fmt.Errorf("status %q", status))
	}
	if len(res) != 10 {
		return ivslive.JoinResult{}, malformed("join", fmt.Errorf("%d values, want 10", len(res)))
	}
	joined, err := parseMillis(str(res[4]))
	if err != nil {
		return ivslive.JoinResult{}, malformed("join", fmt.Errorf("joined: %w", err))
	}
	last, err := parseMillis(str(res[7]))
	if err != nil {
		return ivslive.JoinResult{}, malformed("join", fmt.Errorf("last-seen: %w", err))
	}
	n, err := strconv.Atoi(str(res[8]))
	if err != nil {
		return ivslive.JoinResult{}, malformed("join", fmt.Errorf("count: %w", err))
	}
	return ivslive.JoinResult{
		Session: ivslive.ViewerSession{
			ID: str(res[2]), UserID: r.UserID, StageARN: str(res[1]), ParticipantID: str(res[3]),
			JoinedAt: joined, LastSeen: last, UserAgent: str(res[5]), IP: str(res[6]),
		},
		Viewers: n,
		New:     str(res[9]) == "1",
	}, nil
}

// SetParticipant implements ivslive.PresenceStore.
func (p *Presence) SetParticipant(ctx context.Context, stageARN, userID, sessionID, participantID string) error {
	ok, err := setParticipantScript.Run(ctx, p.scripts, nil, p.prefix, stageARN, userID, packField(sessionID), participantID).Int()
	if err != nil {
		return unavailable("set participant", err)
	}
	if ok != 1 {
		return errSessionNotFound()
	}
	return nil
}

// Release implements ivslive.PresenceStore. Nothing goes to the stream: the
// viewer never got a token, so there is no watch time to record.
func (p *Presence) Release(ctx context.Context, stageARN, userID, sessionID string) error {
	if err := releaseScript.Run(ctx, p.scripts, nil, p.prefix, stageARN, userID, packField(sessionID)).Err(); err != nil {
		return unavailable("release", err)
	}
	return nil
}

// Heartbeat implements ivslive.PresenceStore in O(log n): a ZADD XX GT on
// the stage's live set, so it never recreates a session and never moves
// last-seen back. Without a session id to check (a heartbeat with an API
// key, as the Node server's clients send) that one command is the whole
// heartbeat, with CH saying the viewer was there; only when it changed
// nothing (an unknown viewer, or one already seen this millisecond) does a
// second command tell the two apart. With a session id, one script checks
// it and moves last-seen atomically.
func (p *Presence) Heartbeat(ctx context.Context, r ivslive.HeartbeatRequest) error {
	if r.SessionID == "" {
		key := p.liveKey(r.StageARN)
		n, err := p.scripts.Do(ctx, "zadd", key, "XX", "GT", "CH", r.Now.UnixMilli(), r.UserID).Int()
		if err != nil {
			return unavailable("heartbeat", err)
		}
		if n == 1 {
			return nil
		}
		switch err := p.client.ZScore(ctx, key, r.UserID).Err(); {
		case err == goredis.Nil:
			return errSessionNotFound()
		case err != nil:
			return unavailable("heartbeat", err)
		}
		return nil
	}
	ok, err := heartbeatScript.Run(ctx, p.scripts, nil, p.prefix, r.StageARN, r.UserID, packField(r.SessionID), r.Now.UnixMilli(), r.SessionID).Int()
	if err != nil {
		return unavailable("heartbeat", err)
	}
	if ok != 1 {
		return errSessionNotFound()
	}
	return nil
}

// Leave implements ivslive.PresenceStore. The session is closed and its
// record enqueued on the stream in one script; once Leave returns, the
// Recorder owns delivering the record.
func (p *Presence) Leave(ctx context.Context, r ivslive.LeaveRequest) (ivslive.ClosedSession, error) {
	reason := r.Reason
	if reason == "" {
		reason = ivslive.EndLeave
	}
	sid := ""
	if r.SessionID != "" {
		sid = packField(r.SessionID)
	}
	res, err := leaveScript.Run(ctx, p.scripts, nil, p.prefix, r.StageARN, r.UserID, sid, r.Now.UnixMilli(), string(reason)).Slice()
	if err != nil {
		return ivslive.ClosedSession{}, unavailable("leave", err)
	}
	closed, err := closedList(res)
	if err != nil {
		return ivslive.ClosedSession{}, malformed("leave", err)
	}
	if len(closed) != 1 {
		return ivslive.ClosedSession{}, errSessionNotFound()
	}
	return closed[0], nil
}

// Expire implements ivslive.PresenceStore. Each script call closes at most
// scriptBatch sessions, so Redis is never blocked long; Go loops until no
// session older than cutoff is left or max is reached. On error it returns
// what was closed so far.
func (p *Presence) Expire(ctx context.Context, cutoff time.Time, max int) ([]ivslive.ClosedSession, error) {
	var closed []ivslive.ClosedSession
	for len(closed) < max {
		limit := min(scriptBatch, max-len(closed))
		res, err := expireScript.Run(ctx, p.scripts, nil, p.prefix, cutoff.UnixMilli(), limit).Slice()
		if err != nil {
			return closed, unavailable("expire", err)
		}
		batch, err := closedList(res)
		if err != nil {
			return closed, malformed("expire", err)
		}
		closed = append(closed, batch...)
		if len(batch) < limit {
			break
		}
	}
	return closed, nil
}

// Restore implements ivslive.PresenceStore, scriptBatch sessions per script
// call.
func (p *Presence) Restore(ctx context.Context, sessions []ivslive.ViewerSession) (int, error) {
	total := 0
	for start := 0; start < len(sessions); start += scriptBatch {
		batch := sessions[start:min(start+scriptBatch, len(sessions))]
		args := make([]any, 0, 1+8*len(batch))
		args = append(args, p.prefix)
		for _, s := range batch {
			args = append(args, s.StageARN, s.UserID, s.ID, s.ParticipantID, s.JoinedAt.UnixMilli(), s.LastSeen.UnixMilli(), s.UserAgent, s.IP)
		}
		n, err := restoreScript.Run(ctx, p.scripts, nil, args...).Int()
		if err != nil {
			return total, unavailable("restore", err)
		}
		total += n
	}
	return total, nil
}
