package api

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/nepal"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/phone"
	"github.com/thaili/thaili/internal/store"
)

// timestamp formats t as Khalti does: microseconds and +05:45
// (nepal.Zone, a fixed offset, so no time zone database is needed).
func timestamp(t time.Time) string {
	return t.In(nepal.Zone).Format("2006-01-02T15:04:05.000000-07:00")
}

// Fixed ids and templates for states and transaction types. Completed's
// and Confirmed's ids are the ones in Khalti's samples.
var stateInfo = map[store.State]struct{ idx, template string }{
	store.Initiated:         {"DhvNj9hdRufLqkP8ZY4d8g", "is initiate"},
	store.Confirmed:         {"Dhvaj9hdRufLqkP8ZY4d8g", "is confirm"},
	store.Completed:         {"DhvMj9hdRufLqkP8ZY4d8g", "is complete"},
	store.Disabled:          {"DhvPj9hdRufLqkP8ZY4d8g", "is disable"},
	store.Refunded:          {"DhvQj9hdRufLqkP8ZY4d8g", "is refund"},
	store.PartiallyRefunded: {"DhvRj9hdRufLqkP8ZY4d8g", "is partially refund"},
	store.Failed:            {"DhvSj9hdRufLqkP8ZY4d8g", "is fail"},
	store.Expired:           {"DhvTj9hdRufLqkP8ZY4d8g", "is expire"},
	store.UserCanceled:      {"DhvUj9hdRufLqkP8ZY4d8g", "is user cancel"},
	store.Pending:           {"DhvVj9hdRufLqkP8ZY4d8g", "is pending"},
}

var (
	walletPaymentType = typeJSON{Idx: "e476BL6jt9kgagEmsakyTL", Name: "Wallet payment"}
	feeType           = typeJSON{Idx: "YpwbDVqAnH42odGZmT5vZ8", Name: "Fee"}
	platformParty     = partyJSON{Idx: "9dUzuqrLetWo9VY3fNwB2E", Name: "", Mobile: "wallet@thaili.local"}
)

type typeJSON struct {
	Idx  string `json:"idx"`
	Name string `json:"name"`
}

type stateJSON struct {
	Idx      string `json:"idx"`
	Name     string `json:"name"`
	Template string `json:"template"`
}

type partyJSON struct {
	Idx    string `json:"idx"`
	Name   string `json:"name"`
	Mobile string `json:"mobile"`
}

// recordJSON is a transaction as verify, list and detail show it.
type recordJSON struct {
	Idx       string    `json:"idx"`
	Type      typeJSON  `json:"type"`
	State     stateJSON `json:"state"`
	Amount    int64     `json:"amount"`
	FeeAmount int64     `json:"fee_amount"`
	Refunded  bool      `json:"refunded"`
	CreatedOn string    `json:"created_on"`
	Ebanker   *struct{} `json:"ebanker"`
	User      partyJSON `json:"user"`
	Merchant  partyJSON `json:"merchant"`
}

type metaJSON struct {
	ProductIdentity string `json:"product_identity"`
	ProductName     string `json:"product_name"`
	ProductURL      string `json:"product_url"`
}

// detailJSON is the detail endpoint's record with its extras.
type detailJSON struct {
	recordJSON
	CanRefund         bool         `json:"can_refund"`
	CanComplete       bool         `json:"can_complete"`
	ChildTransactions []detailJSON `json:"child_transactions"`
	Meta              *metaJSON    `json:"meta"`
}

func stateOf(s store.State) stateJSON {
	i := stateInfo[s]
	return stateJSON{Idx: i.idx, Name: string(s), Template: i.template}
}

func merchantParty(m store.Merchant) partyJSON {
	return partyJSON{Idx: m.Idx, Name: m.Name, Mobile: m.Email}
}

func record(t payment.Transaction) recordJSON {
	p := t.Payment
	return recordJSON{
		Idx: p.Idx, Type: walletPaymentType, State: stateOf(p.State),
		Amount: int64(p.Amount), FeeAmount: int64(feeCharged(p)), Refunded: p.Refunded > 0,
		CreatedOn: timestamp(p.CreatedAt),
		User:      partyJSON{Idx: t.Consumer.Idx, Name: t.Consumer.Name, Mobile: phone.MaskPayer(t.Consumer.Mobile)},
		Merchant:  merchantParty(t.Merchant),
	}
}

// feeCharged is the fee a record shows: zero until the payment is
// captured, as in Khalti's sample of a Confirmed record.
func feeCharged(p store.Payment) money.Paisa {
	if captured(p.State) {
		return p.FeeAmount
	}
	return 0
}

func captured(s store.State) bool {
	return s == store.Completed || s == store.PartiallyRefunded || s == store.Refunded
}

func detail(svc *payment.Service, t payment.Transaction) detailJSON {
	p := t.Payment
	d := detailJSON{
		recordJSON:        record(t),
		CanRefund:         svc.CanRefund(p),
		CanComplete:       p.State == store.Confirmed,
		ChildTransactions: []detailJSON{},
		Meta:              &metaJSON{ProductIdentity: p.ProductIdentity, ProductName: p.ProductName, ProductURL: p.ProductURL},
	}
	if captured(p.State) && p.FeeAmount > 0 {
		d.ChildTransactions = append(d.ChildTransactions, detailJSON{
			recordJSON: recordJSON{
				Idx: p.FeeIdx, Type: feeType, State: stateOf(store.Completed),
				Amount: int64(p.FeeAmount), CreatedOn: timestamp(p.CompletedAt),
				User: merchantParty(t.Merchant), Merchant: platformParty,
			},
			ChildTransactions: []detailJSON{},
		})
	}
	return d
}

// confirmBody is the legacy confirm response: ids, amount, masked mobile,
// product fields and the merchant_* extras echoed back.
func confirmBody(t payment.Transaction) map[string]any {
	p := t.Payment
	body := map[string]any{}
	if len(p.Extra) > 0 {
		var extra map[string]any
		dec := json.NewDecoder(bytes.NewReader(p.Extra))
		dec.UseNumber() // keep large integers exact
		if dec.Decode(&extra) == nil {
			for k, v := range extra {
				body[k] = v
			}
		}
	}
	body["idx"] = p.Idx
	body["token"] = p.Token
	body["amount"] = int64(p.Amount)
	body["mobile"] = phone.Mask(t.Consumer.Mobile)
	body["product_identity"] = p.ProductIdentity
	body["product_name"] = p.ProductName
	body["product_url"] = p.ProductURL
	return body
}
