package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/thaili/thaili/internal/config"
	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store"
)

// bank runs `thaili bank add` and `thaili bank list`: the operator's bank
// list, which the bank-list API serves. It starts empty, since Thaili
// pays from wallets only.
func (e env) bank(sub string, args []string) error {
	name := "bank " + sub
	fs := e.flags(name)
	var db config.Database
	config.AddDatabase(fs, config.Getenv(e.getenv), &db)
	var in payment.NewBank
	switch sub {
	case "add":
		fs.StringVar(&in.Name, "name", "", "the bank's full name (required)")
		fs.StringVar(&in.ShortName, "short-name", "", "short name, e.g. NABIL (required)")
		fs.StringVar(&in.Logo, "logo", "", "logo URL (http or https)")
		fs.StringVar(&in.SwiftCode, "swift-code", "", "SWIFT/BIC code, 8 or 11 characters")
		fs.StringVar(&in.Address, "address", "", "head office address")
		fs.StringVar(&in.EbankingURL, "ebanking-url", "", "e-banking URL (http or https)")
		fs.StringVar(&in.PlayStore, "play-store", "", "Play Store URL of the bank's app")
		fs.StringVar(&in.AppStore, "app-store", "", "App Store URL of the bank's app")
		fs.BoolVar(&in.HasEbanking, "ebanking", false, "offer for e-banking (payment_type ebanking, sdkebanking)")
		fs.BoolVar(&in.HasMobileCheckout, "mobile-checkout", false, "offer for mobile banking checkout (payment_type mobilecheckout)")
		fs.BoolVar(&in.HasCardpayment, "cardpayment", false, "offer for card payments (payment_type sct)")
		fs.BoolVar(&in.HasMobileBanking, "mobile-banking", false, "has mobile banking (has_mobile_banking)")
		fs.BoolVar(&in.HasNCHL, "nchl", false, "reachable through connectIPS (payment_type connectips)")
		fs.BoolVar(&in.HasDirectWithdraw, "direct-withdraw", false, "supports direct withdrawal")
	case "list":
	default:
		panic("thaili: commandList names " + name + ", which bank lacks")
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := e.open(db)
	if err != nil {
		return err
	}
	defer a.store.Close()
	if sub == "add" {
		b, err := a.svc.AddBank(e.ctx, e.actor(), in)
		if err != nil {
			return bankCLIError(err)
		}
		fmt.Fprintf(e.stdout, "added bank %s\n", bankLine(b))
		return nil
	}
	banks, total, err := a.svc.ListBanks(e.ctx, payment.BankQuery{Page: 1, PageSize: 1 << 30})
	if err != nil {
		return cliError(err)
	}
	if total == 0 {
		fmt.Fprintln(e.stdout, "no banks: the bank list is empty (add one with `thaili bank add`)")
		return nil
	}
	for _, b := range banks {
		fmt.Fprintln(e.stdout, bankLine(b))
	}
	return nil
}

// bankLine describes a bank on one line: idx, names and what it is offered for.
func bankLine(b store.Bank) string {
	var flags []string
	for _, f := range []struct {
		on   bool
		name string
	}{
		{b.HasEbanking, "ebanking"}, {b.HasMobileCheckout, "mobile-checkout"}, {b.HasCardpayment, "cardpayment"},
		{b.HasMobileBanking, "mobile-banking"}, {b.HasNCHL, "nchl"}, {b.HasDirectWithdraw, "direct-withdraw"},
	} {
		if f.on {
			flags = append(flags, f.name)
		}
	}
	if len(flags) == 0 {
		flags = []string{"no payment types"}
	}
	return fmt.Sprintf("%s %s %q [%s]", b.Idx, b.ShortName, b.Name, strings.Join(flags, ", "))
}

// bankCLIError is cliError with the service's field names (short_name)
// spelled as this command's flags (--short-name).
func bankCLIError(err error) error {
	var e *fault.Error
	if errors.As(err, &e) && len(e.Fields) > 0 {
		renamed := *e
		renamed.Fields = map[string][]string{}
		for f, msgs := range e.Fields {
			renamed.Fields[strings.ReplaceAll(f, "_", "-")] = msgs
		}
		return cliError(&renamed)
	}
	return cliError(err)
}
