package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/thaili/thaili/internal/store/sqlite"
)

// TestPathWithURICharacters opens databases whose paths hold characters
// that mean something in a file: URI. Each must be its own file at
// exactly that path, not a truncated one shared with the others.
func TestPathWithURICharacters(t *testing.T) {
	dir := t.TempDir()
	// Every name must be a new file: migrating it applies every migration,
	// as many as a plain fresh file gets.
	fresh, err := sqlite.Open(filepath.Join(dir, "fresh.db"))
	if err != nil {
		t.Fatal(err)
	}
	all, err := fresh.Migrate(context.Background())
	fresh.Close()
	if err != nil || all < 1 {
		t.Fatalf("fresh file: %d, %v", all, err)
	}
	for _, name := range []string{"a#1.db", "a?2.db", "a%233.db", "a%3F4.db", "a 5.db"} {
		path := filepath.Join(dir, name)
		db, err := sqlite.Open(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n, err := db.Migrate(context.Background()); err != nil || n != all {
			t.Errorf("%s: migrate applied %d, %v; want %d on a new file", name, n, err, all)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() == "a" {
			t.Errorf("a stray database %q was created", e.Name())
		}
	}
}
