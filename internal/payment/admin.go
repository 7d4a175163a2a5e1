package payment

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/phone"
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
}

// merchantFields checks a merchant's name and email, the fields every way
// of making a merchant needs.
func merchantFields(name, email string) map[string][]string {
	fields := map[string][]string{}
	if name == "" {
		fields["name"] = []string{fault.MsgBlank}
	}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		fields["email"] = []string{"Enter a valid email address."}
	}
	return fields
}

// CreateMerchant creates a merchant for actor with test keys and the
// default fee schedule in both books, returning the keys (shown only this
// once). It is audited (merchant.create).
func (s *Service) CreateMerchant(ctx context.Context, actor Actor, in NewMerchant) (store.Merchant, KeyPair, error) {
	m, kp, err := s.newMerchant(in)
	if err != nil {
		return store.Merchant{}, KeyPair{}, err
	}
	err = s.operatorAction(ctx, actor, AuditCreateMerchant, func(tx store.Tx) (auditRecord, error) {
		if err := s.insertMerchant(ctx, tx, &m, kp, false); err != nil {
			return auditRecord{}, err
		}
		detail := fmt.Sprintf("%s, KYC %s", m.Email, m.KYC)
		if m.Mobile != "" {
			detail += ", owner's wallet " + m.Mobile
		}
		return auditRecord{subject: m.Idx, detail: detail}, nil
	})
	if err != nil {
		return store.Merchant{}, KeyPair{}, err
	}
	return m, kp, nil
}

// createMerchant is CreateMerchant where no operator acts (a merchant's
// own sign-up, the sandbox seed), so nothing is audited.
func (s *Service) createMerchant(ctx context.Context, in NewMerchant) (store.Merchant, KeyPair, error) {
	m, kp, err := s.newMerchant(in)
	if err != nil {
		return store.Merchant{}, KeyPair{}, err
	}
	if err := s.store.InTx(ctx, func(tx store.Tx) error { return s.insertMerchant(ctx, tx, &m, kp, false) }); err != nil {
		return store.Merchant{}, KeyPair{}, fault.Wrap(err)
	}
	return m, kp, nil
}

// newMerchant checks in and returns the merchant to insert and its test keys.
func (s *Service) newMerchant(in NewMerchant) (store.Merchant, KeyPair, error) {
	in.Name, in.Email = strings.TrimSpace(in.Name), strings.ToLower(strings.TrimSpace(in.Email))
	fields := merchantFields(in.Name, in.Email)
	if in.Mobile != "" && !phone.Valid(in.Mobile) {
		fields["mobile"] = []string{"Enter a valid mobile number."}
	}
	if in.KYC == "" {
		in.KYC = store.KYCNone
	}
	if !in.KYC.Valid() {
		fields["kyc"] = []string{"Unknown KYC state."}
	}
	if err := fault.FieldErrors(fields); err != nil {
		return store.Merchant{}, KeyPair{}, err
	}
	kp := s.newKeyPair(ledger.Test)
	if in.TestKeys != nil {
		kp = *in.TestKeys
	}
	// An operator vouches for the merchants it makes (and the sandbox for
	// its demo merchant): they count as confirmed.
	m := store.Merchant{Idx: s.ids.New(), Name: in.Name, Email: in.Email, Mobile: in.Mobile, KYC: in.KYC, Confirmed: true, CreatedAt: s.now()}
	return m, kp, nil
}

// insertMerchant stores m (setting its ID) with the default fee
// schedules and the test keys kp, the secret sealed to be shown once on
// the dashboard if seal is set.
func (s *Service) insertMerchant(ctx context.Context, tx store.Tx, m *store.Merchant, kp KeyPair, seal bool) error {
	if err := tx.CreateMerchant(ctx, m); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return fault.FieldError("email", "A merchant with this email already exists.")
		}
		return err
	}
	for _, book := range []ledger.Book{ledger.Test, ledger.Live} {
		if err := tx.SetFeeTiers(ctx, m.ID, book, s.cfg.DefaultFeeTiers); err != nil {
			return err
		}
	}
	return s.storeKeyPair(ctx, tx, m.ID, kp, seal)
}

