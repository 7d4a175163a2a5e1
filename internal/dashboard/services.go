package dashboard

import (
	"context"
	"time"

	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/webhook"
)

// The pages ask three services for everything they show and do. Each
// interface holds only the methods the pages call, so the package's own
// tests run the pages over a fake in memory (fake_test.go), and the
// server passes the real services (cmd/thaili).

// Payments is what the pages need of payment.Service.
type Payments interface {
	// ShowOwnMerchant reveals a sealed secret (live keys issued on
	// go-live) to its owner, once.
	ShowOwnMerchant(ctx context.Context, merchantIdx string) (payment.MerchantInfo, error)
	// MerchantDetails reads the same without revealing anything.
	MerchantDetails(ctx context.Context, ref string) (payment.MerchantInfo, error)
	// Config has the test book's code and the refund window.
	Config() payment.Config
	DailyVolume(ctx context.Context, merchantID int64, book ledger.Book, days int, loc *time.Location) ([]store.DayTotal, error)
	List(ctx context.Context, caller identity.Caller, q payment.ListQuery) (payment.Page, error)
	Detail(ctx context.Context, caller identity.Caller, idx string) (payment.Transaction, error)
	CanRefund(p store.Payment) bool
	Refund(ctx context.Context, caller identity.Caller, idx string, amount *money.Paisa) error
	// InitiateEPayment starts the dashboard's test payment.
	InitiateEPayment(ctx context.Context, caller identity.Caller, in payment.EPaymentInput) (store.Payment, error)
}

// Accounts is what the pages need of identity.Service: sign-up, sign-in
// and sessions, keys, and KYC.
type Accounts interface {
	SignUpMerchant(ctx context.Context, in identity.SignUp) (identity.CodeSent, error)
	ConfirmMerchantPhone(ctx context.Context, challenge, code string) (string, error)
	Login(ctx context.Context, email, password string) (identity.SignIn, error)
	SessionMerchant(ctx context.Context, id string) (store.Merchant, error)
	Logout(ctx context.Context, id string) error
	LogoutEverywhere(ctx context.Context, merchantID int64) error
	ChangePassword(ctx context.Context, merchantID int64, current, next, keep string) error
	// CSRFToken is the keyed MAC every form's token is.
	CSRFToken(id string) string
	MerchantBooks(ctx context.Context, merchantID int64) ([]ledger.Book, error)
	RotateOwnKeys(ctx context.Context, merchantIdx string, book ledger.Book) (identity.KeyPair, error)
	MerchantKYC(ctx context.Context, merchantID int64) (identity.KYCSubmission, error)
	SubmitKYC(ctx context.Context, merchantID int64, in identity.KYCForm) (store.Merchant, error)
}

// Hooks is what the webhook pages need of webhook.Service.
type Hooks interface {
	CreateEndpoint(ctx context.Context, scope store.Scope, rawURL string, events []string) (webhook.Endpoint, string, error)
	Endpoints(ctx context.Context, scope store.Scope) ([]webhook.Endpoint, error)
	DeleteEndpoint(ctx context.Context, scope store.Scope, idx string) error
	DeliveryLog(ctx context.Context, scope store.Scope, idx string) ([]webhook.Delivery, error)
	Replay(ctx context.Context, scope store.Scope, idx string) (webhook.Delivery, error)
	SendTestEvent(ctx context.Context, scope store.Scope, idx string) (webhook.Delivery, error)
}

// The real services are what the server passes.
var (
	_ Payments = (*payment.Service)(nil)
	_ Accounts = (*identity.Service)(nil)
	_ Hooks    = (*webhook.Service)(nil)
)
