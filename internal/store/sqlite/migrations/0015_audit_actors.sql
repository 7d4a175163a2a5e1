-- Every operator action is audited, from the console and from the command
-- line (issue 11). A command-line entry has no console operator: its
-- operator_id is NULL and operator holds the actor's name, e.g.
-- "command line (alice)". SQLite cannot drop a NOT NULL constraint, so
-- the table is rebuilt: every row is copied with its id, and the index
-- is made again. Nothing references audit_log.
-- Kept column-for-column equal to the PostgreSQL schema.

CREATE TABLE audit_log_new (
	id          INTEGER PRIMARY KEY,
	operator_id INTEGER REFERENCES operators(id),
	operator    TEXT NOT NULL,
	action      TEXT NOT NULL,
	subject     TEXT NOT NULL,
	detail      TEXT NOT NULL,
	at          INTEGER NOT NULL
);
INSERT INTO audit_log_new (id, operator_id, operator, action, subject, detail, at)
	SELECT id, operator_id, operator, action, subject, detail, at FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_at ON audit_log (at);
