package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one numbered step of a schema: the file NNNN_name.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations reads the migrations in dir of fsys (files NNNN_name.sql),
// in order of their numbers. Numbers may have gaps (branches reserve
// them) but not repeats.
func Migrations(fsys fs.FS, dir string) ([]Migration, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	var out []Migration
	seen := map[int]string{}
	for _, name := range names {
		num, _, _ := strings.Cut(path.Base(name), "_")
		v, err := strconv.Atoi(num)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: the name must start with its number", name)
		}
		if other, ok := seen[v]; ok {
			return nil, fmt.Errorf("migrations %s and %s have the same number", other, name)
		}
		seen[v] = name
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: path.Base(name), SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// UpTo is the migrations of ms up to and including version; all of them
// if version is 0.
func UpTo(ms []Migration, version int) []Migration {
	if version == 0 {
		return ms
	}
	var out []Migration
	for _, m := range ms {
		if m.Version <= version {
			out = append(out, m)
		}
	}
	return out
}

// migrationLock is the advisory lock key that makes processes migrating
// one PostgreSQL database at once take turns (Dialect.KeyLocks).
const migrationLock = 7_465_632_001

// Migrate applies the migrations of ms that db has not applied, each in
// its own transaction together with its row in schema_migrations, and
// returns how many it applied. It refuses a database that has applied a
// migration ms does not know: a newer thaili migrated it. Where the
// dialect has key locks (PostgreSQL) each transaction first takes an
// advisory lock, so several processes may migrate one database at once.
func Migrate(ctx context.Context, db *sql.DB, d *Dialect, ms []Migration) (int, error) {
	have, err := appliedVersions(ctx, db, d)
	if err != nil {
		return 0, err
	}
	if err := unknownApplied(have, ms); err != nil {
		return 0, err
	}
	applied := 0
	for _, m := range ms {
		done, err := applyMigration(ctx, db, d, m)
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if done {
			applied++
		}
	}
	return applied, nil
}

// applyMigration runs m unless it was applied (by another process, too,
// when the lock made this one wait), and reports whether it ran it.
func applyMigration(ctx context.Context, db *sql.DB, d *Dialect, m Migration) (bool, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if d.KeyLocks {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return false, err
		}
	}
	// Under the lock: two processes creating the table at once would clash.
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)`); err != nil {
		return false, err
	}
	var n int
	if err := tx.QueryRowContext(ctx, d.rebind(`SELECT count(*) FROM schema_migrations WHERE version = ?`), m.Version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, d.rebind(`INSERT INTO schema_migrations (version) VALUES (?)`), m.Version); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// CheckSchema reports an error unless db has applied exactly ms: one
// that lacks a migration needs `thaili migrate`, one that has a migration
// ms does not know needs a newer thaili.
func CheckSchema(ctx context.Context, db *sql.DB, d *Dialect, ms []Migration) error {
	have, err := appliedVersions(ctx, db, d)
	if err != nil {
		return err
	}
	if err := unknownApplied(have, ms); err != nil {
		return err
	}
	for _, m := range ms {
		if !have[m.Version] {
			return fmt.Errorf("the database lacks migration %d (%s): run `thaili migrate` first", m.Version, m.Name)
		}
	}
	return nil
}

func unknownApplied(have map[int]bool, ms []Migration) error {
	known := map[int]bool{}
	for _, m := range ms {
		known[m.Version] = true
	}
	var unknown []int
	for v := range have {
		if !known[v] {
			unknown = append(unknown, v)
		}
	}
	if len(unknown) > 0 {
		sort.Ints(unknown)
		return fmt.Errorf("the database schema has migration %d, which this thaili does not know: upgrade thaili", unknown[0])
	}
	return nil
}

// appliedVersions reads schema_migrations; a database without it has
// applied nothing.
func appliedVersions(ctx context.Context, db *sql.DB, d *Dialect) (map[int]bool, error) {
	have := map[int]bool{}
	var n int
	if err := db.QueryRowContext(ctx, d.rebind(d.TableExists), "schema_migrations").Scan(&n); err != nil {
		return nil, fmt.Errorf("reading the schema version: %w", err)
	}
	if n == 0 {
		return have, nil
	}
	rows, err := db.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	versions, err := collect(rows, err, func(row scanner) (int, error) {
		var v int
		return v, row.Scan(&v)
	})
	if err != nil {
		return nil, fmt.Errorf("reading the schema version: %w", err)
	}
	for _, v := range versions {
		have[v] = true
	}
	return have, nil
}
