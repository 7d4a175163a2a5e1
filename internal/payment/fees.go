package payment

import (
	"context"
	"fmt"
	"strings"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/store"
)

// Fee schedules (issue 6): each merchant has one per book, a list of
// tiers that operators edit in the console and merchants read on their
// dashboard. A payment's fee is fixed when it is initiated, so a change
// applies to payments initiated after it.

// MaxFeeTiers is how many tiers a schedule may have.
const MaxFeeTiers = 6

// maxFlatFee bounds a tier's flat fee (Rs 10,000); the fee is capped at
// the amount anyway, so a larger one could only be a typing mistake.
const maxFlatFee money.Paisa = 1_000_000

// checkFeeTiers reports what is wrong with a schedule, field "tiers". A
// schedule must price every amount a payment may have, once: the first
// tier starts at or below the minimum payment, each next one starts one
// paisa after the previous ends, and only the last is open-ended.
func (s *Service) checkFeeTiers(tiers []store.FeeTier) error {
	bad := func(format string, args ...any) error { return fault.FieldError("tiers", fmt.Sprintf(format, args...)) }
	switch {
	case len(tiers) == 0:
		return bad("Give at least one tier.")
	case len(tiers) > MaxFeeTiers:
		return bad("A schedule has at most %d tiers.", MaxFeeTiers)
	case tiers[0].MinAmount > s.cfg.MinAmount:
		return bad("The first tier must start at or below the minimum payment, %s.", s.cfg.MinAmount)
	}
	for i, t := range tiers {
		row := i + 1
		switch {
		case t.MinAmount < 0 || t.MaxAmount < 0 || t.Flat < 0 || t.PercentBps < 0:
			return bad("Tier %d: amounts and rates cannot be negative.", row)
		case t.MinAmount > money.Max || t.MaxAmount > money.Max:
			return bad("Tier %d: amounts cannot exceed %s.", row, money.Max)
		case t.PercentBps > 10000:
			return bad("Tier %d: the percentage cannot exceed 100%%.", row)
		case t.Flat > maxFlatFee:
			return bad("Tier %d: the flat fee cannot exceed %s.", row, maxFlatFee)
		case t.MaxAmount != 0 && t.MaxAmount < t.MinAmount:
			return bad("Tier %d: it ends (%s) before it starts (%s).", row, t.MaxAmount, t.MinAmount)
		case t.MaxAmount == 0 && i != len(tiers)-1:
			return bad("Tier %d: only the last tier may have no upper limit.", row)
		case t.MaxAmount != 0 && i == len(tiers)-1:
			return bad("Tier %d: the last tier must have no upper limit, so that every amount has a fee.", row)
		case i > 0 && t.MinAmount != tiers[i-1].MaxAmount+1:
			return bad("Tier %d must start at %s, one paisa after tier %d ends.", row, tiers[i-1].MaxAmount+1, i)
		}
	}
	return nil
}

// SetFeeSchedule replaces a merchant's fee schedule in one book for
// actor, and records the change, old and new, in the audit log (fees.set).
func (s *Service) SetFeeSchedule(ctx context.Context, actor identity.Actor, merchantRef string, book ledger.Book, tiers []store.FeeTier) (store.Merchant, error) {
	if !book.Valid() {
		return store.Merchant{}, fault.FieldError("book", "Book must be test or live.")
	}
	if err := s.checkFeeTiers(tiers); err != nil {
		return store.Merchant{}, err
	}
	var m store.Merchant
	err := s.id.OperatorAction(ctx, actor, identity.AuditFees, func(tx store.Tx) (identity.AuditRecord, error) {
		var err error
		if m, err = s.id.MerchantByRef(ctx, tx, merchantRef); err != nil {
			return identity.AuditRecord{}, err
		}
		old, err := tx.FeeTiers(ctx, m.ID, book)
		if err != nil {
			return identity.AuditRecord{}, err
		}
		if err := tx.SetFeeTiers(ctx, m.ID, book, tiers); err != nil {
			return identity.AuditRecord{}, err
		}
		return identity.AuditRecord{Subject: m.Idx, Detail: fmt.Sprintf("%s book: %s (was %s)", book, DescribeFees(tiers), DescribeFees(old))}, nil
	})
	// Payments are priced from the schedule resolved with the key
	// (identity.Caller.Fees): this node prices the next one anew.
	s.id.ForgetCallers()
	return m, err
}

// DescribeFees writes a schedule on one line, e.g. "Rs 10.00 and up:
// 3.00% + Rs 0.00".
func DescribeFees(tiers []store.FeeTier) string {
	if len(tiers) == 0 {
		return "none"
	}
	parts := make([]string, len(tiers))
	for i, t := range tiers {
		parts[i] = DescribeFeeTier(t)
	}
	return strings.Join(parts, "; ")
}

// DescribeFeeTier writes one tier: its range, then its price.
func DescribeFeeTier(t store.FeeTier) string { return FeeRange(t) + ": " + FeePrice(t) }

// FeeRange writes the amounts a tier covers, e.g. "Rs 10.00 to Rs 20.00".
func FeeRange(t store.FeeTier) string {
	if t.MaxAmount == 0 {
		return t.MinAmount.String() + " and up"
	}
	return t.MinAmount.String() + " to " + t.MaxAmount.String()
}

// FeePrice writes a tier's price, e.g. "1.50% + Rs 0.25".
func FeePrice(t store.FeeTier) string {
	return fmt.Sprintf("%d.%02d%% + %s", t.PercentBps/100, t.PercentBps%100, t.Flat)
}