// SetKYC sets a merchant's KYC state (merchantRef is its idx or email) for
// actor, and keeps reason as the state's reason: a rejection needs one,
// an approval may carry a note, and any earlier reason is replaced. It is
// audited as kyc.approve, kyc.reject or, for another state, kyc.set.
func (s *Service) SetKYC(ctx context.Context, actor Actor, merchantRef string, kyc store.KYC, reason string) (store.Merchant, error) {
	if !kyc.Valid() {
		return store.Merchant{}, fault.FieldError("kyc", "Unknown KYC state.")
	}
	reason = strings.TrimSpace(reason)
	action := AuditKYCSet
	switch kyc {
	case store.KYCApproved:
		action = AuditKYCApprove
	case store.KYCRejected:
		action = AuditKYCReject
		if reason == "" {
			return store.Merchant{}, fault.FieldError("reason", "Give the reason for the rejection.")
		}
	}
	if utf8.RuneCountInString(reason) > maxReasonLen {
		return store.Merchant{}, fault.FieldError("reason", "Ensure this field has no more than 500 characters.")
	}
	if msg := textProblem("Reason", reason); msg != "" {
		return store.Merchant{}, fault.FieldError("reason", msg)
	}
	var m store.Merchant
	err := s.operatorAction(ctx, actor, action, func(tx store.Tx) (auditRecord, error) {
		var err error
		if m, err = s.merchantByRef(ctx, tx, merchantRef); err != nil {
			return auditRecord{}, err
		}
		was := m.KYC
		m.KYC = kyc
		if err := tx.SetMerchantKYC(ctx, m.ID, kyc); err != nil {
			return auditRecord{}, err
		}
		if err := tx.SetMerchantKYCReason(ctx, m.ID, reason); err != nil {
			return auditRecord{}, err
		}
		detail := fmt.Sprintf("%s: %s -> %s", m.Email, was, kyc)
		if reason != "" {
			detail += "; " + reason
		}
		return auditRecord{subject: m.Idx, detail: detail}, nil
	})
	s.forgetKeys()
	return m, err
}

// merchantByRef finds a merchant by idx or email. A reference that can
// name no merchant (not an idx or an email address, or not valid text)
// is not looked up, since PostgreSQL refuses NUL bytes and invalid UTF-8,
// and is "No such merchant."; a plausible one that names none is quoted.
func (s *Service) merchantByRef(ctx context.Context, tx store.Tx, ref string) (store.Merchant, error) {
	if !ids.Valid(ref) {
		if a, err := mail.ParseAddress(ref); err != nil || a.Address != ref || len(ref) > 254 || textProblem("ref", ref) != "" {
			return store.Merchant{}, &fault.Error{Kind: fault.KindNotFound, Detail: "No such merchant."}
		}
	}
	m, err := tx.MerchantByIdx(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		m, err = tx.MerchantByEmail(ctx, strings.ToLower(ref))
	}
	if errors.Is(err, store.ErrNotFound) {
		return m, &fault.Error{Kind: fault.KindNotFound, Detail: fmt.Sprintf("No merchant %q.", ref)}
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

// ShowMerchant returns a merchant's details (ref is its idx or email) for
// actor. A secret key that was issued automatically (live keys on
// go-live) and not yet shown is revealed once, then forgotten; the reveal
// is audited (keys.reveal), a show that reveals nothing is a read and is
// not.
func (s *Service) ShowMerchant(ctx context.Context, actor Actor, ref string) (MerchantInfo, error) {
	var info MerchantInfo
	err := s.operatorAction(ctx, actor, AuditRevealSecret, func(tx store.Tx) (auditRecord, error) {
		m, err := s.merchantByRef(ctx, tx, ref)
		if err != nil {
			return auditRecord{}, err
		}
		if info, err = s.merchantInfo(ctx, tx, m, true); err != nil {
			return auditRecord{}, err
		}
		var shown []string
		for _, k := range info.Keys {
			if k.Secret != "" {
				shown = append(shown, fmt.Sprintf("%s %s key %s", k.Key.Book, k.Key.Kind, k.Key.Prefix))
			}
		}
		return auditRecord{subject: m.Idx, detail: strings.Join(shown, ", "), skip: len(shown) == 0}, nil
	})
	return info, err
}

// ShowOwnMerchant is ShowMerchant for the merchant itself (its
// dashboard): a sealed secret is revealed to its owner, which is not an
// operator action, so nothing is audited.
func (s *Service) ShowOwnMerchant(ctx context.Context, merchantIdx string) (MerchantInfo, error) {
	var info MerchantInfo
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		m, err := s.merchantByRef(ctx, tx, merchantIdx)
		if err == nil {
			info, err = s.merchantInfo(ctx, tx, m, true)
		}
		return err
	})
	return info, fault.Wrap(err)
}

