-- Webhooks (in embedded mode, and with PostgreSQL but no Redis, in a file of
-- its own in the data dir). Times are Unix milliseconds: the queue compares
-- them on every claim.

-- The queued jobs: one FIFO per target and stage, in seq order.
CREATE TABLE webhook_jobs (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	target      TEXT NOT NULL,
	stage_arn   TEXT NOT NULL,
	event_id    TEXT NOT NULL,
	type        TEXT NOT NULL,
	time_ms     INTEGER NOT NULL,
	payload     BLOB NOT NULL,
	enqueued_ms INTEGER NOT NULL
);
CREATE INDEX webhook_jobs_queue ON webhook_jobs (target, stage_arn, seq);

-- One row per non-empty queue: when its head may next be claimed (due, or
-- when the lease of the claim in flight runs out), the attempts made at
-- its head, and the lease of the claim in flight ('' when none).
CREATE TABLE webhook_queues (
	target    TEXT NOT NULL,
	stage_arn TEXT NOT NULL,
	due_ms    INTEGER NOT NULL,
	attempts  INTEGER NOT NULL DEFAULT 0,
	lease     TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (target, stage_arn)
);
CREATE INDEX webhook_queues_due ON webhook_queues (target, due_ms);

-- The events sent, newest kept, for replays.
CREATE TABLE webhook_events (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	id        TEXT NOT NULL UNIQUE,
	type      TEXT NOT NULL,
	time_ms   INTEGER NOT NULL,
	stage_arn TEXT NOT NULL,
	payload   BLOB NOT NULL
);
CREATE INDEX webhook_events_time ON webhook_events (time_ms);

-- Recent delivery attempts: the newest of all, and the newest failures.
CREATE TABLE webhook_attempts (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	failed      INTEGER NOT NULL,
	at_ms       INTEGER NOT NULL,
	target      TEXT NOT NULL,
	event_id    TEXT NOT NULL,
	type        TEXT NOT NULL,
	stage_arn   TEXT NOT NULL,
	attempt     INTEGER NOT NULL,
	outcome     TEXT NOT NULL,
	status      INTEGER NOT NULL,
	error       TEXT NOT NULL,
	duration_us INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_failed ON webhook_attempts (failed, seq);

-- Per-target state shared by the deliveries.
CREATE TABLE webhook_targets (
	name              TEXT PRIMARY KEY,
	disabled_ms       INTEGER,
	disabled_reason   TEXT NOT NULL DEFAULT '',
	last_delivered_ms INTEGER,
	last_failed_ms    INTEGER,
	last_error        TEXT NOT NULL DEFAULT '',
	failing           INTEGER NOT NULL DEFAULT 0
);
