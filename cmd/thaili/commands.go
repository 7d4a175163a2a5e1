package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// commandInfo is one command as thaili presents it: its name as typed
// ("merchant create"), the one line the usage and its -h show, and an
// example invocation for its -h.
type commandInfo struct {
	name, summary, example string
}

// commandList is every command that takes flags, in the order the usage
// lists them. A name with a space is a subcommand of the group named by
// its first word.
var commandList = []commandInfo{
	{"serve", "run the HTTP server (SQLite sandbox by default; creates and migrates the database)",
		"thaili serve --addr 127.0.0.1:8000 --database-url ./thaili.db"},
	{"migrate", "create the database if needed and apply its migrations",
		"thaili migrate --database-url 'postgres://postgres@127.0.0.1:5432/thaili?sslmode=disable'"},
	{"merchant create", "create a merchant and print its test keys",
		`thaili merchant create --name "Himal Books" --email books@himal.np --kyc approved`},
	{"merchant show", "show a merchant, its keys and balances",
		"thaili merchant show --merchant books@himal.np"},
	{"kyc approve", "approve (or set) a merchant's KYC state",
		"thaili kyc approve --merchant books@himal.np"},
	{"consumer create", "create a wallet holder",
		`thaili consumer create --mobile 9812345678 --name "Sita Sharma" --mpin 1234`},
	{"consumer topup", "credit a wallet from platform funding (--amount in paisa)",
		"thaili consumer topup --mobile 9812345678 --amount 100000"},
	{"consumer reset-mpin", "set a new MPIN and unlock the wallet",
		"thaili consumer reset-mpin --mobile 9812345678 --mpin 4321"},
	{"keys rotate", "revoke a merchant's keys in one book and issue new ones",
		"thaili keys rotate --merchant books@himal.np --book test"},
	{"bank add", "add a bank to the bank list (empty by default)",
		`thaili bank add --name "Nabil Bank Limited" --short-name NABIL --swift-code NARBNPKA --ebanking --mobile-banking`},
	{"bank list", "show the bank list",
		"thaili bank list --database-url ./thaili.db"},
	{"ledger check", "verify every ledger invariant",
		"thaili ledger check --database-url ./thaili.db"},
	{"sandbox seed", "add the demo merchant and test payers (automatic on SQLite)",
		"thaili sandbox seed --database-url 'postgres://postgres@127.0.0.1:5432/thaili?sslmode=disable'"},
	{"admin create", "create an operator of the console at /admin/",
		"thaili admin create --email ops@example.com --password 'a long passphrase'"},
	{"bench", "load-test a running server with concurrent legacy payments",
		"thaili bench --url http://127.0.0.1:8000 --database-url ./thaili.db --payers 16 --duration 30s"},
}

// commandGroups are the groups of subcommands and what they are about.
var commandGroups = map[string]string{
	"merchant": "merchants",
	"kyc":      "merchants' KYC",
	"consumer": "wallets",
	"keys":     "merchants' API keys",
	"bank":     "the bank list",
	"ledger":   "the ledger",
	"sandbox":  "the sandbox's demo merchant and test payers",
	"admin":    "operators of the console at /admin/",
}

// lookupCommand returns the command named name ("merchant create").
func lookupCommand(name string) (commandInfo, bool) {
	for _, c := range commandList {
		if c.name == name {
			return c, true
		}
	}
	return commandInfo{}, false
}

// subcommands returns the commands of group, in the usage's order.
func subcommands(group string) []commandInfo {
	var out []commandInfo
	for _, c := range commandList {
		if g, _, ok := strings.Cut(c.name, " "); ok && g == group {
			out = append(out, c)
		}
	}
	return out
}

// commandLines writes one usage line per command.
func commandLines(w io.Writer, cmds []commandInfo) {
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-28s %s\n", "thaili "+c.name, c.summary)
	}
}

// writeUsage writes the usage of thaili: every command.
func writeUsage(w io.Writer) {
	fmt.Fprint(w, "thaili: a self-hosted, Khalti-compatible wallet payment gateway\n\nUsage:\n")
	commandLines(w, commandList)
	commandLines(w, []commandInfo{{name: "version", summary: "print the version"}})
	fmt.Fprint(w, `
Run "thaili <command> -h" for a command's flags and an example, and "thaili merchant"
(or any other group) for the group's subcommands. Every command says on stderr which
database it uses; only serve and migrate create one.
`)
}

