// Package notify sends messages to phones: payment confirmation codes,
// the codes that prove an account's phone, and notices to a wallet's
// owner. Thaili has no SMS gateway of its own; a deployment plugs one in
// as a Notifier, and Log, the default, writes to the server's log.
package notify

import (
	"context"
	"log/slog"

	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/phone"
)

// Notifier delivers messages to phones: payment confirmation codes, the
// codes that prove an account's phone, and notices to a wallet's owner.
// Thaili has no SMS gateway; Log writes to the log.
type Notifier interface {
	SendOTP(ctx context.Context, mobile, code string, amount money.Paisa, merchant string) error
	SendCode(ctx context.Context, mobile, code, purpose string) error
	SendNotice(ctx context.Context, mobile, text string) error
}

// Log writes what it would send to a logger. Only when ShowCodes
// is set does it write the codes themselves: in the sandbox the log is
// the developer's phone; anywhere else a code in a log is a secret in
// the wrong place, so the log says only that a code was sent, and where
// (masked).
type Log struct {
	Logger    *slog.Logger
	ShowCodes bool
}

// SendOTP logs a payment's confirmation code.
func (n Log) SendOTP(ctx context.Context, mobile, code string, amount money.Paisa, merchant string) error {
	if n.ShowCodes {
		n.Logger.InfoContext(ctx, "confirmation code", "mobile", mobile, "code", code, "amount", amount.String(), "merchant", merchant)
		return nil
	}
	n.Logger.InfoContext(ctx, "confirmation code sent", "to", phone.Mask(mobile), "amount", amount.String(), "merchant", merchant)
	return nil
}

// SendCode logs an account code.
func (n Log) SendCode(ctx context.Context, mobile, code, purpose string) error {
	if n.ShowCodes {
		n.Logger.InfoContext(ctx, "account code", "mobile", mobile, "code", code, "purpose", purpose)
		return nil
	}
	n.Logger.InfoContext(ctx, "account code sent", "to", phone.Mask(mobile), "purpose", purpose)
	return nil
}

// SendNotice logs a notice to a wallet's owner.
func (n Log) SendNotice(ctx context.Context, mobile, text string) error {
	n.Logger.InfoContext(ctx, "notice sent", "to", phone.Mask(mobile), "text", text)
	return nil
}
