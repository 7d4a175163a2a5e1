package site

import (
	"strings"
	"testing"

	"github.com/thaili/thaili/internal/fault"
)

func TestProblemOfFieldsInOrder(t *testing.T) {
	err := &fault.Error{Kind: fault.KindValidation, Detail: "Bad.", TriesRemaining: "2",
		Fields: map[string][]string{"b": {"second"}, "a": {"first"}}}
	p, ok := ProblemOf(err)
	if !ok || p.Status != 400 || p.Detail != "Bad." || strings.Join(p.Fields, "|") != "first|second|Tries remaining: 2" {
		t.Fatalf("validation: %+v %v", p, ok)
	}
	if _, ok := ProblemOf(fault.Internal(nil)); ok {
		t.Fatal("an internal error would be shown")
	}
	if _, ok := ProblemOf(&fault.Error{Kind: fault.KindUnauthorized}); ok {
		t.Fatal("a missing session would be shown as a message instead of sending the browser to log in")
	}
}
