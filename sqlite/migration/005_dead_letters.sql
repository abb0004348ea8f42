-- Closed-session records the history store refused for their content,
-- kept with the reason instead of blocking every record behind them (see
-- the postgres twin). The key is a hash of source and record, so a record
-- refused again after a redelivery is kept once.
CREATE TABLE history_dead_letters (
	key        TEXT PRIMARY KEY,
	source     TEXT NOT NULL,
	session_id TEXT NOT NULL DEFAULT '',
	record     TEXT NOT NULL,
	error      TEXT NOT NULL,
	failed_at  TEXT NOT NULL
);

CREATE INDEX history_dead_letters_failed ON history_dead_letters (failed_at DESC, key);

-- When each record was spooled: the age of the oldest tells /api/health how
-- far behind forwarding is. Rows spooled before this migration have none.
ALTER TABLE session_spool ADD COLUMN spooled_at TEXT;