// MerchantDetails returns a merchant's details (ref is its idx or email)
// without revealing any secret: what an operator reads in the console.
func (s *Service) MerchantDetails(ctx context.Context, ref string) (MerchantInfo, error) {
	var info MerchantInfo
	err := s.store.View(ctx, func(tx store.Tx) error {
		m, err := s.merchantByRef(ctx, tx, ref)
		if err == nil {
			info, err = s.merchantInfo(ctx, tx, m, false)
		}
		return err
	})
	return info, fault.Wrap(err)
}

// merchantInfo reads m's keys, balances and fee schedules in tx; with
// reveal, a sealed secret is unsealed into its KeyInfo and forgotten.
func (s *Service) merchantInfo(ctx context.Context, tx store.Tx, m store.Merchant, reveal bool) (MerchantInfo, error) {
	info := MerchantInfo{Merchant: m, Balances: map[ledger.Book]money.Paisa{}, Fees: map[ledger.Book][]store.FeeTier{}}
	keys, err := tx.Keys(ctx, m.ID)
	if err != nil {
		return info, err
	}
	for _, k := range keys {
		ki := KeyInfo{Key: k}
		if k.Sealed != nil && reveal {
			secret, err := s.ring.Open(k.Sealed, nil)
			if err != nil {
				return info, err
			}
			ki.Secret = string(secret)
			if err := tx.ForgetSealedSecret(ctx, k.ID); err != nil {
				return info, err
			}
		}
		info.Keys = append(info.Keys, ki)
	}
	for _, b := range []ledger.Book{ledger.Test, ledger.Live} {
		if info.Balances[b], err = tx.Balance(ctx, account(b, ledger.Merchant, m.ID)); err != nil {
			return info, err
		}
		if info.Fees[b], err = tx.FeeTiers(ctx, m.ID, b); err != nil {
			return info, err
		}
	}
	return info, nil
}

// RotateKeys revokes a merchant's keys in one book and issues new ones,
// for actor (ref is the merchant's idx or email). It is audited
// (keys.rotate).
func (s *Service) RotateKeys(ctx context.Context, actor Actor, ref string, book ledger.Book) (KeyPair, error) {
	if !book.Valid() {
		return KeyPair{}, fault.FieldError("book", "Book must be test or live.")
	}
	kp := s.newKeyPair(book)
	err := s.operatorAction(ctx, actor, AuditRotateKeys, func(tx store.Tx) (auditRecord, error) {
		m, err := s.merchantByRef(ctx, tx, ref)
		if err != nil {
			return auditRecord{}, err
		}
		if err := s.rotateKeys(ctx, tx, m, kp); err != nil {
			return auditRecord{}, err
		}
		return auditRecord{subject: m.Idx, detail: fmt.Sprintf("%s book; new public key %s", book, kp.Public)}, nil
	})
	s.forgetKeys()
	if err != nil {
		return KeyPair{}, err
	}
	return kp, nil
}

