package fault

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestWrap(t *testing.T) {
	if Wrap(nil) != nil {
		t.Error("Wrap(nil) is not nil")
	}
	own := DetailError("Insufficient balance in the wallet.")
	if got := Wrap(fmt.Errorf("confirming: %w", own)); got != own {
		t.Errorf("Wrap of a wrapped *Error = %v, want the *Error itself", got)
	}
	cause := errors.New("pq: password authentication failed for user thaili")
	e := AsError(Wrap(cause))
	if e.Kind != KindInternal || e.Detail != "A server error occurred." || !errors.Is(e, cause) {
		t.Errorf("Wrap(driver error) = %+v; want an internal error keeping the cause for the log only", e)
	}
	e = AsError(Wrap(fmt.Errorf("query: %w", context.Canceled)))
	if e.Kind != KindInternal || e.Detail != "Request cancelled." {
		t.Errorf("Wrap(canceled) = %+v", e)
	}
}

func TestKindStatus(t *testing.T) {
	for k, want := range map[Kind]int{
		KindValidation: 400, KindNotFound: 404, KindUnauthorized: 401, KindConflict: 409,
		KindLocked: 400, KindTooLarge: 413, KindInternal: 500, KindUnsupportedMedia: 415,
		KindThrottled: 429, Kind(0): 500, Kind(99): 500,
	} {
		if got := k.Status(); got != want {
			t.Errorf("Kind(%d).Status() = %d, want %d", k, got, want)
		}
	}
}
