package store

import (
	"context"
	"errors"
	"testing"
)

func TestRetry(t *testing.T) {
	ctx := context.Background()
	calls := 0
	err := Retry(ctx, func() error {
		if calls++; calls < 3 {
			return ErrConflict
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Errorf("Retry after two conflicts: %v after %d calls, want nil after 3", err, calls)
	}
	calls = 0
	other := errors.New("boom")
	if err := Retry(ctx, func() error { calls++; return other }); err != other || calls != 1 {
		t.Errorf("Retry of another error: %v after %d calls, want it at once", err, calls)
	}
	calls = 0
	if err := Retry(ctx, func() error { calls++; return ErrConflict }); !errors.Is(err, ErrConflict) || calls != 10 {
		t.Errorf("Retry of endless conflicts: %v after %d calls, want ErrConflict after 10", err, calls)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	calls = 0
	if err := Retry(canceled, func() error { calls++; return ErrConflict }); !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("Retry with a canceled context: %v after %d calls", err, calls)
	}
}
