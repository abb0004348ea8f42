package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive"
)

func (p *Presence) recordsKey(arn string) string { return p.prefix + "stage:" + arn + ":sessions" }

func (p *Presence) agentIDsKey() string { return p.prefix + "agents:ids" }

// Viewers implements ivslive.PresenceStore, oldest last-seen first: the
// live set, then the records scriptBatch users per HMGET in one pipeline,
// then the interned user agents they name in one HMGET. Plain commands
// rather than a script keep the decoding in this process, not in Redis,
// which every checkpoint would otherwise load. A session closed between
// the reads is left out.
func (p *Presence) Viewers(ctx context.Context, stageARN string) ([]ivslive.ViewerSession, error) {
	live, err := p.client.ZRangeWithScores(ctx, p.liveKey(stageARN), 0, -1).Result()
	if err != nil {
		return nil, unavailable("viewers", err)
	}
	if len(live) == 0 {
		return nil, nil
	}
	users := make([]string, len(live))
	for i, z := range live {
		users[i] = str(z.Member)
	}
	recs, err := p.records(ctx, stageARN, users)
	if err != nil {
		return nil, err
	}
	agents, err := p.agents(ctx, recs)
	if err != nil {
		return nil, err
	}
	out := make([]ivslive.ViewerSession, 0, len(live))
	for i, z := range live {
		if recs[i] == nil {
			continue
		}
		s, err := recs[i].session(stageARN, users[i], agents, time.UnixMilli(int64(z.Score)).UTC())
		if err != nil {
			return nil, malformed("viewers", err)
		}
		out = append(out, s)
	}
	return out, nil
}

// records reads the records of users on arn, nil for a user without one.
// A user the HMGET misses may hold a session of the older layout: a script
// converts and returns those.
func (p *Presence) records(ctx context.Context, arn string, users []string) ([]*packedSession, error) {
	rk := p.recordsKey(arn)
	var cmds []*goredis.SliceCmd
	_, err := p.client.Pipelined(ctx, func(pipe goredis.Pipeliner) error {
		for start := 0; start < len(users); start += scriptBatch {
			cmds = append(cmds, pipe.HMGet(ctx, rk, users[start:min(start+scriptBatch, len(users))]...))
		}
		return nil
	})
	if err != nil {
		return nil, unavailable("viewers", err)
	}
	vals := make([]any, 0, len(users))
	for _, c := range cmds {
		vals = append(vals, c.Val()...)
	}
	var missing []int
	for i, v := range vals {
		if v == nil {
			missing = append(missing, i)
		}
	}
	for start := 0; start < len(missing); start += scriptBatch {
		batch := missing[start:min(start+scriptBatch, len(missing))]
		args := make([]any, 0, 2+len(batch))
		args = append(args, p.prefix, arn)
		for _, i := range batch {
			args = append(args, users[i])
		}
		res, err := recordsScript.Run(ctx, p.client, nil, args...).Slice()
		if err != nil {
			return nil, unavailable("viewers", err)
		}
		if len(res) != len(batch) {
			return nil, malformed("viewers", fmt.Errorf("%d records for %d users", len(res), len(batch)))
		}
		for k, i := range batch {
			vals[i] = res[k]
		}
	}
	out := make([]*packedSession, len(users))
	for i, v := range vals {
		if v == nil {
			continue
		}
		s, err := parseRecord(str(v))
		if err != nil {
			return nil, malformed("viewers", fmt.Errorf("record of %s on %s: %w", users[i], arn, err))
		}
		out[i] = &s
	}
	return out, nil
}

// agents reads the interned user agents that recs name, by number.
func (p *Presence) agents(ctx context.Context, recs []*packedSession) (map[int]string, error) {
	agents := map[int]string{}
	var ids []string
	for _, r := range recs {
		if r == nil || r.agent == 0 {
			continue
		}
		if _, ok := agents[r.agent]; !ok {
			agents[r.agent] = ""
			ids = append(ids, strconv.Itoa(r.agent))
		}
	}
	if len(ids) == 0 {
		return agents, nil
	}
	texts, err := p.client.HMGet(ctx, p.agentIDsKey(), ids...).Result()
	if err != nil {
		return nil, unavailable("viewers", err)
	}
	for i, id := range ids {
		n, _ := strconv.Atoi(id)
		agents[n] = str(texts[i])
	}
	return agents, nil
}

// session builds the live session of user on arn from its record, with
// agents holding the interned user agents by number.
func (r *packedSession) session(arn, user string, agents map[int]string, last time.Time) (ivslive.ViewerSession, error) {
	joined, err := parseMillis(r.joined)
	if err != nil {
		return ivslive.ViewerSession{}, fmt.Errorf("session of %s on %s: joined: %w", user, arn, err)
	}
	ua := r.ua
	if r.agent != 0 {
		ua = agents[r.agent]
	}
	return ivslive.ViewerSession{
		ID: r.id, UserID: user, StageARN: arn, ParticipantID: r.pid,
		JoinedAt: joined, LastSeen: last, UserAgent: ua, IP: r.ip,
	}, nil
}

// Session implements ivslive.PresenceStore in one script, so the seat,
// the record and its user agent belong to the same moment.
func (p *Presence) Session(ctx context.Context, stageARN, userID string) (ivslive.ViewerSession, error) {
	res, err := sessionScript.Run(ctx, p.scripts, nil, p.prefix, stageARN, userID).Slice()
	if err != nil {
		return ivslive.ViewerSession{}, unavailable("session", err)
	}
	if len(res) == 0 {
		return ivslive.ViewerSession{}, errSessionNotFound()
	}
	if len(res) != 3 {
		return ivslive.ViewerSession{}, malformed("session", fmt.Errorf("%d values, want 3", len(res)))
	}
	last, err := parseMillis(str(res[0]))
	if err != nil {
		return ivslive.ViewerSession{}, malformed("session", fmt.Errorf("last-seen: %w", err))
	}
	r, err := parseRecord(str(res[1]))
	if err != nil {
		return ivslive.ViewerSession{}, malformed("session", err)
	}
	r.agent, r.ua = 0, str(res[2])
	s, err := r.session(stageARN, userID, nil, last)
	if err != nil {
		return ivslive.ViewerSession{}, malformed("session", err)
	}
	return s, nil
}
