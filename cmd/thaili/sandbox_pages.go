package main

import (
	"log/slog"

	"github.com/thaili/thaili/internal/config"
	"github.com/thaili/thaili/internal/home"
	"github.com/thaili/thaili/internal/inbox"
)

// newInbox is the sandbox inbox of a sandbox server (internal/inbox), and
// nil on any other: only a sandbox shows the codes it sends.
func newInbox(cfg config.Serve, log *slog.Logger) (*inbox.Inbox, error) {
	if !cfg.Sandbox {
		return nil, nil
	}
	return inbox.New(inbox.Options{Log: log, PublicURL: cfg.PublicURL})
}

// homePage is the home page (internal/home): on a sandbox it shows the
// fixtures (keys, payers, code), on any other server only the links.
func homePage(a *app, cfg config.Serve, box *inbox.Inbox, log *slog.Logger) (*home.Page, error) {
	o := home.Options{Log: log}
	if cfg.Sandbox {
		rules := a.svc.Config()
		// serve seeds the fixtures and serves the demo shop only on SQLite
		// (see serve and buildHandler).
		o.Sandbox = &home.Sandbox{Seeded: a.sqlite, Code: rules.TestOTP, Inbox: box != nil, PendingDelay: rules.SandboxPendingDelay}
	}
	return home.New(o)
}
