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
		return ivslive.JoinResult{}, ivslive.Errorf(ivslive.ESTAGEFULL, "Stage 正在關閉，請稍後再試")
	case "full":
		return ivslive.JoinResult{}, ivslive.Errorf(ivslive.ESTAGEFULL, "Stage 已滿，請稍後再試")
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
	ok, err := setParticipantScript.Run(ctx, p.scripts, nil, p.prefix, stageARN, userID, sessionID, participantID).Int()
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
	if err := releaseScript.Run(ctx, p.scripts, nil, p.prefix, stageARN, userID, sessionID).Err(); err != nil {
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
	ok, err := heartbeatScript.Run(ctx, p.scripts, nil, p.prefix, r.StageARN, r.UserID, r.SessionID, r.Now.UnixMilli()).Int()
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
	res, err := leaveScript.Run(ctx, p.scripts, nil, p.prefix, r.StageARN, r.UserID, r.SessionID, r.Now.UnixMilli(), string(reason)).Slice()
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

// Viewers implements ivslive.PresenceStore, oldest last-seen first, in two
// round trips: the live set, then every session hash in one pipeline. A
// session closed between the two is left out.
func (p *Presence) Viewers(ctx context.Context, stageARN string) ([]ivslive.ViewerSession, error) {
	live, err := p.client.ZRangeWithScores(ctx, p.liveKey(stageARN), 0, -1).Result()
	if err != nil {
		return nil, unavailable("viewers", err)
	}
	if len(live) == 0 {
		return nil, nil
	}
	cmds := make([]*goredis.SliceCmd, len(live))
	_, err = p.client.Pipelined(ctx, func(pipe goredis.Pipeliner) error {
		for i, z := range live {
			cmds[i] = pipe.HMGet(ctx, p.sessionKey(stageARN, str(z.Member)), "id", "pid", "joined", "ua", "ip")
		}
		return nil
	})
	if err != nil {
		return nil, unavailable("viewers", err)
	}
	out := make([]ivslive.ViewerSession, 0, len(live))
	for i, z := range live {
		s, ok, err := viewerSession(stageARN, str(z.Member), z.Score, cmds[i].Val())
		if err != nil {
			return nil, malformed("viewers", err)
		}
		if ok {
			out = append(out, s)
		}
	}
	return out, nil
}

// Session implements ivslive.PresenceStore. The seat and the hash are read
// in one MULTI so they belong to the same moment.
func (p *Presence) Session(ctx context.Context, stageARN, userID string) (ivslive.ViewerSession, error) {
	var score *goredis.FloatCmd
	var fields *goredis.SliceCmd
	_, err := p.client.TxPipelined(ctx, func(pipe goredis.Pipeliner) error {
		score = pipe.ZScore(ctx, p.liveKey(stageARN), userID)
		fields = pipe.HMGet(ctx, p.sessionKey(stageARN, userID), "id", "pid", "joined", "ua", "ip")
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return ivslive.ViewerSession{}, unavailable("session", err)
	}
	if errors.Is(score.Err(), goredis.Nil) {
		return ivslive.ViewerSession{}, errSessionNotFound()
	}
	s, ok, err := viewerSession(stageARN, userID, score.Val(), fields.Val())
	if err != nil {
		return ivslive.ViewerSession{}, malformed("session", err)
	}
	if !ok {
		return ivslive.ViewerSession{}, errSessionNotFound()
	}
	return s, nil
}

// viewerSession builds a session from its live score and its hash fields
// (id, pid, joined, ua, ip); ok is false when the hash is gone.
func viewerSession(arn, user string, score float64, h []any) (s ivslive.ViewerSession, ok bool, err error) {
	if len(h) != 5 || h[0] == nil {
		return s, false, nil
	}
	joined, err := parseMillis(str(h[2]))
	if err != nil {
		return s, false, fmt.Errorf("session of %s on %s: joined: %w", user, arn, err)
	}
	return ivslive.ViewerSession{
		ID: str(h[0]), UserID: user, StageARN: arn, ParticipantID: str(h[1]),
		JoinedAt: joined, LastSeen: time.UnixMilli(int64(score)).UTC(), UserAgent: str(h[3]), IP: str(h[4]),
	}, true, nil
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
