-- Closed-session records the history store refused for their content (a
-- NUL in a user id, say), kept with the reason instead of blocking every
-- record behind them. The key is a hash of source and record, so a record
-- refused again after a redelivery is kept once.
CREATE TABLE history_dead_letters (
	key        TEXT PRIMARY KEY,
	source     TEXT NOT NULL,
	session_id TEXT NOT NULL DEFAULT '',
	record     TEXT NOT NULL,
	error      TEXT NOT NULL,
	failed_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX history_dead_letters_failed ON history_dead_letters (failed_at DESC, key);
