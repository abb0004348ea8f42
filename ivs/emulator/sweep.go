package emulator

import (
	"time"
)

// sweepLoop runs Sweep every SweepInterval until Close. The ticker only
// decides when to look; what expired is decided by Now, so tests with a
// fake clock move it and call Sweep themselves.
func (e *Emulator) sweepLoop() {
	defer e.wg.Done()
	t := time.NewTicker(e.opts.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-e.stopSweep:
			return
		case <-t.C:
			e.Sweep()
		}
	}
}

// Sweep applies every deadline that has passed by Now: a connection that
// did not connect, or lost ICE/DTLS, for ConnectionTimeout ends (its
// participant LEFT); a publish or subscribe connection past IVS's 24-hour
// limit ends (a publisher with STREAM_DURATION_EXCEEDED); a replication
// whose source stopped publishing longer ago than its reconnect window
// stops (REPLICATION_STOPPED); a session SessionEndDelay after its last
// participant left ends; a composition a minute without a publisher, or 24
// hours old, stops, and the publishers feeding the others are asked for a
// keyframe (segments are cut on keyframes). It runs on its own every
// SweepInterval.
func (e *Emulator) Sweep() {
	e.mu.Lock()
	now := e.now()
	var feeding []keyframer
	defer func() {
		e.unlockClosing()
		for _, src := range feeding {
			src.RequestKeyframe()
		}
	}()
	for _, c := range e.conns {
		switch {
		case !c.lostAt.IsZero() && now.Sub(c.lostAt) >= e.opts.ConnectionTimeout:
			e.log.Info("ivs emulator: connection lost", "stage", c.st.Arn, "participant", c.p.ID, "since", c.lostAt)
			e.endConnLocked(c)
		case !c.connectedAt.IsZero() && now.Sub(c.connectedAt) >= maxConnDuration:
			if c.publish {
				e.recordLocked(c.st, c.session, c.p, participantEvent{Name: "PUBLISH_ERROR", ErrorCode: "STREAM_DURATION_EXCEEDED"})
			}
			e.endConnLocked(c)
		}
	}
	for _, rep := range e.state.Replications {
		window := time.Duration(rep.ReconnectWindowSeconds) * time.Second
		if !rep.sourceGoneAt.IsZero() && now.Sub(rep.sourceGoneAt) >= window {
			e.stopReplicationLocked(rep)
		}
	}
	for arn, l := range e.live {
		if s := l.active; s != nil && !s.emptySince.IsZero() && now.Sub(s.emptySince) >= e.opts.SessionEndDelay {
			e.endSessionLocked(arn)
		}
	}
	feeding = e.sweepCompositionsLocked(now)
}
