// Package store defines what Thaili persists and the Store interface every
// database implementation satisfies. It holds plain records and no SQL;
// implementations live in sub-packages named after their database, and all
// of them must pass the storetest suite.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
)

// Errors a Store reports. Implementations wrap their driver errors so
// callers can test with errors.Is.
var (
	ErrNotFound          = errors.New("store: not found")
	ErrConflict          = errors.New("store: row changed concurrently")
	ErrInsufficientFunds = errors.New("store: insufficient funds")
	ErrDuplicate         = errors.New("store: duplicate")
	// ErrIllegalMove: an update would move a payment to a state the
	// state machine does not allow from its stored state (Moves).
	ErrIllegalMove = errors.New("store: payment state change not allowed")
	// ErrHooked: PostAndUpdateUnhooked found a webhook endpoint to tell,
	// and changed nothing.
	ErrHooked = errors.New("store: the merchant has webhook endpoints")
)

// CommitStats are a store's group-commit counters since it opened
// (docs/storage.md, "Group commit"): how many lanes its committer has
// (batches that can run at once), how many batches they ran, how many
// write requests those held, and how long the lanes spent running them,
// added up. Busy over wall time and lanes is how saturated the
// committer, which every write of a node waits behind, was.
type CommitStats struct {
	Lanes             int
	Batches, Requests uint64
	Busy              time.Duration
}

// CommitCounter is a store that commits through group commit and counts
// it (both stores do); /metrics serves the counters.
type CommitCounter interface {
	CommitStats() CommitStats
}

// Store is a database. InTx runs fn in one read-write transaction and
// commits it if fn returns nil; View runs fn read-only.
// Implementations may retry fn on serialization failures, so fn must not
// have effects outside the transaction.
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
	View(ctx context.Context, fn func(Tx) error) error
	// Snapshot runs fn read-only on one consistent picture of the whole
	// database, as the ledger check needs. View may not: on both stores
	// each of its statements sees the latest committed data.
	Snapshot(ctx context.Context, fn func(Tx) error) error
	Close() error
}

