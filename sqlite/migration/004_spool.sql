-- Closed sessions waiting to be forwarded to a remote history store
-- (PostgreSQL without Redis): written durably before the API answers, so an
-- outage of the remote store loses nothing.
CREATE TABLE session_spool (
	seq     INTEGER PRIMARY KEY AUTOINCREMENT,
	id      TEXT NOT NULL UNIQUE,
	payload TEXT NOT NULL
);
