-- Viewer counts every few minutes, one row per managed stage plus the total
-- (stage_arn '*'), kept for SNAPSHOT_RETENTION_DAYS.
CREATE TABLE viewer_stats_snapshots (
	stage_arn     TEXT NOT NULL,
	snapshot_time TIMESTAMPTZ NOT NULL,
	viewer_count  INTEGER NOT NULL,
	PRIMARY KEY (stage_arn, snapshot_time)
);
CREATE INDEX viewer_stats_snapshots_time ON viewer_stats_snapshots (snapshot_time);

-- The newest copy of the live sessions, replaced as a whole each time.
CREATE TABLE presence_checkpoint (
	id             TEXT PRIMARY KEY,
	user_id        TEXT NOT NULL,
	stage_arn      TEXT NOT NULL,
	participant_id TEXT NOT NULL DEFAULT '',
	joined_at      TIMESTAMPTZ NOT NULL,
	last_seen_at   TIMESTAMPTZ NOT NULL,
	user_agent     TEXT NOT NULL DEFAULT '',
	ip_address     TEXT NOT NULL DEFAULT '',
	taken_at       TIMESTAMPTZ NOT NULL
);

