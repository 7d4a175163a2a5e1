package site

import (
	"sort"
	"time"

	"github.com/thaili/thaili/internal/fault"
)

// Problem is a service error as a page shows it.
type Problem struct {
	Status     int           // fault.Kind.Status: the same status the API answers
	Detail     string        // the service's message
	Fields     []string      // per-field messages, in field order
	RetryAfter time.Duration // for a throttled client: when to try again
}

// ProblemOf turns a service error into what a page shows, with the status
// the API gives the same error (fault.Kind.Status), so a page and the API
// never disagree: a wrong form is 400, an unknown subject 404, a clash 409,
// a locked wallet 400 with its message, a throttled client 429. ok is false
// for internal errors and a missing session, which pages never show as a
// message (they log the one and send the other to log in).
func ProblemOf(err error) (p Problem, ok bool) {
	e := fault.AsError(err)
	switch e.Kind {
	case fault.KindValidation, fault.KindConflict, fault.KindLocked, fault.KindNotFound, fault.KindThrottled, fault.KindTooLarge:
	default:
		return Problem{}, false
	}
	p = Problem{Status: e.Kind.Status(), Detail: e.Detail, RetryAfter: e.RetryAfter}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p.Fields = append(p.Fields, e.Fields[k]...)
	}
	if e.TriesRemaining != "" {
		p.Fields = append(p.Fields, "Tries remaining: "+e.TriesRemaining)
	}
	return p, true
}