// writeGroupUsage writes the usage of a group: its subcommands.
func writeGroupUsage(w io.Writer, group string) {
	fmt.Fprintf(w, "thaili %s: %s\n\nUsage:\n", group, commandGroups[group])
	commandLines(w, subcommands(group))
	fmt.Fprintf(w, "\nRun \"thaili %s <subcommand> -h\" for a subcommand's flags and an example.\n", group)
}

// setUsage makes fs's -h show what the command named name does and an
// example before its flags.
func setUsage(fs *flag.FlagSet, name string) {
	c, ok := lookupCommand(name)
	if !ok {
		panic("thaili: no usage for command " + name) // commandList lists every command
	}
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "thaili %s: %s\n\nUsage:\n  thaili %s [flags]\n\nExample:\n  %s\n\nFlags:\n", c.name, c.summary, c.name, c.example)
		fs.PrintDefaults()
	}
}

// dispatch runs the command named name with its arguments.
func (e env) dispatch(name string, args []string) error {
	e.command = name
	switch {
	case name == "serve":
		return e.serve(args)
	case name == "migrate":
		return e.migrate(args)
	case name == "bench":
		return e.bench(args)
	case name == "admin create":
		return e.adminCreate(args)
	case strings.HasPrefix(name, "bank "):
		return e.bank(strings.TrimPrefix(name, "bank "), args)
	}
	return e.admin(name, args)
}

// runGroup runs `thaili <group> ...`: the subcommand named by args[0],
// or, without one, the group's usage.
func (e env) runGroup(group string, args []string) error {
	if len(args) == 0 {
		msg := group + ": missing subcommand"
		fmt.Fprintf(e.stderr, "thaili: %s\n\n", msg)
		writeGroupUsage(e.stderr, group)
		return exitError{code: 2, msg: msg, shown: true}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		writeGroupUsage(e.stdout, group)
		return nil
	}
	name := group + " " + args[0]
	if _, ok := lookupCommand(name); ok {
		return e.dispatch(name, args[1:])
	}
	var names []string
	for _, c := range subcommands(group) {
		names = append(names, strings.TrimPrefix(c.name, group+" "))
	}
	msg := fmt.Sprintf("unknown command %q", name)
	if s := closest(args[0], names); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", group+" "+s)
	}
	fmt.Fprintf(e.stderr, "thaili: %s\n\n", msg)
	writeGroupUsage(e.stderr, group)
	return exitError{code: 2, msg: msg, shown: true}
}

// unknownCommand says that name is no command, first, with the closest
// command if one is close, then shows the usage.
func (e env) unknownCommand(name string) error {
	msg := fmt.Sprintf("unknown command %q", name)
	if strings.HasPrefix(name, "-") {
		msg += `: flags go after the command, as in "thaili ledger check --database-url ./thaili.db"`
	} else {
		names := []string{"version", "help"}
		for _, c := range commandList {
			if first, _, _ := strings.Cut(c.name, " "); !slices.Contains(names, first) {
				names = append(names, first)
			}
		}
		if s := closest(name, names); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
	}
	fmt.Fprintf(e.stderr, "thaili: %s\n\n", msg)
	writeUsage(e.stderr)
	return exitError{code: 2, msg: msg, shown: true}
}

// closest returns the name in names that got most likely misspells: the
// only one got is the start of, else the nearest by edit distance if
// that is small for got's length (1 edit up to 5 letters, 2 from 6),
// else "".
func closest(got string, names []string) string {
	got = strings.ToLower(got)
	var prefixed []string
	for _, n := range names {
		if len(got) >= 2 && strings.HasPrefix(n, got) && !slices.Contains(prefixed, n) {
			prefixed = append(prefixed, n)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	best, bestDist := "", max(1, min(2, len(got)/3))+1
	for _, n := range names {
		if d := editDistance(got, n); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

// editDistance is the number of edits between a and b: letters
// inserted, deleted, replaced or two neighbours swapped (the optimal
// string alignment distance, in bytes: command names are ASCII), since
// swapped letters are the commonest typo.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
