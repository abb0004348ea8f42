-- One row per viewer session, written once when the session closes. The id
-- is the presence session id, so a record delivered twice is stored once.
CREATE TABLE viewer_sessions (
	id                     TEXT PRIMARY KEY,
	user_id                TEXT NOT NULL,
	stage_arn              TEXT NOT NULL,
	participant_id         TEXT NOT NULL DEFAULT '',
	joined_at              TIMESTAMPTZ NOT NULL,
	last_seen_at           TIMESTAMPTZ NOT NULL,
	left_at                TIMESTAMPTZ NOT NULL,
	watch_duration_seconds INTEGER NOT NULL,
	end_reason             TEXT NOT NULL CHECK (end_reason IN ('leave', 'timeout', 'kicked', 'shutdown', 'stage_deleted')),
	user_agent             TEXT NOT NULL DEFAULT '',
	ip_address             TEXT NOT NULL DEFAULT '',
	recorded_at            TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX viewer_sessions_user ON viewer_sessions (user_id, joined_at DESC, id);
CREATE INDEX viewer_sessions_stage ON viewer_sessions (stage_arn, joined_at);
CREATE INDEX viewer_sessions_left ON viewer_sessions (left_at);
