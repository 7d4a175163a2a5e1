package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/thaili/thaili/internal/store/sqlite"
	"github.com/thaili/thaili/internal/store/storetest"
)

// TestUpgrade migrates a database holding data from migration 1 to this
// build's schema one migration at a time (storetest.RunUpgrade).
func TestUpgrade(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "old.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ms, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var versions []int
	for _, m := range ms {
		versions = append(versions, m.Version)
	}
	storetest.RunUpgrade(t, db, versions)
}
