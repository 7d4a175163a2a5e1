package postgres_test

import (
	"testing"

	"github.com/thaili/thaili/internal/store/postgres"
	"github.com/thaili/thaili/internal/store/storetest"
)

// TestUpgrade migrates a database holding data from migration 1 to this
// build's schema one migration at a time (storetest.RunUpgrade).
func TestUpgrade(t *testing.T) {
	db := open(t, false)
	ms, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var versions []int
	for _, m := range ms {
		versions = append(versions, m.Version)
	}
	storetest.RunUpgrade(t, db, versions)
}
