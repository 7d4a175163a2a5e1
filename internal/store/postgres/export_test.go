package postgres

import "database/sql"

// ReadPool exposes View's read-only pool to the tests, which hold its
// connections to fill it (View itself holds one only per statement).
func (d *DB) ReadPool() *sql.DB { return d.reads }
