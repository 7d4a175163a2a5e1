// Package sqlstore is the store.Tx implementation shared by the stores
// built on database/sql (SQLite and PostgreSQL). The SQL is written once,
// with "?" placeholders; a Dialect rewrites what differs between the
// databases and maps their errors to the store's sentinel errors.
package sqlstore

import (
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/thaili/thaili/internal/store"
)

// Dialect is what a database contributes to the shared SQL.
type Dialect struct {
	// Numbered turns "?" placeholders into "$1", "$2", ... (PostgreSQL).
	Numbered bool
	// MapErr maps driver errors (unique violations, serialization
	// failures) to store errors; it must return nil for nil.
	MapErr func(error) error

	cache sync.Map // query text -> rebound query text
}

func (d *Dialect) rebind(query string) string {
	if !d.Numbered {
		return query
	}
	if q, ok := d.cache.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	d.cache.Store(query, b.String())
	return b.String()
}

// noRows maps sql.ErrNoRows to store.ErrNotFound.
func noRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
