-- Managed stages and named settings. Timestamps are UTC ISO-8601 text with
-- millisecond precision ("2006-01-02T15:04:05.000Z"), which sorts in time order.
CREATE TABLE settings (
	key        TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

CREATE TABLE stages (
	arn                     TEXT PRIMARY KEY,
	name                    TEXT NOT NULL DEFAULT '',
	is_master               INTEGER NOT NULL DEFAULT 0,
	auto_scaled             INTEGER NOT NULL DEFAULT 0,
	state                   TEXT NOT NULL DEFAULT 'active',
	tags                    TEXT NOT NULL DEFAULT '{}',
	endpoints               TEXT NOT NULL DEFAULT '{}',
	created_at              TEXT NOT NULL,
	updated_at              TEXT NOT NULL,
	draining_since          TEXT,
	replication_source      TEXT,
	replication_participant TEXT,
	replication_started_at  TEXT
);

CREATE INDEX stages_created ON stages (created_at, arn);
