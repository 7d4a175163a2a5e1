package store

import (
	"context"
	"time"
)

// Bank is an entry of the bank list (docs/khalti.md §6). Thaili pays from wallets
// only, so banks are what the operator configures; the flags say which
// payment types a client may offer the bank for.
type Bank struct {
	ID                int64
	Idx               string // the 22-character id clients see
	Name              string
	ShortName         string
	Logo              string // URL, or empty
	SwiftCode         string
	Address           string
	EbankingURL       string
	HasEbanking       bool
	HasMobileCheckout bool
	HasDirectWithdraw bool
	HasNCHL           bool // connectIPS
	HasMobileBanking  bool
	HasCardpayment    bool
	PlayStore         string
	AppStore          string
	CreatedAt         time.Time
}

// BankFilter selects banks for listing, ordered by name. A nil flag does
// not filter; a set one keeps only banks whose flag has that value.
// Limit 0 (or less) means no limit.
type BankFilter struct {
	HasEbanking       *bool
	HasMobileCheckout *bool
	HasNCHL           *bool
	HasCardpayment    *bool
	HasMobileBanking  *bool
	Offset            int
	Limit             int
}

// BankTx is the bank-list part of Tx.
type BankTx interface {
	// CreateBank stores b and sets b.ID; a taken Idx is ErrDuplicate.
	CreateBank(ctx context.Context, b *Bank) error
	// ListBanks returns one page of the banks f selects, ordered by name,
	// and how many it selects in all.
	ListBanks(ctx context.Context, f BankFilter) ([]Bank, int, error)
}
