package sqlite

import (
	"context"

	"github.com/thaili/thaili/internal/store/sqlstore"
)

// CheckSchema reports an error unless the database answers and has
// applied exactly this build's migrations (the readiness probe).
func (db *DB) CheckSchema(ctx context.Context) error {
	ms, err := sqlstore.Migrations(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	return sqlstore.CheckSchema(ctx, db.read, dialect, ms)
}
