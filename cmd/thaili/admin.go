package main

import (
	"fmt"
	"log/slog"

	"github.com/thaili/thaili/internal/config"
	"github.com/thaili/thaili/internal/payment"
)

// operatorAdmin runs `thaili admin <subcommand>`: the operators of the
// console at /admin/.
func (e env) operatorAdmin(args []string) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprint(e.stderr, usage)
		if len(args) == 0 {
			return exitError{2, "admin: missing subcommand"}
		}
		return exitError{2, fmt.Sprintf("unknown command %q", "admin "+args[0])}
	}
	fs := e.flags("admin create")
	var db config.Database
	config.AddDatabase(fs, config.Getenv(e.getenv), &db)
	email := fs.String("email", "", "the operator's login email (required)")
	password := fs.String("password", "", "password, 10 to 128 characters (required; THAILI_ADMIN_PASSWORD if unset)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *password == "" {
		*password = e.getenv("THAILI_ADMIN_PASSWORD")
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rules := payment.DefaultConfig()
	a, err := e.open(db, rules, log)
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
