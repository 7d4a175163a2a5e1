package payment_test

import (
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store"
)

func TestSetFeeScheduleRules(t *testing.T) {
	f := newLC(t)
	op, err := f.id.CreateOperator(f.ctx, testActor, "ops@thaili.example", "a long operator password")
	if err != nil {
		t.Fatal(err)
	}
	idx := f.sandbox.Merchant.Idx
	tier := func(min, max money.Paisa, bps int64, flat money.Paisa) store.FeeTier {
		return store.FeeTier{MinAmount: min, MaxAmount: max, PercentBps: bps, Flat: flat}
	}
	seven := make([]store.FeeTier, 7)
	for i := range seven {
		seven[i] = tier(money.Paisa(1000*i+1), money.Paisa(1000*i+1000), 100, 0)
	}
	seven[0].MinAmount, seven[6].MaxAmount = 0, 0
	for _, c := range []struct {
		name  string
		tiers []store.FeeTier
		msg   string
	}{
		{"none", nil, "Give at least one tier."},
		{"too many", seven, "A schedule has at most 6 tiers."},
		{"starts above the minimum", []store.FeeTier{tier(1001, 0, 300, 0)}, "The first tier must start at or below the minimum payment, Rs 10.00."},
		{"negative flat", []store.FeeTier{tier(1000, 0, 300, -1)}, "Tier 1: amounts and rates cannot be negative."},
		{"over 100%", []store.FeeTier{tier(1000, 0, 10001, 0)}, "Tier 1: the percentage cannot exceed 100%."},
		{"flat too big", []store.FeeTier{tier(1000, 0, 0, 1_000_001)}, "Tier 1: the flat fee cannot exceed Rs 10,000.00."},
		{"huge amount", []store.FeeTier{tier(1000, money.Max+1, 0, 0), tier(money.Max+2, 0, 0, 0)}, "Tier 1: amounts cannot exceed Rs 1,00,00,00,00,000.00."},
		{"ends before it starts", []store.FeeTier{tier(1000, 900, 0, 0), tier(901, 0, 0, 0)}, "Tier 1: it ends (Rs 9.00) before it starts (Rs 10.00)."},
		{"open tier first", []store.FeeTier{tier(1000, 0, 0, 0), tier(5001, 0, 0, 0)}, "Tier 1: only the last tier may have no upper limit."},
		{"bounded last tier", []store.FeeTier{tier(1000, 5000, 0, 0)}, "Tier 1: the last tier must have no upper limit, so that every amount has a fee."},
		{"gap", []store.FeeTier{tier(1000, 5000, 0, 0), tier(5002, 0, 0, 0)}, "Tier 2 must start at Rs 50.01, one paisa after tier 1 ends."},
		{"overlap", []store.FeeTier{tier(1000, 5000, 0, 0), tier(4000, 0, 0, 0)}, "Tier 2 must start at Rs 50.01, one paisa after tier 1 ends."},
	} {
		_, err := f.svc.SetFeeSchedule(f.ctx, identity.ConsoleOperator(op), idx, ledger.Test, c.tiers)
		wantField(t, err, "tiers", c.msg)
	}
	_, err = f.svc.SetFeeSchedule(f.ctx, identity.ConsoleOperator(op), idx, "gold", []store.FeeTier{tier(1000, 0, 0, 0)})
	wantField(t, err, "book", "Book must be test or live.")
	_, err = f.svc.SetFeeSchedule(f.ctx, identity.ConsoleOperator(op), "no-such-merchant", ledger.Test, []store.FeeTier{tier(1000, 0, 0, 0)})
	if fault.AsError(err).Kind != fault.KindNotFound {
		t.Fatalf("unknown merchant: %v", err)
	}
	before, err := f.svc.ShowMerchant(f.ctx, testActor, idx)
	if err != nil {
		t.Fatal(err)
	}
	if got := payment.DescribeFees(before.Fees[ledger.Test]); got != "Rs 10.00 and up: 3.00% + Rs 0.00" {
		t.Fatalf("refused changes altered the schedule: %s", got)
	}

	// A valid schedule applies to payments initiated after it, and is audited.
	if _, err := f.svc.Topup(f.ctx, testActor, lcMobile, ledger.Test, 5000); err != nil {
		t.Fatal(err)
	}
	token := f.initiate(t, 2500) // priced under the old schedule: 3%
	schedule := []store.FeeTier{tier(0, 2000, 0, 100), tier(2001, 0, 150, 25)}
	if _, err := f.svc.SetFeeSchedule(f.ctx, identity.ConsoleOperator(op), idx, ledger.Test, schedule); err != nil {
		t.Fatal(err)
	}
	after, err := f.svc.ShowMerchant(f.ctx, testActor, idx)
	if err != nil {
		t.Fatal(err)
	}
	const want = "Rs 0.00 to Rs 20.00: 0.00% + Rs 1.00; Rs 20.01 and up: 1.50% + Rs 0.25"
	if got := payment.DescribeFees(after.Fees[ledger.Test]); got != want {
		t.Fatalf("schedule = %s, want %s", got, want)
	}
	if got := payment.DescribeFees(after.Fees[ledger.Live]); got != "Rs 10.00 and up: 3.00% + Rs 0.00" {
		t.Fatalf("live schedule changed too: %s", got)
	}
	for _, c := range []struct {
		token  string
		amount money.Paisa
		fee    money.Paisa
	}{{token, 2500, 75}, {f.initiate(t, 2500), 2500, 63}, {f.initiate(t, 1500), 1500, 100}} {
		if _, err := f.confirm(c.token, "987654"); err != nil {
			t.Fatal(err)
		}
		tr, err := f.svc.Verify(f.ctx, f.caller, c.token, c.amount)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Payment.FeeAmount != c.fee {
			t.Errorf("fee on %d = %d, want %d", c.amount, tr.Payment.FeeAmount, c.fee)
		}
	}
	audit, err := f.id.AuditLog(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, e := range audit {
		if e.Action == identity.AuditFees {
			found = e.Subject == idx && e.Operator == op.Email &&
				e.Detail == "test book: "+want+" (was Rs 10.00 and up: 3.00% + Rs 0.00)"
			if !found {
				t.Errorf("audit entry %+v", e)
			}
		}
	}
	if !found {
		t.Fatalf("no %s audit entry in %+v", identity.AuditFees, audit)
	}
	f.ledgerOK(t)
}

func TestDailyVolume(t *testing.T) {
	f := newLC(t)
	nepal := time.FixedZone("+0545", 5*3600+45*60)
	pay := func(amount money.Paisa) {
		t.Helper()
		token := f.initiate(t, amount)
		if _, err := f.confirm(token, "987654"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Verify(f.ctx, f.caller, token, amount); err != nil {
			t.Fatal(err)
		}
	}
	// The clock starts 2026-01-02 08:49 in Kathmandu.
	pay(1000)
	pay(1200)
	f.clock.Advance(16 * time.Hour) // 2026-01-03 00:49 in Kathmandu: the next day
	pay(1500)
	f.initiate(t, 1000) // not completed: not counted

	m := f.sandbox.Merchant.ID
	days, err := f.svc.DailyVolume(f.ctx, m, ledger.Test, 3, nepal)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range days {
		got = append(got, d.Day.Format("2006-01-02T15:04-07:00")+" "+d.Amount.String()+" ×"+string(rune('0'+d.Count)))
	}
	want := []string{"2026-01-01T00:00+05:45 Rs 0.00 ×0", "2026-01-02T00:00+05:45 Rs 22.00 ×2", "2026-01-03T00:00+05:45 Rs 15.00 ×1"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("DailyVolume =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if live, err := f.svc.DailyVolume(f.ctx, m, ledger.Live, 1, nepal); err != nil || len(live) != 1 || live[0].Count != 0 {
		t.Fatalf("live book: %+v %v", live, err)
	}
	for _, n := range []int{0, -1, payment.MaxChartDays + 1} {
		_, err := f.svc.DailyVolume(f.ctx, m, ledger.Test, n, nepal)
		wantField(t, err, "days", "Choose between 1 and 92 days.")
	}
}
