package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/thaili/thaili/internal/config"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store"
)

// adminCreate runs `thaili admin create`: an operator of the console at
// /admin/.
func (e env) adminCreate(args []string) error {
	fs := e.flags("admin create")
	var db config.Database
	config.AddDatabase(fs, config.Getenv(e.getenv), &db)
	email := fs.String("email", "", "the operator's login email (required)")
	password := fs.String("password", "", "password, 10 to 128 characters (required; THAILI_ADMIN_PASSWORD if unset)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *password == "" {
		*password = e.getenv("THAILI_ADMIN_PASSWORD")
	}
	a, err := e.open(db)
	if err != nil {
		return err
	}
	defer a.store.Close()
	o, err := a.id.CreateOperator(e.ctx, e.actor(), *email, *password)
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintf(e.stdout, "created operator %s; log in at /admin/login/\n", o.Email)
	return nil
}

// adminFlags are the operator subcommands' flags; each command defines
// the ones it takes.
type adminFlags struct {
	merchant, name, email, mobile, mpin, kyc, book, amount, reason string
}

// adminCommand is one operator subcommand: the flags it takes and what
// it does once the database is open.
type adminCommand struct {
	flags func(fs *flag.FlagSet, f *adminFlags)
	run   func(e env, a *app, f adminFlags) error
}

// adminCommands are the operator subcommands by name ("merchant create").
// Every one that changes something is audited as e.actor() by the
// service it calls.
func adminCommands() map[string]adminCommand {
	merchantFlag := func(fs *flag.FlagSet, f *adminFlags) {
		fs.StringVar(&f.merchant, "merchant", "", "merchant idx or email (required)")
	}
	return map[string]adminCommand{
		"merchant create": {
			flags: func(fs *flag.FlagSet, f *adminFlags) {
				fs.StringVar(&f.name, "name", "", "business name (required)")
				fs.StringVar(&f.email, "email", "", "login email (required)")
				fs.StringVar(&f.mobile, "mobile", "", "the owner's own wallet mobile, which may not pay this merchant")
				fs.StringVar(&f.kyc, "kyc", "none", "KYC state: none, submitted, approved or rejected")
			},
			run: func(e env, a *app, f adminFlags) error {
				m, kp, err := a.id.CreateMerchant(e.ctx, e.actor(), identity.NewMerchant{Name: f.name, Email: f.email, Mobile: f.mobile, KYC: store.KYC(f.kyc)})
				if err != nil {
					return cliError(err)
				}
				fmt.Fprintf(e.stdout, "created merchant %s %q <%s>, KYC %s\n", m.Idx, m.Name, m.Email, m.KYC)
				fmt.Fprintf(e.stdout, "test public key: %s\ntest secret key: %s\n(the secret key is shown only now)\n", kp.Public, kp.Secret)
				return nil
			},
		},
		"merchant show": {
			flags: merchantFlag,
			run: func(e env, a *app, f adminFlags) error {
				info, err := a.svc.ShowMerchant(e.ctx, e.actor(), f.merchant)
				if err != nil {
					return cliError(err)
				}
				printMerchant(e.stdout, info)
				return nil
			},
		},
		"kyc approve": {
			flags: func(fs *flag.FlagSet, f *adminFlags) {
				merchantFlag(fs, f)
				fs.StringVar(&f.kyc, "state", "approved", "KYC state to set")
				fs.StringVar(&f.reason, "reason", "", "why (required with --state rejected; the merchant sees it)")
			},
			run: func(e env, a *app, f adminFlags) error {
				m, err := a.id.SetKYC(e.ctx, e.actor(), f.merchant, store.KYC(f.kyc), f.reason)
				if err != nil {
					return cliError(err)
				}
				fmt.Fprintf(e.stdout, "merchant %s KYC is now %s\n", m.Idx, m.KYC)
				return nil
			},
		},
		"consumer create": {
			flags: func(fs *flag.FlagSet, f *adminFlags) {
				fs.StringVar(&f.mobile, "mobile", "", "10-digit mobile, e.g. 9812345678 (required)")
				fs.StringVar(&f.name, "name", "", "full name (required)")
				fs.StringVar(&f.mpin, "mpin", "", "4-digit MPIN (required)")
			},
			run: func(e env, a *app, f adminFlags) error {
				c, err := a.id.CreateConsumer(e.ctx, e.actor(), f.mobile, f.name, f.mpin)
				if err != nil {
					return cliError(err)
				}
				fmt.Fprintf(e.stdout, "created wallet %s for %s (%s)\n", c.Idx, c.Mobile, c.Name)
				return nil
			},
		},
		"consumer topup": {
			flags: func(fs *flag.FlagSet, f *adminFlags) {
				fs.StringVar(&f.mobile, "mobile", "", "wallet mobile (required)")
				fs.StringVar(&f.amount, "amount", "", "amount in paisa (required)")
				fs.StringVar(&f.book, "book", "test", "book: test or live")
			},
			run: func(e env, a *app, f adminFlags) error {
				p, err := money.Parse(f.amount)
				if err != nil {
					return exitError{code: 2, msg: "--amount: " + err.Error()}
				}
				bal, err := a.svc.Topup(e.ctx, e.actor(), f.mobile, ledger.Book(f.book), p)
				if err != nil {
					return cliError(err)
				}
				fmt.Fprintf(e.stdout, "credited %d paisa to %s (%s book); balance %d paisa\n", p, f.mobile, f.book, bal)
				return nil
			},
		},
		"consumer reset-mpin": {
			flags: func(fs *flag.FlagSet, f *adminFlags) {
				fs.StringVar(&f.mobile, "mobile", "", "wallet mobile (required)")
				fs.StringVar(&f.mpin, "mpin", "", "new 4-digit MPIN (required)")
			},
			run: func(e env, a *app, f adminFlags) error {
				if err := a.id.ResetMPIN(e.ctx, e.actor(), f.mobile, f.mpin); err != nil {
					return cliError(err)
				}
				fmt.Fprintf(e.stdout, "MPIN of %s reset; wallet unlocked\n", f.mobile)
				return nil
			},
		},
		"keys rotate": {
			flags: func(fs *flag.FlagSet, f *adminFlags) {
				merchantFlag(fs, f)
				fs.StringVar(&f.book, "book", "test", "book: test or live")
			},
			run: func(e env, a *app, f adminFlags) error {
				kp, err := a.id.RotateKeys(e.ctx, e.actor(), f.merchant, ledger.Book(f.book))
				if err != nil {
					return cliError(err)
				}
				fmt.Fprintf(e.stdout, "revoked the old %s keys\n%s public key: %s\n%s secret key: %s\n(the secret key is shown only now)\n",
					f.book, f.book, kp.Public, f.book, kp.Secret)
				return nil
			},
		},
		"sandbox seed": {run: func(e env, a *app, _ adminFlags) error { return e.printSandbox(a.svc) }},
		"ledger check": {run: func(e env, a *app, _ adminFlags) error { return e.checkLedger(a) }},
	}
}

