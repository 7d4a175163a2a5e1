package payment

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/store"
)

// NewMerchant describes a merchant to create.
type NewMerchant struct {
	Name   string
	Email  string
	Mobile string // optional: the owner's wallet, which may not pay this merchant
	KYC    store.KYC
	// TestKeys, if set, are used instead of random test keys (the sandbox
	// seed uses the keys from Khalti's documentation).
	TestKeys *KeyPair

	passwordHash string // set by SignUpMerchant
}

// CreateMerchant creates a merchant with test keys and the default fee
// schedule in both books, returning the keys (shown only this once).
func (s *Service) CreateMerchant(ctx context.Context, in NewMerchant) (store.Merchant, KeyPair, error) {
	in.Name, in.Email = strings.TrimSpace(in.Name), strings.ToLower(strings.TrimSpace(in.Email))
	fields := map[string][]string{}
	if in.Name == "" {
		fields["name"] = []string{MsgBlank}
	}
	if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email {
		fields["email"] = []string{"Enter a valid email address."}
	}
	if in.Mobile != "" && !ValidMobile(in.Mobile) {
		fields["mobile"] = []string{"Enter a valid mobile number."}
	}
	if in.KYC == "" {
		in.KYC = store.KYCNone
	}
	if !in.KYC.Valid() {
		fields["kyc"] = []string{"Unknown KYC state."}
	}
	if err := FieldErrors(fields); err != nil {
		return store.Merchant{}, KeyPair{}, err
	}
	kp := s.newKeyPair(ledger.Test)
	if in.TestKeys != nil {
		kp = *in.TestKeys
	}
	m := store.Merchant{Idx: s.ids.New(), Name: in.Name, Email: in.Email, Mobile: in.Mobile, KYC: in.KYC, CreatedAt: s.now(),
		PasswordHash: in.passwordHash}
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateMerchant(ctx, &m); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return FieldError("email", "A merchant with this email already exists.")
			}
			return err
		}
		for _, book := range []ledger.Book{ledger.Test, ledger.Live} {
			if err := tx.SetFeeTiers(ctx, m.ID, book, s.cfg.DefaultFeeTiers); err != nil {
				return err
			}
		}
		return s.storeKeyPair(ctx, tx, m.ID, kp, false)
	})
	if err != nil {
		return store.Merchant{}, KeyPair{}, s.wrap(err)
	}
	return m, kp, nil
}

// SetKYC changes a merchant's KYC state.
func (s *Service) SetKYC(ctx context.Context, merchantIdx string, kyc store.KYC) (store.Merchant, error) {
	if !kyc.Valid() {
		return store.Merchant{}, FieldError("kyc", "Unknown KYC state.")
	}
	var m store.Merchant
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if m, err = s.merchantByRef(ctx, tx, merchantIdx); err != nil {
			return err
		}
		m.KYC = kyc
		return tx.SetMerchantKYC(ctx, m.ID, kyc)
	})
	s.forgetKeys()
	return m, s.wrap(err)
}

// merchantByRef finds a merchant by idx or email.
func (s *Service) merchantByRef(ctx context.Context, tx store.Tx, ref string) (store.Merchant, error) {
	m, err := tx.MerchantByIdx(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		m, err = tx.MerchantByEmail(ctx, strings.ToLower(ref))
	}
	if errors.Is(err, store.ErrNotFound) {
		return m, &Error{Kind: KindNotFound, Detail: fmt.Sprintf("No merchant %q.", ref)}
	}
	return m, err
}

// KeyInfo describes one key for display. Secret is set only the first
// time a sealed secret is shown.
type KeyInfo struct {
	Key    store.Key
	Secret string
}

// MerchantInfo is a merchant with its keys and balances.
type MerchantInfo struct {
	Merchant store.Merchant
	Keys     []KeyInfo
	Balances map[ledger.Book]money.Paisa
	Fees     map[ledger.Book][]store.FeeTier // the fee schedule of each book
}

// ShowMerchant returns a merchant's details. A secret key that was issued
// automatically (live keys on go-live) is revealed once, then forgotten.
func (s *Service) ShowMerchant(ctx context.Context, ref string) (MerchantInfo, error) {
	var info MerchantInfo
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		m, err := s.merchantByRef(ctx, tx, ref)
		if err != nil {
			return err
		}
		info = MerchantInfo{Merchant: m, Balances: map[ledger.Book]money.Paisa{}, Fees: map[ledger.Book][]store.FeeTier{}}
		keys, err := tx.Keys(ctx, m.ID)
		if err != nil {
			return err
		}
		for _, k := range keys {
			ki := KeyInfo{Key: k}
			if k.Sealed != nil {
				if ki.Secret, err = s.unseal(k.Sealed); err != nil {
					return err
				}
				if err := tx.ForgetSealedSecret(ctx, k.ID); err != nil {
					return err
				}
			}
			info.Keys = append(info.Keys, ki)
		}
		for _, b := range []ledger.Book{ledger.Test, ledger.Live} {
			if info.Balances[b], err = tx.Balance(ctx, account(b, ledger.Merchant, m.ID)); err != nil {
				return err
			}
			if info.Fees[b], err = tx.FeeTiers(ctx, m.ID, b); err != nil {
				return err
			}
		}
		return nil
	})
	return info, s.wrap(err)
}

