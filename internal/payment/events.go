package payment

import (
	"context"

	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/webhook"
)

// emit writes the webhook event of p's state change, eventType, to the
// outbox (webhook.Emit), with a delivery per endpoint of p's merchant and
// book that subscribed to it. It must run in the transaction that changes
// p, so the event exists exactly when the change does.
func (s *Service) emit(ctx context.Context, tx store.Tx, p store.Payment, eventType string) error {
	data := map[string]any{"idx": p.Idx, "transaction_id": p.Idx, "amount": p.Amount, "refunded_amount": p.Refunded,
		"state": string(p.State), "fee_amount": 0}
	if captured(p.State) {
		data["fee_amount"] = p.FeeAmount
	}
	if p.Kind == store.EPayment {
		data["pidx"], data["purchase_order_id"] = p.Token, p.PurchaseOrderID
	} else {
		data["token"], data["product_identity"] = p.Token, p.ProductIdentity
	}
	return webhook.Emit(ctx, tx, s.ids, webhook.Event{Scope: store.Scope{MerchantID: p.MerchantID, Book: p.Book}, PaymentID: p.ID,
		Type: eventType, At: s.now(), Data: data})
}

// eventFor is the event type of a payment entering state st.
func eventFor(st store.State) string {
	switch st {
	case store.Completed:
		return webhook.EventCompleted
	case store.Refunded:
		return webhook.EventRefunded
	case store.PartiallyRefunded:
		return webhook.EventPartiallyRefunded
	case store.Expired:
		return webhook.EventExpired
	case store.UserCanceled:
		return webhook.EventCanceled
	default:
		return webhook.EventFailed
	}
}
