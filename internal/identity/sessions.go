package identity

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/store"
)

// sessionTable adapts one kind of signed-in principal's session table
// (merchants, consumers, operators), so the rules for starting, resuming
// and ending sessions are written once.
type sessionTable struct {
	create func(ctx context.Context, tx store.Tx, idHash string, owner int64, now time.Time) error
	get    func(ctx context.Context, tx store.Tx, idHash string) (owner int64, created, lastSeen time.Time, err error)
	touch  func(ctx context.Context, tx store.Tx, idHash string, now time.Time) error
	remove func(ctx context.Context, tx store.Tx, idHash string) error
}

func merchantSessions() sessionTable {
	return sessionTable{
		create: func(ctx context.Context, tx store.Tx, h string, owner int64, now time.Time) error {
			return tx.CreateSession(ctx, store.Session{IDHash: h, MerchantID: owner, CreatedAt: now, LastSeenAt: now})
		},
		get: func(ctx context.Context, tx store.Tx, h string) (int64, time.Time, time.Time, error) {
			s, err := tx.Session(ctx, h)
			return s.MerchantID, s.CreatedAt, s.LastSeenAt, err
		},
		touch: func(ctx context.Context, tx store.Tx, h string, now time.Time) error {
			return tx.TouchSession(ctx, h, now)
		},
		remove: func(ctx context.Context, tx store.Tx, h string) error { return tx.DeleteSession(ctx, h) },
	}
}

func consumerSessions() sessionTable {
	return sessionTable{
		create: func(ctx context.Context, tx store.Tx, h string, owner int64, now time.Time) error {
			return tx.CreateConsumerSession(ctx, store.ConsumerSession{IDHash: h, ConsumerID: owner, CreatedAt: now, LastSeenAt: now})
		},
		get: func(ctx context.Context, tx store.Tx, h string) (int64, time.Time, time.Time, error) {
			s, err := tx.ConsumerSession(ctx, h)
			return s.ConsumerID, s.CreatedAt, s.LastSeenAt, err
		},
		touch: func(ctx context.Context, tx store.Tx, h string, now time.Time) error {
			return tx.TouchConsumerSession(ctx, h, now)
		},
		remove: func(ctx context.Context, tx store.Tx, h string) error { return tx.DeleteConsumerSession(ctx, h) },
	}
}

func operatorSessions() sessionTable {
	return sessionTable{
		create: func(ctx context.Context, tx store.Tx, h string, owner int64, now time.Time) error {
			return tx.CreateOperatorSession(ctx, store.OperatorSession{IDHash: h, OperatorID: owner, CreatedAt: now, LastSeenAt: now})
		},
		get: func(ctx context.Context, tx store.Tx, h string) (int64, time.Time, time.Time, error) {
			s, err := tx.OperatorSession(ctx, h)
			return s.OperatorID, s.CreatedAt, s.LastSeenAt, err
		},
		touch: func(ctx context.Context, tx store.Tx, h string, now time.Time) error {
			return tx.TouchOperatorSession(ctx, h, now)
		},
		remove: func(ctx context.Context, tx store.Tx, h string) error { return tx.DeleteOperatorSession(ctx, h) },
	}
}

// startSessionTx records a new session for owner in tx and returns its
// id (32 random bytes, base64url) for the cookie; only its hash is
// stored. It is called only in the transaction that checked the proof
// the session starts from, so no session exists without one.
func (s *Service) startSessionTx(ctx context.Context, tx store.Tx, t sessionTable, owner int64) (string, error) {
	var b [32]byte
	if _, err := io.ReadFull(s.ids.Rand, b[:]); err != nil {
		return "", err
	}
	id := base64.RawURLEncoding.EncodeToString(b[:])
	return id, t.create(ctx, tx, sessionHash(id), owner, s.now())
}

// resumeSession returns the owner of session id. An unknown, idle
// (SessionIdle) or too old (SessionLifetime) session is KindUnauthorized,
// and an expired one is deleted; last-seen is written at most every
// sessionTouch.
func (s *Service) resumeSession(ctx context.Context, t sessionTable, id string) (int64, error) {
	unauthorized := &fault.Error{Kind: fault.KindUnauthorized, Detail: "Sign in first."}
	if id == "" || len(id) > 100 {
		return 0, unauthorized
	}
	h, now := sessionHash(id), s.now()
	var owner int64
	var created, lastSeen time.Time
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		owner, created, lastSeen, err = t.get(ctx, tx, h)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return 0, unauthorized
	}
	if err != nil {
		return 0, fault.Wrap(err)
	}
	if now.Sub(lastSeen) > SessionIdle || now.Sub(created) > SessionLifetime {
		s.endSession(ctx, t, id)
		return 0, unauthorized
	}
	if now.Sub(lastSeen) > sessionTouch {
		err := s.store.InTx(ctx, func(tx store.Tx) error { return t.touch(ctx, tx, h, now) })
		if errors.Is(err, store.ErrNotFound) {
			return 0, unauthorized
		}
		if err != nil {
			return 0, fault.Wrap(err)
		}
	}
	return owner, nil
}

// endSession deletes one session.
func (s *Service) endSession(ctx context.Context, t sessionTable, id string) error {
	return fault.Wrap(s.store.InTx(ctx, func(tx store.Tx) error { return t.remove(ctx, tx, sessionHash(id)) }))
}
