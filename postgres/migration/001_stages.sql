-- Managed stages and named settings. Every table lives in the ivslive schema
-- (search_path), so a database shared with the Node server keeps its own
-- public.stages, public.viewer_sessions, ... untouched.
CREATE TABLE settings (
	key        TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE stages (
	arn                     TEXT PRIMARY KEY,
	name                    TEXT NOT NULL DEFAULT '',
	is_master               BOOLEAN NOT NULL DEFAULT false,
	auto_scaled             BOOLEAN NOT NULL DEFAULT false,
	state                   TEXT NOT NULL DEFAULT 'active',
	tags                    JSONB NOT NULL DEFAULT '{}',
	endpoints               JSONB NOT NULL DEFAULT '{}',
	created_at              TIMESTAMPTZ NOT NULL,
	updated_at              TIMESTAMPTZ NOT NULL,
	draining_since          TIMESTAMPTZ,
	replication_source      TEXT,
	replication_participant TEXT,
	replication_started_at  TIMESTAMPTZ
);

CREATE INDEX stages_created ON stages (created_at, arn);
