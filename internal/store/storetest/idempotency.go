package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/store"
)

func testIdempotency(t *testing.T, s store.Store) {
	ctx := context.Background()
	const lease = 10 * time.Second
	// begin claims r's key at r.CreatedAt, with a lease until then + lease.
	begin := func(r store.IdempotencyRecord) error {
		r.LeaseUntil = r.CreatedAt.Add(lease)
		return s.InTx(ctx, func(tx store.Tx) error { return tx.BeginIdempotency(ctx, &r, r.CreatedAt) })
	}
	renew := func(scope, key string, createdAt, until time.Time) error {
		return s.InTx(ctx, func(tx store.Tx) error { return tx.RenewIdempotency(ctx, scope, key, createdAt, until) })
	}
	get := func(scope, key string) (store.IdempotencyRecord, error) {
		var r store.IdempotencyRecord
		err := s.View(ctx, func(tx store.Tx) error {
			var err error
			r, err = tx.Idempotency(ctx, scope, key)
			return err
		})
		return r, err
	}

	first := store.IdempotencyRecord{Scope: "secret:1:test", Key: "order-1", RequestHash: "h1", CreatedAt: base}
	if err := begin(first); err != nil {
		t.Fatalf("BeginIdempotency: %v", err)
	}
	_, err := get("secret:1:test", "missing")
	wantErr(t, "Idempotency(missing)", err, store.ErrNotFound)
	got, err := get(first.Scope, first.Key)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "running row", got, store.IdempotencyRecord{Scope: first.Scope, Key: first.Key, RequestHash: "h1",
		ResponseBody: []byte{}, CreatedAt: base, LeaseUntil: base.Add(lease)})

	// The same key again is a duplicate while the row's lease holds, whatever the hash.
	again := store.IdempotencyRecord{Scope: first.Scope, Key: first.Key, RequestHash: "h2", CreatedAt: base.Add(time.Second)}
	wantErr(t, "BeginIdempotency(duplicate)", begin(again), store.ErrDuplicate)
	// Another scope or another key is independent.
	for _, r := range []store.IdempotencyRecord{
		{Scope: "secret:1:live", Key: "order-1", RequestHash: "h3", CreatedAt: base},
		{Scope: "public:1:test", Key: "order-1", RequestHash: "h4", CreatedAt: base},
		{Scope: "secret:1:test", Key: "order-2", RequestHash: "h5", CreatedAt: base},
	} {
		if err := begin(r); err != nil {
			t.Fatalf("BeginIdempotency(%s %s): %v", r.Scope, r.Key, err)
		}
	}

	// Completing stores the response byte for byte; only the running row
	// created at that instant completes.
	done := first
	done.ResponseStatus, done.ResponseHeaders = 200, `{"Content-Type":["application/json"]}`
	done.ResponseBody, done.CompletedAt = []byte("{\"pidx\":\"x\"}\n\x00\xff"), base.Add(2*time.Second)
	wrong := done
	wrong.CreatedAt = base.Add(time.Microsecond)
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.CompleteIdempotency(ctx, &wrong) })
	wantErr(t, "CompleteIdempotency(other created_at)", err, store.ErrNotFound)
	inTx(t, s, func(tx store.Tx) error { return tx.CompleteIdempotency(ctx, &done) })
	got, err = get(first.Scope, first.Key)
	if err != nil {
		t.Fatal(err)
	}
	done.Completed, done.LeaseUntil = true, base.Add(lease)
	same(t, "completed row", got, done)
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.CompleteIdempotency(ctx, &done) })
	wantErr(t, "CompleteIdempotency(twice)", err, store.ErrNotFound)
	// A completed row is never taken over nor renewed, however old.
	late := again
	late.CreatedAt = base.Add(time.Hour)
	wantErr(t, "BeginIdempotency(completed, lease ended)", begin(late), store.ErrDuplicate)
	wantErr(t, "RenewIdempotency(completed)", renew(first.Scope, first.Key, base, base.Add(time.Hour)), store.ErrNotFound)
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.DeleteIdempotency(ctx, first.Scope, first.Key, base) })
	wantErr(t, "DeleteIdempotency(completed)", err, store.ErrNotFound)

	// Renewing moves the lease of the running row created at that
	// instant; anything else is ErrNotFound.
	wantErr(t, "RenewIdempotency(other created_at)", renew("secret:1:test", "order-2", base.Add(time.Second), base.Add(time.Minute)), store.ErrNotFound)
	wantErr(t, "RenewIdempotency(missing)", renew("secret:1:test", "missing", base, base.Add(time.Minute)), store.ErrNotFound)
	if err := renew("secret:1:test", "order-2", base, base.Add(time.Minute)); err != nil {
		t.Fatalf("RenewIdempotency: %v", err)
	}
	got, _ = get("secret:1:test", "order-2")
	same(t, "renewed", got, store.IdempotencyRecord{Scope: "secret:1:test", Key: "order-2", RequestHash: "h5",
		ResponseBody: []byte{}, CreatedAt: base, LeaseUntil: base.Add(time.Minute)})
	// A running row without effects is taken over by a new request once
	// its lease ended before now, not at its end nor before.
	takeover := store.IdempotencyRecord{Scope: "secret:1:test", Key: "order-2", RequestHash: "h6", CreatedAt: base.Add(time.Minute)}
	for _, at := range []time.Time{base.Add(lease + time.Second), base.Add(time.Minute)} {
		r := takeover
		r.CreatedAt = at
		wantErr(t, "BeginIdempotency(running, lease holds at "+at.Format(time.TimeOnly)+")", begin(r), store.ErrDuplicate)
	}
	takeover.CreatedAt = base.Add(time.Minute + time.Microsecond)
	if err := begin(takeover); err != nil {
		t.Fatalf("BeginIdempotency(take over): %v", err)
	}
	got, _ = get(takeover.Scope, takeover.Key)
	same(t, "taken over", got, store.IdempotencyRecord{Scope: takeover.Scope, Key: takeover.Key, RequestHash: "h6",
		ResponseBody: []byte{}, CreatedAt: takeover.CreatedAt, LeaseUntil: takeover.CreatedAt.Add(lease)})
	// The request taken over can no longer renew.
	wantErr(t, "RenewIdempotency(taken over)", renew(takeover.Scope, takeover.Key, base, base.Add(time.Hour)), store.ErrNotFound)

	// Delete removes only the running row created at that instant.
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.DeleteIdempotency(ctx, takeover.Scope, takeover.Key, base) })
	wantErr(t, "DeleteIdempotency(other created_at)", err, store.ErrNotFound)
	inTx(t, s, func(tx store.Tx) error {
		return tx.DeleteIdempotency(ctx, takeover.Scope, takeover.Key, takeover.CreatedAt)
	})
	_, err = get(takeover.Scope, takeover.Key)
	wantErr(t, "Idempotency(deleted)", err, store.ErrNotFound)
	if err := begin(takeover); err != nil {
		t.Fatalf("BeginIdempotency(after delete): %v", err)
	}

	// A row marked with effects (in the request's own transaction) is never
	// taken over nor deleted, however long ago its lease ended; marking a
	// row that is not the caller's running claim is ErrNotFound, which
	// fences out a request whose key a retry took over.
	worked := store.IdempotencyRecord{Scope: "secret:1:test", Key: "order-3", RequestHash: "h7", CreatedAt: base}
	if err := begin(worked); err != nil {
		t.Fatal(err)
	}
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.MarkIdempotencyEffects(ctx, worked.Scope, worked.Key, base.Add(time.Second))
	})
	wantErr(t, "MarkIdempotencyEffects(other created_at)", err, store.ErrNotFound)
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.MarkIdempotencyEffects(ctx, first.Scope, first.Key, base) })
	wantErr(t, "MarkIdempotencyEffects(completed)", err, store.ErrNotFound)
	for i := 0; i < 2; i++ { // a request may commit several transactions
		inTx(t, s, func(tx store.Tx) error { return tx.MarkIdempotencyEffects(ctx, worked.Scope, worked.Key, base) })
	}
	got, _ = get(worked.Scope, worked.Key)
	same(t, "marked", got, store.IdempotencyRecord{Scope: worked.Scope, Key: worked.Key, RequestHash: "h7", Effects: true,
		ResponseBody: []byte{}, CreatedAt: base, LeaseUntil: base.Add(lease)})
	// Its request, still running, may renew.
	if err := renew(worked.Scope, worked.Key, base, base.Add(2*lease)); err != nil {
		t.Fatalf("RenewIdempotency(effects): %v", err)
	}
	retry := worked
	retry.CreatedAt = base.Add(time.Hour)
	wantErr(t, "BeginIdempotency(effects, lease ended)", begin(retry), store.ErrDuplicate)
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.DeleteIdempotency(ctx, worked.Scope, worked.Key, base) })
	wantErr(t, "DeleteIdempotency(effects)", err, store.ErrNotFound)
	worked.ResponseStatus, worked.ResponseBody, worked.CompletedAt = 200, []byte("{}"), base.Add(time.Second)
	inTx(t, s, func(tx store.Tx) error { return tx.CompleteIdempotency(ctx, &worked) })
	got, _ = get(worked.Scope, worked.Key)
	if !got.Completed || !got.Effects || string(got.ResponseBody) != "{}" {
		t.Errorf("completed after effects: %+v", got)
	}
	// A failed mark rolls the caller's writes back with it.
	err = s.InTx(ctx, func(tx store.Tx) error {
		if err := tx.BeginIdempotency(ctx, &store.IdempotencyRecord{Scope: "secret:1:test", Key: "order-4", RequestHash: "h8",
			CreatedAt: base, LeaseUntil: base.Add(lease)}, base); err != nil {
			return err
		}
		return tx.MarkIdempotencyEffects(ctx, "secret:1:test", "order-4", base.Add(time.Second))
	})
	wantErr(t, "a fenced transaction", err, store.ErrNotFound)
	_, err = get("secret:1:test", "order-4")
	wantErr(t, "Idempotency(rolled back)", err, store.ErrNotFound)

	// Purge removes rows created before the cut-off.
	var n int
	inTx(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.PurgeIdempotency(ctx, base.Add(time.Minute))
		return err
	})
	same(t, "purged", n, 4)
	for _, k := range [][2]string{{first.Scope, first.Key}, {"secret:1:live", "order-1"}, {"public:1:test", "order-1"}} {
		_, err = get(k[0], k[1])
		wantErr(t, "Idempotency(purged "+k[0]+")", err, store.ErrNotFound)
	}
	if _, err := get(takeover.Scope, takeover.Key); err != nil {
		t.Errorf("a row newer than the cut-off was purged: %v", err)
	}
}
