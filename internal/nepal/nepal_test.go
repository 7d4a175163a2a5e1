package nepal

import (
	"testing"
	"time"
)

func TestMinute(t *testing.T) {
	// 18:15 UTC is 00:00 the next day in Nepal.
	if got := Minute(time.Date(2026, 12, 2, 18, 15, 0, 0, time.UTC)); got != "2026-12-03 00:00" {
		t.Errorf("Minute = %q, want 2026-12-03 00:00", got)
	}
}