// Tx is the set of operations available inside a transaction.
type Tx interface {
	BankTx
	IdempotencyTx
	StatsTx
	AccountTx
	ConsumerAccountTx
	WebhookTx
	OperatorTx
	KYCTx
	CodeTx

	// LockKey makes transactions that lock the same key run one after
	// the other from here to their end. A check-then-count (login
	// failures, wrong phone codes) needs it: under PostgreSQL's READ
	// COMMITTED two such transactions would both read the count before
	// either wrote it, so a burst of guesses would get more tries.
	LockKey(ctx context.Context, key string) error

	CreateMerchant(ctx context.Context, m *Merchant) error
	Merchant(ctx context.Context, id int64) (Merchant, error)
	MerchantByIdx(ctx context.Context, idx string) (Merchant, error)
	MerchantByEmail(ctx context.Context, email string) (Merchant, error)
	SetMerchantKYC(ctx context.Context, id int64, kyc KYC) error

	CreateKey(ctx context.Context, k *Key) error
	KeyByLookup(ctx context.Context, lookup string) (Key, error)
	Keys(ctx context.Context, merchantID int64) ([]Key, error)
	RevokeKeys(ctx context.Context, merchantID int64, book ledger.Book, at time.Time) error
	ForgetSealedSecret(ctx context.Context, keyID int64) error
	// KeysWithClearSigningKey returns up to limit keys with an id above
	// afterID whose SigningKey is still in clear, by id.
	KeysWithClearSigningKey(ctx context.Context, afterID int64, limit int) ([]Key, error)
	// SealSigningKey replaces the key's clear SigningKey by sealed if it
	// still holds clear (a compare-and-set, so nodes sealing at once
	// cannot overwrite each other); otherwise it is ErrConflict.
	SealSigningKey(ctx context.Context, keyID int64, clear, sealed []byte) error

	SetFeeTiers(ctx context.Context, merchantID int64, book ledger.Book, tiers []FeeTier) error
	FeeTiers(ctx context.Context, merchantID int64, book ledger.Book) ([]FeeTier, error)

	CreateConsumer(ctx context.Context, c *Consumer) error
	Consumer(ctx context.Context, id int64) (Consumer, error)
	ConsumerByMobile(ctx context.Context, mobile string) (Consumer, error)
	// ConsumerWithBalance is ConsumerForUpdate together with the Balance
	// of the consumer's wallet in book, read in one statement.
	ConsumerWithBalance(ctx context.Context, mobile string, book ledger.Book) (Consumer, money.Paisa, error)

	// Post applies a balanced entry: it records the postings and updates
	// the balances, creating accounts on first use. A posting that would
	// take a non-funding account below zero fails the whole entry with
	// ErrInsufficientFunds; the caller's transaction must then roll back.
	Post(ctx context.Context, e ledger.Entry, at time.Time) error
	// PostAndUpdate is Post followed by UpdatePayment(p), with their
	// errors, done in one statement where the database allows: then a
	// failed compare-and-set (ErrConflict) or move (ErrIllegalMove)
	// leaves the balances untouched too. Either way the caller's transaction must roll back on error.
	PostAndUpdate(ctx context.Context, e ledger.Entry, at time.Time, p *Payment) error
	// PostAndUpdateUnhooked is PostAndUpdate done only if p's merchant has
	// no enabled webhook endpoint in p's book, so that the change has no
	// event to write; otherwise it changes nothing and returns ErrHooked,
	// and the caller goes the way that writes the event. Where the
	// database allows, the check is a condition of PostAndUpdate's one
	// statement, which saves a capture a round trip to the database.
	PostAndUpdateUnhooked(ctx context.Context, e ledger.Entry, at time.Time, p *Payment) error
	// Balance is the account's total over all its shards (ref.Shard is
	// ignored); an account never posted to has balance 0.
	Balance(ctx context.Context, ref ledger.AccountRef) (money.Paisa, error)
	// ShardBalances returns the non-zero shard balances of the account.
	ShardBalances(ctx context.Context, ref ledger.AccountRef) (map[int]money.Paisa, error)
	LedgerSnapshot(ctx context.Context) (ledger.Snapshot, error)

	CreatePayment(ctx context.Context, p *Payment) error
	PaymentByID(ctx context.Context, id int64) (Payment, error)
	// PaymentByIdx and PaymentByToken find a payment of one merchant in
	// one book; anything else is ErrNotFound.
	PaymentByIdx(ctx context.Context, scope Scope, idx string) (Payment, error)
	PaymentByToken(ctx context.Context, scope Scope, token string) (Payment, error)
	// PaymentWithParties is PaymentByToken (with byIdx, PaymentByIdx)
	// together with the payment's consumer (zero while it has none) and
	// merchant, read in one statement.
	PaymentWithParties(ctx context.Context, scope Scope, tokenOrIdx string, byIdx bool) (Payment, Consumer, Merchant, error)
	// PaymentByPidx finds an ePayment by pidx alone, for the hosted page,
	// where knowing the pidx is the credential.
	PaymentByPidx(ctx context.Context, pidx string) (Payment, error)
	// UpdatePayment writes p's mutable fields if the stored version is
	// still p.Version, and increments it; otherwise ErrConflict. An
	// update the state machine does not allow from the stored state to
	// p.State (CanMove) changes nothing and is ErrIllegalMove.
	UpdatePayment(ctx context.Context, p *Payment) error
	ListPayments(ctx context.Context, f PaymentFilter) ([]Payment, int, error)
	// DuePayments lists wallet payments needing the sweeper: Initiated ones
	// created before initiatedBefore and Confirmed ones confirmed before
	// confirmedBefore, oldest first.
	DuePayments(ctx context.Context, initiatedBefore, confirmedBefore time.Time, limit int) ([]Payment, error)
	// DueEPayments lists ePayments needing the sweeper: Initiated ones
	// whose link expired at or before now, oldest first, then Pending ones
	// held (ConfirmedAt) at or before heldBefore, oldest first; up to
	// limit of each.
	DueEPayments(ctx context.Context, now, heldBefore time.Time, limit int) ([]Payment, error)
}

// KYC is a merchant's know-your-customer state.
type KYC string

// KYC states.
const (
	KYCNone      KYC = "none"
	KYCSubmitted KYC = "submitted"
	KYCApproved  KYC = "approved"
	KYCRejected  KYC = "rejected"
)

// Valid reports whether k is a known KYC state.
func (k KYC) Valid() bool {
	switch k {
	case KYCNone, KYCSubmitted, KYCApproved, KYCRejected:
		return true
	}
	return false
}

// Merchant is a business that receives payments.
type Merchant struct {
	ID           int64
	Idx          string
	Name         string
	Email        string
	Mobile       string // the owner's own wallet mobile, if any; it may not pay the merchant
	PasswordHash string
	KYC          KYC
	// Confirmed: the owner proved the phone with a code, or an operator
	// made the merchant. An unconfirmed merchant's keys do not work.
	Confirmed bool
	CreatedAt time.Time
}

// KeyKind says whether a key is public (browser) or secret (server).
type KeyKind string

// Key kinds.
const (
	PublicKey KeyKind = "public"
	SecretKey KeyKind = "secret"
)