// admin runs the operator subcommand name (adminCommands) with args.
func (e env) admin(name string, args []string) error {
	cmd, ok := adminCommands()[name]
	if !ok {
		panic("thaili: commandList names " + name + ", which adminCommands lacks")
	}
	fs := e.flags(name)
	var db config.Database
	config.AddDatabase(fs, config.Getenv(e.getenv), &db)
	var f adminFlags
	if cmd.flags != nil {
		cmd.flags(fs, &f)
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := e.open(db)
	if err != nil {
		return err
	}
	defer a.store.Close()
	return cmd.run(e, a, f)
}

// printMerchant writes what `merchant show` shows: the merchant, its keys
// (a secret not shown before, once), and its balances.
func printMerchant(out io.Writer, info payment.MerchantInfo) {
	m := info.Merchant
	fmt.Fprintf(out, "merchant %s %q <%s>\nKYC: %s\ncreated: %s\n", m.Idx, m.Name, m.Email, m.KYC, m.CreatedAt.Format(time.RFC3339))
	live := false
	for _, k := range info.Keys {
		status := "active"
		if !k.Key.RevokedAt.IsZero() {
			status = "revoked " + k.Key.RevokedAt.Format(time.RFC3339)
		}
		shown := k.Key.Prefix
		if k.Secret != "" {
			shown = k.Secret + "  (shown once; store it now)"
		}
		live = live || (k.Key.Book == ledger.Live && k.Key.RevokedAt.IsZero())
		fmt.Fprintf(out, "%s %s key: %s [%s]\n", k.Key.Book, k.Key.Kind, shown, status)
	}
	if !live {
		fmt.Fprintln(out, "live keys: not yet issued (they are issued after the first completed test payment)")
	}
	fmt.Fprintf(out, "balance: test %d paisa, live %d paisa\n", info.Balances[ledger.Test], info.Balances[ledger.Live])
}

// checkLedger runs the ledger check and prints what it found; a broken
// invariant is exit status 1.
func (e env) checkLedger(a *app) error {
	v, err := a.svc.CheckLedger(e.ctx)
	if err != nil {
		return err
	}
	if len(v) > 0 {
		for _, x := range v {
			fmt.Fprintln(e.stdout, x)
		}
		return exitError{code: 1, msg: fmt.Sprintf("ledger check failed: %d violation(s)", len(v))}
	}
	fmt.Fprintln(e.stdout, "ledger ok: every book sums to zero, balances match postings, no overdrafts, refunds within captures")
	return nil
}