// RotateOwnKeys is RotateKeys for the merchant itself (its dashboard),
// which is not an operator action, so nothing is audited.
func (s *Service) RotateOwnKeys(ctx context.Context, merchantIdx string, book ledger.Book) (KeyPair, error) {
	if !book.Valid() {
		return KeyPair{}, fault.FieldError("book", "Book must be test or live.")
	}
	kp := s.newKeyPair(book)
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		m, err := s.merchantByRef(ctx, tx, merchantIdx)
		if err != nil {
			return err
		}
		return s.rotateKeys(ctx, tx, m, kp)
	})
	s.forgetKeys()
	if err != nil {
		return KeyPair{}, fault.Wrap(err)
	}
	return kp, nil
}

// rotateKeys revokes m's keys in kp's book and stores kp. The live book
// can be rotated only once it has keys.
func (s *Service) rotateKeys(ctx context.Context, tx store.Tx, m store.Merchant, kp KeyPair) error {
	if kp.Book == ledger.Live {
		keys, err := tx.Keys(ctx, m.ID)
		if err != nil {
			return err
		}
		live := false
		for _, k := range keys {
			live = live || k.Book == ledger.Live
		}
		if !live {
			return fault.DetailError("This merchant has no live keys yet: they are issued after its first completed test payment.")
		}
	}
	if err := tx.RevokeKeys(ctx, m.ID, kp.Book, s.now()); err != nil {
		return err
	}
	return s.storeKeyPair(ctx, tx, m.ID, kp, false)
}

// CreateConsumer creates a wallet holder for actor. It is audited
// (wallet.create).
func (s *Service) CreateConsumer(ctx context.Context, actor Actor, mobile, name, mpin string) (store.Consumer, error) {
	c, err := s.newConsumer(mobile, name, mpin)
	if err != nil {
		return store.Consumer{}, err
	}
	err = s.operatorAction(ctx, actor, AuditCreateConsumer, func(tx store.Tx) (auditRecord, error) {
		return auditRecord{subject: c.Mobile, detail: c.Idx + ", " + c.Name}, insertConsumer(ctx, tx, &c)
	})
	return c, err
}

// createConsumer is CreateConsumer where no operator acts (a wallet's own
// sign-up, the sandbox seed), so nothing is audited.
func (s *Service) createConsumer(ctx context.Context, mobile, name, mpin string) (store.Consumer, error) {
	c, err := s.newConsumer(mobile, name, mpin)
	if err != nil {
		return store.Consumer{}, err
	}
	err = s.store.InTx(ctx, func(tx store.Tx) error { return insertConsumer(ctx, tx, &c) })
	return c, fault.Wrap(err)
}

// newConsumer checks a new wallet's details and returns the consumer to
// insert, its MPIN hashed.
func (s *Service) newConsumer(mobile, name, mpin string) (store.Consumer, error) {
	fields := map[string][]string{}
	if !phone.Valid(mobile) {
		fields["mobile"] = []string{"Enter a valid mobile number."}
	}
	if !ValidMPIN(mpin) {
		fields["mpin"] = []string{"Khalti PIN must be 4 digits long."}
	}
	if strings.TrimSpace(name) == "" {
		fields["name"] = []string{fault.MsgBlank}
	}
	if err := fault.FieldErrors(fields); err != nil {
		return store.Consumer{}, err
	}
	hash, err := s.hashMPIN(mpin)
	if err != nil {
		return store.Consumer{}, fault.Internal(err)
	}
	// An operator vouches for the wallets it makes (and the sandbox for its
	// payers): they count as confirmed.
	return store.Consumer{Idx: s.ids.New(), Mobile: mobile, Name: strings.TrimSpace(name), MPINHash: hash, Confirmed: true, CreatedAt: s.now()}, nil
}

// insertConsumer stores c, setting its ID, and forgets the wrong MPINs
// counted for its number before it had a wallet.
func insertConsumer(ctx context.Context, tx store.Tx, c *store.Consumer) error {
	err := tx.CreateConsumer(ctx, c)
	if errors.Is(err, store.ErrDuplicate) {
		return fault.FieldError("mobile", "A wallet with this mobile number already exists.")
	}
	if err != nil {
		return err
	}
	return tx.DeleteMPINGuard(ctx, c.Mobile)
}

