-- Sessions may end as 'disconnected': IVS reported the viewer's participant
-- gone. The check constraint of 002 is widened; its name is PostgreSQL's
-- default for an unnamed column check.
ALTER TABLE viewer_sessions DROP CONSTRAINT viewer_sessions_end_reason_check;
ALTER TABLE viewer_sessions ADD CONSTRAINT viewer_sessions_end_reason_check
	CHECK (end_reason IN ('leave', 'timeout', 'disconnected', 'kicked', 'shutdown', 'stage_deleted'));
