package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// viewer is one simulated viewer. The fields above the line are written by
// the join before the viewer is published in the engine's joined list, and
// only read afterwards.
type viewer struct {
	userID string
	stage  string
	body   []byte      // {"userId":…,"stageArn":…}, for heartbeat and leave
	header http.Header // how heartbeat and leave authenticate
	// quietAt is when the viewer stops heartbeating (Options.SilentAt), 0
	// for never.
	quietAt time.Duration

	lastAck atomic.Int64 // ns since the start: the last acknowledged join or heartbeat
	left    atomic.Bool  // its leave was answered
	silent  bool         // counted as gone by the model's last scan; under the model's lock
}

// joinData is the part of the join answer the simulator keeps.
type joinData struct {
	StageARN     string `json:"stageArn"`
	SessionToken string `json:"sessionToken"`
}

// join asks for viewer i's token; on success the viewer enters the model and
// the joined list, and (with an interval) the heartbeat schedule.
func (e *engine) join(ctx context.Context, i int) {
	userID := e.o.UserPrefix + strconv.Itoa(i)
	body, _ := json.Marshal(map[string]string{"userId": userID})
	var data joinData
	res := e.do(ctx, call{route: rJoin, method: http.MethodPost, url: e.o.URL + "/api/token/viewer", body: body,
		header: e.keyHeader, decode: func(b []byte) error {
			if err := decodeData(b, &data); err != nil {
				return err
			}
			if data.StageARN == "" {
				return errors.New("unusable answer: no stageArn")
			}
			return nil
		}, onSend: e.model.joinSent})
	if !res.ok {
		if res.started {
			e.model.joinDone(false)
		}
		return
	}
	v := &viewer{userID: userID, stage: data.StageARN, header: e.keyHeader}
	v.body, _ = json.Marshal(map[string]string{"userId": userID, "stageArn": data.StageARN})
	if e.o.Auth == AuthSession {
		if data.SessionToken != "" {
			v.header = bearerHeader(data.SessionToken)
		} else {
			e.fallbacks.Add(1)
		}
	}
	if e.goesSilent(i) {
		v.quietAt = e.o.SilentAt
	}
	v.lastAck.Store(int64(res.done))
	e.publish(v)
	e.model.joinDone(true)
	if next := res.done + jitter(e.o.Interval); e.o.Interval > 0 && next < e.o.Duration {
		e.sched.push(next, v)
	}
}

// goesSilent reports whether viewer i is among the SilentRatio that stop
// heartbeating at SilentAt: every viewer whose share of the ratio crosses
// an integer, so they are spread evenly over the join order (and so over
// the stages).
func (e *engine) goesSilent(i int) bool {
	r := e.o.SilentRatio
	return r > 0 && int(float64(i+1)*r) > int(float64(i)*r)
}

// heartbeat keeps v present.
func (e *engine) heartbeat(ctx context.Context, v *viewer) {
	res := e.do(ctx, call{route: rHeartbeat, method: http.MethodPost, url: e.urlHeartbeat, body: v.body, header: v.header})
	if res.ok {
		// Heartbeats of one viewer may overlap when the server is slow: keep
		// the latest acknowledgement.
		for {
			old := v.lastAck.Load()
			if int64(res.done) <= old || v.lastAck.CompareAndSwap(old, int64(res.done)) {
				break
			}
		}
	}
}

// leave ends v's session.
func (e *engine) leave(ctx context.Context, v *viewer) {
	res := e.do(ctx, call{route: rLeave, method: http.MethodPost, url: e.urlLeave, body: v.body, header: v.header,
		onSend: e.model.leaveSent})
	if res.started {
		e.model.leaveDone(v, res.ok)
	}
}

// publisher makes the stream live.
func (e *engine) publisher(ctx context.Context) {
	body, _ := json.Marshal(map[string]string{"userId": e.o.UserPrefix + "publisher"})
	e.do(ctx, call{route: rPublisher, method: http.MethodPost, url: e.o.URL + "/api/token/publisher", body: body, header: e.keyHeader})
}

// publish adds v to the joined list, which closed-loop workers and the
// leave phase read without locks.
func (e *engine) publish(v *viewer) {
	i := e.nJoined.Add(1) - 1
	e.joined[i].Store(v)
	e.firstJoin.Do(func() { close(e.anyJoined) })
}

// joinedAt returns the i-th joined viewer, or nil while its slot is being
// filled.
func (e *engine) joinedAt(i int) *viewer { return e.joined[i].Load() }

// joinedCount is the number of viewers whose join succeeded so far.
func (e *engine) joinedCount() int { return int(e.nJoined.Load()) }