// ResetMPIN sets a new MPIN and unlocks the wallet, for actor. It is
// audited (wallet.reset_mpin, with the lock and wrong-MPIN count it
// cleared; never the MPIN).
func (s *Service) ResetMPIN(ctx context.Context, actor Actor, mobile, mpin string) error {
	hash, err := s.newMPINHash(mpin)
	if err != nil {
		return err
	}
	return s.operatorAction(ctx, actor, AuditResetMPIN, func(tx store.Tx) (auditRecord, error) {
		c, err := s.setMPIN(ctx, tx, mobile, hash)
		return auditRecord{subject: mobile, detail: fmt.Sprintf("was locked: %t, wrong MPINs: %d", c.Locked, c.FailedMPIN)}, err
	})
}

// resetMPIN is ResetMPIN for the wallet's owner (after a reset code),
// which is not an operator action, so nothing is audited.
func (s *Service) resetMPIN(ctx context.Context, mobile, mpin string) error {
	hash, err := s.newMPINHash(mpin)
	if err != nil {
		return err
	}
	return fault.Wrap(s.store.InTx(ctx, func(tx store.Tx) error {
		_, err := s.setMPIN(ctx, tx, mobile, hash)
		return err
	}))
}

// newMPINHash checks a new MPIN and hashes it.
func (s *Service) newMPINHash(mpin string) (string, error) {
	if !ValidMPIN(mpin) {
		return "", fault.FieldError("mpin", "Khalti PIN must be 4 digits long.")
	}
	hash, err := s.hashMPIN(mpin)
	if err != nil {
		return "", fault.Internal(err)
	}
	return hash, nil
}

// setMPIN gives the wallet of mobile the MPIN hash and unlocks it in tx,
// returning the wallet as it was.
func (s *Service) setMPIN(ctx context.Context, tx store.Tx, mobile, hash string) (store.Consumer, error) {
	c, err := tx.ConsumerByMobile(ctx, mobile)
	if errors.Is(err, store.ErrNotFound) {
		return c, &fault.Error{Kind: fault.KindNotFound, Detail: fmt.Sprintf("No wallet for %s.", mobile)}
	}
	if err != nil {
		return c, err
	}
	return c, tx.ResetConsumerSecurity(ctx, c.ID, hash, false)
}

// Topup credits a wallet from the platform's funding account for actor
// and returns the new balance. It is audited (wallet.topup, with the
// amount, book and new balance).
func (s *Service) Topup(ctx context.Context, actor Actor, mobile string, book ledger.Book, amount money.Paisa) (money.Paisa, error) {
	if !book.Valid() {
		return 0, fault.FieldError("book", "Book must be test or live.")
	}
	if !phone.Valid(mobile) {
		return 0, fault.FieldError("mobile", "Enter a valid mobile number.")
	}
	if amount < 1 {
		return 0, fault.FieldError("amount", "Ensure this value is greater than or equal to 1.")
	}
	var bal money.Paisa
	err := s.operatorAction(ctx, actor, AuditTopup, func(tx store.Tx) (auditRecord, error) {
		var err error
		if bal, err = s.topup(ctx, tx, mobile, book, amount); err != nil {
			return auditRecord{}, err
		}
		return auditRecord{subject: mobile, detail: fmt.Sprintf("%d paisa, %s book; balance %d paisa", amount, book, bal)}, nil
	})
	return bal, err
}

// topup posts a top-up of the wallet of mobile in tx and returns its new
// balance; the caller has checked book and amount.
func (s *Service) topup(ctx context.Context, tx store.Tx, mobile string, book ledger.Book, amount money.Paisa) (money.Paisa, error) {
	c, err := tx.ConsumerByMobile(ctx, mobile)
	if errors.Is(err, store.ErrNotFound) {
		return 0, &fault.Error{Kind: fault.KindNotFound, Detail: fmt.Sprintf("No wallet for %s.", mobile)}
	}
	if err != nil {
		return 0, err
	}
	if !c.Confirmed {
		return 0, fault.DetailError("This wallet's phone number is not confirmed yet: it cannot be topped up.")
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