// Key is an API key. Lookup is the public key itself, or for a secret key
// its keyed hash, so the secret is never stored in clear. Prefix is the
// part shown in listings. Sealed optionally holds the secret encrypted
// under the server secret until an operator has been shown it once.
type Key struct {
	ID         int64
	MerchantID int64
	Book       ledger.Book
	Kind       KeyKind
	Lookup     string
	Prefix     string
	Sealed     []byte
	CreatedAt  time.Time
	RevokedAt  time.Time // zero while the key is active
	// SigningKey, for a secret key issued since migration 5, is
	// HMAC-SHA256(secret key, "thaili-redirect-v1"): it signs the hosted
	// page's redirects, and cannot give back the secret. It is kept in
	// clear only in rows written before migration 14, until `thaili
	// serve` seals it (SealSigningKey); nil otherwise.
	SigningKey []byte
	// SealedSigningKey is the signing key sealed under the server secret
	// (migration 14), which is how every key stores it now.
	SealedSigningKey []byte
}

// FeeTier charges PercentBps basis points plus Flat on amounts in
// [MinAmount, MaxAmount]; MaxAmount 0 means no upper bound.
type FeeTier struct {
	MinAmount  money.Paisa
	MaxAmount  money.Paisa
	PercentBps int64
	Flat       money.Paisa
}

// Covers reports whether the tier applies to amount.
func (t FeeTier) Covers(amount money.Paisa) bool {
	return amount >= t.MinAmount && (t.MaxAmount == 0 || amount <= t.MaxAmount)
}

// Consumer is a wallet holder identified by mobile number.
type Consumer struct {
	ID       int64
	Idx      string
	Mobile   string
	Name     string
	MPINHash string
	// FailedMPIN, MPINLockedUntil and MPINLockLevel are the wallet's
	// count of wrong MPINs and its timed lock (internal/lockout).
	FailedMPIN      int
	MPINLockedUntil time.Time
	MPINLockLevel   int
	// Locked: locked until the MPIN is reset (the sandbox's locked
	// payer), whatever the timed lock says.
	Locked bool
	// Confirmed: the owner proved the phone with a code, or an operator
	// made the wallet. An unconfirmed wallet cannot pay or be paid.
	Confirmed bool
	CreatedAt time.Time
}

// PaymentKind tells the two generations of payments apart.
type PaymentKind string

// Payment kinds.
const (
	WalletPayment PaymentKind = "wallet"   // legacy KPG-1: initiate, confirm, verify
	EPayment      PaymentKind = "epayment" // KPG-2: hosted page, lookup
)

// Scope is the only window through which an API caller sees payments:
// one merchant, one book.
type Scope struct {
	MerchantID int64
	Book       ledger.Book
}

// Payment is a wallet payment and its lifecycle.
type Payment struct {
	ID              int64
	Idx             string // the transaction id clients see
	Token           string // the legacy initiate token
	FeeIdx          string // id of the Fee child transaction shown in details
	Book            ledger.Book
	MerchantID      int64
	ConsumerID      int64 // 0 until an ePayment payer signs in
	Kind            PaymentKind
	State           State
	Amount          money.Paisa
	FeeAmount       money.Paisa
	Refunded        money.Paisa
	ProductIdentity string
	ProductName     string
	ProductURL      string
	Extra           []byte // merchant_* fields as a JSON object, echoed back
	OTPHash         string
	OTPExpiresAt    time.Time
	OTPTries        int
	CreatedAt       time.Time
	ConfirmedAt     time.Time
	CompletedAt     time.Time
	UpdatedAt       time.Time
	Version         int64

	// ePayment fields; Token holds the pidx.
	PurchaseOrderID   string
	PurchaseOrderName string
	ReturnURL         string
	WebsiteURL        string
	ExpiresAt         time.Time
	Details           []byte // customer_info, amount_breakdown, product_details, modes as JSON
	// Browser is the hosted page's browser that signed in to pay (an
	// opaque hash of its cookie), "" until one did.
	Browser string
}

// PaymentFilter selects payments for listing, newest first.
type PaymentFilter struct {
	Scope
	States []State // empty means all
	From   time.Time
	To     time.Time // exclusive; zero means no bound
	// MinAmount and MaxAmount bound the amount, inclusive; zero means no
	// bound.
	MinAmount money.Paisa
	MaxAmount money.Paisa
	// Query, when not empty, keeps payments whose product identity or
	// name, or purchase order id or name, contains it (ignoring ASCII
	// case), or whose idx, ePayment pidx or payer's mobile is exactly it.
	Query  string
	Offset int
	Limit  int
}

// Retry runs fn again, up to ten times, while it fails with ErrConflict:
// a concurrent writer changed a row it guarded, and a fresh read may
// decide differently. It stops early when ctx is done.
func Retry(ctx context.Context, fn func() error) error {
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		err = fn()
		if !errors.Is(err, ErrConflict) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return err
}
