-- Every operator action is audited, from the console and from the command
-- line (issue 11). A command-line entry has no console operator: its
-- operator_id is NULL and operator holds the actor's name, e.g.
-- "command line (alice)".
-- Kept column-for-column equal to the SQLite schema.

ALTER TABLE audit_log ALTER COLUMN operator_id DROP NOT NULL;
