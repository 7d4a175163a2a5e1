package main

import (
	"bytes"
	"database/sql"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store/postgres/pgtest"
)

// TestRedirectKeysSealedAtRest reads api_keys with plain SQL: a new
// secret key's redirect signing key is stored only sealed; a key stored
// in clear the way older versions did is sealed by `thaili serve` when it
// starts, and its redirects still verify with the merchant's secret key;
// a sealed key that does not open leaves the redirect unsigned, never a
// 5xx for the payer.
func TestRedirectKeysSealedAtRest(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "thaili.db")
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		redirectKeysAtRest(t, path, nil, db, "?")
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		u := pgtest.NewDatabase(t)
		db, err := sql.Open("pgx", u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		(&testServer{DB: u, env: pgEnv}).cliOK(t, "migrate")
		redirectKeysAtRest(t, u, pgEnv, db, "$1")
	})
}

// redirectKeysAtRest runs TestRedirectKeysSealedAtRest on the database
// dbURL, which sqlDB reads directly; param is its first placeholder.
func redirectKeysAtRest(t *testing.T, dbURL string, env map[string]string, sqlDB *sql.DB, param string) {
	clear := identity.RedirectSigningKey(testSK)
	// onlySealed fails unless every secret key's signing key is sealed.
	onlySealed := func(when string) {
		t.Helper()
		rows, err := sqlDB.Query(`SELECT signing_key, signing_key_sealed FROM api_keys WHERE kind = 'secret'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var inClear, sealed []byte
			if err := rows.Scan(&inClear, &sealed); err != nil {
				t.Fatal(err)
			}
			if inClear != nil || len(sealed) == 0 || bytes.Contains(sealed, clear) {
				t.Fatalf("%s: signing_key %x, signing_key_sealed %x; want only a sealed key", when, inClear, sealed)
			}
			n++
		}
		if err := rows.Err(); err != nil || n == 0 {
			t.Fatalf("%s: %d secret keys, %v", when, n, err)
		}
	}
	exec := func(query string, arg []byte) {
		t.Helper()
		res, err := sqlDB.Exec(strings.ReplaceAll(query, "?", param), arg)
		if n, _ := res.RowsAffected(); err != nil || n != 1 {
			t.Fatalf("%s: %v (%d rows)", query, err, n)
		}
	}
	pre := &testServer{DB: dbURL, env: env}
	pre.cliOK(t, "migrate")
	pre.cliOK(t, "sandbox", "seed")
	onlySealed("a new key")

	// The sandbox key as versions before sealing stored it.
	exec(`UPDATE api_keys SET signing_key = ?, signing_key_sealed = NULL WHERE kind = 'secret' AND book = 'test'`, clear)
	s := startServerDB(t, dbURL, env, "--sign-redirects")
	if !strings.Contains(s.Stderr.String(), `msg="sealed redirect signing keys stored in clear" count=1`) {
		t.Fatalf("serve did not report sealing the clear key:\n%s", s.Stderr.String())
	}
	onlySealed("after serve started")

	pay := func() url.Values {
		t.Helper()
		p := newPage(t, s)
		pidx, path := initiateEPayment(t, s)
		token := csrf(t, p.get(path))
		p.post("/pay/"+pidx+"/signin", url.Values{"csrf": {token}, "mobile": {"9800000002"}, "mpin": {"1111"}})
		q := redirectQuery(t, p.post("/pay/"+pidx+"/confirm", url.Values{"csrf": {token}, "code": {"987654"}, "mpin": {"1111"}}))
		if q.Get("status") != "Completed" || q.Get("pidx") != pidx {
			t.Fatalf("redirect query %v", q)
		}
		return q
	}
	if q := pay(); !payment.VerifyRedirect(testSK, q) {
		t.Fatalf("the redirect signed with the resealed key does not verify: %v", q)
	}

	// A sealed key that no longer opens: the payer is still sent back,
	// unsigned, and the server logs why.
	exec(`UPDATE api_keys SET signing_key_sealed = ? WHERE kind = 'secret' AND book = 'test'`, bytes.Repeat([]byte{7}, 60))
	if q := pay(); q.Has("signature") || q.Has("signed_field_names") {
		t.Fatalf("a redirect was signed with a key that does not open: %v", q)
	}
	if !strings.Contains(s.Stderr.String(), "finding the redirect signing key") {
		t.Fatalf("the failure to open the signing key was not logged:\n%s", s.Stderr.String())
	}
}