// RotateKeys revokes a merchant's keys in one book and issues new ones.
func (s *Service) RotateKeys(ctx context.Context, ref string, book ledger.Book) (KeyPair, error) {
	if !book.Valid() {
		return KeyPair{}, FieldError("book", "Book must be test or live.")
	}
	kp := s.newKeyPair(book)
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		m, err := s.merchantByRef(ctx, tx, ref)
		if err != nil {
			return err
		}
		if book == ledger.Live {
			keys, err := tx.Keys(ctx, m.ID)
			if err != nil {
				return err
			}
			live := false
			for _, k := range keys {
				live = live || k.Book == ledger.Live
			}
			if !live {
				return DetailError("This merchant has no live keys yet: they are issued after its first completed test payment.")
			}
		}
		if err := tx.RevokeKeys(ctx, m.ID, book, s.now()); err != nil {
			return err
		}
		return s.storeKeyPair(ctx, tx, m.ID, kp, false)
	})
	s.forgetKeys()
	if err != nil {
		return KeyPair{}, s.wrap(err)
	}
	return kp, nil
}

// CreateConsumer creates a wallet holder.
func (s *Service) CreateConsumer(ctx context.Context, mobile, name, mpin string) (store.Consumer, error) {
	fields := map[string][]string{}
	if !ValidMobile(mobile) {
		fields["mobile"] = []string{"Enter a valid mobile number."}
	}
	if !ValidMPIN(mpin) {
		fields["mpin"] = []string{"Khalti PIN must be 4 digits long."}
	}
	if strings.TrimSpace(name) == "" {
		fields["name"] = []string{MsgBlank}
	}
	if err := FieldErrors(fields); err != nil {
		return store.Consumer{}, err
	}
	hash, err := s.hashMPIN(mpin)
	if err != nil {
		return store.Consumer{}, Internal(err)
	}
	c := store.Consumer{Idx: s.ids.New(), Mobile: mobile, Name: strings.TrimSpace(name), MPINHash: hash, CreatedAt: s.now()}
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		err := tx.CreateConsumer(ctx, &c)
		if errors.Is(err, store.ErrDuplicate) {
			return FieldError("mobile", "A wallet with this mobile number already exists.")
		}
		return err
	})
	return c, s.wrap(err)
}

// ResetMPIN sets a new MPIN and unlocks the wallet.
func (s *Service) ResetMPIN(ctx context.Context, mobile, mpin string) error {
	if !ValidMPIN(mpin) {
		return FieldError("mpin", "Khalti PIN must be 4 digits long.")
	}
	hash, err := s.hashMPIN(mpin)
	if err != nil {
		return Internal(err)
	}
	return s.wrap(s.store.InTx(ctx, func(tx store.Tx) error {
		c, err := tx.ConsumerByMobile(ctx, mobile)
		if errors.Is(err, store.ErrNotFound) {
			return &Error{Kind: KindNotFound, Detail: fmt.Sprintf("No wallet for %s.", mobile)}
		}
		if err != nil {
			return err
		}
		return tx.UpdateConsumerSecurity(ctx, c.ID, hash, 0, false)
	}))
}

// Topup credits a wallet from the platform's funding account and returns
// the new balance.
func (s *Service) Topup(ctx context.Context, mobile string, book ledger.Book, amount money.Paisa) (money.Paisa, error) {
	if !book.Valid() {
		return 0, FieldError("book", "Book must be test or live.")
	}
	if amount < 1 {
		return 0, FieldError("amount", "Ensure this value is greater than or equal to 1.")
	}
	var bal money.Paisa
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		bal, err = s.topup(ctx, tx, mobile, book, amount)
		return err
	})
	return bal, s.wrap(err)
}

// topup posts a top-up of the wallet of mobile in tx and returns its new
// balance; the caller has checked book and amount.
func (s *Service) topup(ctx context.Context, tx store.Tx, mobile string, book ledger.Book, amount money.Paisa) (money.Paisa, error) {
	c, err := tx.ConsumerByMobile(ctx, mobile)
	if errors.Is(err, store.ErrNotFound) {
		return 0, &Error{Kind: KindNotFound, Detail: fmt.Sprintf("No wallet for %s.", mobile)}
	}
	if err != nil {
		return 0, err
	}
	wallet := account(book, ledger.Wallet, c.ID)
	if err := tx.Post(ctx, ledger.Transfer(book, "topup", 0, account(book, ledger.Funding, 0), wallet, amount), s.now()); err != nil {
		return 0, err
	}
	return tx.Balance(ctx, wallet)
}

// WalletBalance returns a consumer's balance in one book.
func (s *Service) WalletBalance(ctx context.Context, mobile string, book ledger.Book) (money.Paisa, error) {
	var bal money.Paisa
	err := s.store.View(ctx, func(tx store.Tx) error {
		c, err := tx.ConsumerByMobile(ctx, mobile)
		if err != nil {
			return err
		}
		bal, err = tx.Balance(ctx, account(book, ledger.Wallet, c.ID))
		return err
	})
	return bal, err
}

// CheckLedger reads a consistent snapshot and returns every broken
// invariant; an empty result means the books are sound.
func (s *Service) CheckLedger(ctx context.Context) ([]ledger.Violation, error) {
	var snap ledger.Snapshot
	err := s.store.Snapshot(ctx, func(tx store.Tx) error {
		var err error
		snap, err = tx.LedgerSnapshot(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ledger.Check(snap), nil
}
