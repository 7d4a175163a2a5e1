package sqlite_test

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/store/sqlite"
)

// TestAuditMigrationKeepsRows builds a database at the schema before
// migration 15 (audit_log.operator_id NOT NULL), writes audit entries,
// then migrates: migration 15 rebuilds the table, and must keep every row
// with its id, keep the index, and accept entries without an operator.
func TestAuditMigrationKeepsRows(t *testing.T) {
	ctx := context.Background()
	at := func(us int64) time.Time { return time.UnixMicro(us).UTC() }
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.MigrateTo(ctx, 14); err != nil {
		t.Fatal(err)
	}
	raw := db.SQL()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := raw.Exec(`INSERT INTO audit_log (operator_id, operator, action, subject, detail, at) VALUES (NULL, 'x', 'a', 's', 'd', 1)`); err == nil {
		t.Fatal("the schema before migration 15 accepted an entry without an operator: the test does not start from the old schema")
	}
	exec(`INSERT INTO operators (id, email, password_hash, created_at) VALUES (3, 'ops@example.com', 'h', 1)`)
	exec(`INSERT INTO audit_log (id, operator_id, operator, action, subject, detail, at) VALUES (1, 3, 'ops@example.com', 'login', 'ops@example.com', '', 100)`)
	exec(`INSERT INTO audit_log (id, operator_id, operator, action, subject, detail, at) VALUES (7, 3, 'ops@example.com', 'wallet.topup', '9841000001', '5000 paisa, test book; balance 5000 paisa', 200)`)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var got []store.AuditEntry
	err = db.InTx(ctx, func(tx store.Tx) error {
		e := store.AuditEntry{Operator: "command line (alice)", Action: "keys.rotate", Subject: "m", Detail: "test book", At: at(300)}
		if err := tx.AddAudit(ctx, &e); err != nil {
			return err
		}
		got, err = tx.AuditLog(ctx, 10)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []store.AuditEntry{
		{ID: 8, Operator: "command line (alice)", Action: "keys.rotate", Subject: "m", Detail: "test book", At: at(300)},
		{ID: 7, OperatorID: 3, Operator: "ops@example.com", Action: "wallet.topup", Subject: "9841000001", Detail: "5000 paisa, test book; balance 5000 paisa", At: at(200)},
		{ID: 1, OperatorID: 3, Operator: "ops@example.com", Action: "login", Subject: "ops@example.com", At: at(100)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("audit log after migration 15:\n got  %+v\n want %+v", got, want)
	}
	var index string
	if err := raw.QueryRow(`SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'audit_log_at'`).Scan(&index); err != nil {
		t.Fatalf("index audit_log_at after migration 15: %v", err)
	}
	if !strings.Contains(index, "ON audit_log (at)") {
		t.Fatalf("index audit_log_at is %q", index)
	}
	var leftovers int
	if err := raw.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'audit_log_new'`).Scan(&leftovers); err != nil || leftovers != 0 {
		t.Fatalf("audit_log_new left behind: %d, %v", leftovers, err)
	}
}
