package sqlite

import (
	"context"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// CheckSchema reports an error unless the database answers and has
// applied exactly this build's migrations (the readiness probe).
func (db *DB) CheckSchema(ctx context.Context) error {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return err
	}
	want := map[int]bool{}
	for _, name := range names {
		num, _, _ := strings.Cut(strings.TrimPrefix(name, "migrations/"), "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: bad number", name)
		}
		want[v] = true
	}
	rows, err := db.read.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("sqlite: reading the schema version: %w", err)
	}
	defer rows.Close()
	have := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return fmt.Errorf("sqlite: reading the schema version: %w", err)
		}
		if !want[v] {
			return fmt.Errorf("the database schema has migration %d, which this thaili does not know: upgrade thaili", v)
		}
		have[v] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: reading the schema version: %w", err)
	}
	for v := range want {
		if !have[v] {
			return fmt.Errorf("the database lacks migration %d: run `thaili migrate`", v)
		}
	}
	return nil
}
