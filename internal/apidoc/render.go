package apidoc

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"slices"
	"sort"
	"strings"

	"github.com/thaili/thaili/internal/payment"
)

//go:embed assets/docs.html
var pageSource string

var page = template.Must(template.New("docs").Parse(pageSource))

// Field is a request field or parameter as the reference page lists it.
type Field struct {
	Name, In, Type, Description string
	Required                    bool
}

// Response is one documented answer.
type Response struct {
	Status, Description, Media, Schema string
	Linked                             bool // Schema names a components schema
}

// Operation is one method on one path, or one webhook Thaili sends,
// flattened for the reference page.
type Operation struct {
	ID, Method, Path, Summary, Description, PathNote string
	// Auth is "secret key" (the KhaltiKey header), "public key in the
	// body" (a public_key field) or "none".
	Auth      string
	Tags      []string
	Fields    []Field
	Responses []Response
	// Webhook marks a request Thaili sends (the document's webhooks);
	// Path is then the webhook's name.
	Webhook bool
	// Example is a curl command for the operation, or for a webhook the
	// HTTP request Thaili sends; AnswerStatus and Answer are its success
	// answer's example, if it has a JSON or text one.
	Example, AnswerStatus, Answer string
	// guessed lists the example values for which the document had no
	// example (the tests require none).
	guessed []string
}

// keyOrder returns the keys of the document's top-level object section
// in the order they are written, so the page follows the document's
// order where Go's maps forget it.
func keyOrder(section string) []string {
	dec := json.NewDecoder(bytes.NewReader(spec))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil
		}
		if key != section {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil
			}
			continue
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			return nil
		}
		var keys []string
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return keys
			}
			keys = append(keys, fmt.Sprint(k))
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return keys
			}
		}
		return keys
	}
	return nil
}

// orderKeys sorts names by their place in order, unknown names last by name.
func orderKeys(names, order []string) {
	pos := map[string]int{}
	for i, k := range order {
		pos[k] = i
	}
	sort.Slice(names, func(i, j int) bool {
		pi, iok := pos[names[i]]
		pj, jok := pos[names[j]]
		if iok != jok {
			return iok
		}
		if iok {
			return pi < pj
		}
		return names[i] < names[j]
	})
}

// Operations flattens the document's operations, paths first and then
// webhooks, each in the document's order, with their examples.
func Operations(doc map[string]any) ([]Operation, error) {
	var ops []Operation
	for _, section := range []string{"paths", "webhooks"} {
		items, _ := doc[section].(map[string]any)
		names := make([]string, 0, len(items))
		for p := range items {
			names = append(names, p)
		}
		orderKeys(names, keyOrder(section))
		for _, p := range names {
			item, _ := items[p].(map[string]any)
			for _, m := range Methods {
				raw, ok := item[m].(map[string]any)
				if !ok {
					continue
				}
				op, err := operation(doc, p, item, m, raw)
				if err != nil {
					return nil, fmt.Errorf("%s %s: %w", m, p, err)
				}
				op.Webhook = section == "webhooks"
				if op.Webhook {
					op.Example, op.guessed, err = deliveryFor(doc, raw, op.ID)
				} else {
					op.Example, op.guessed, err = curlFor(doc, op, raw)
				}
				if err != nil {
					return nil, err
				}
				var guessed []string
				op.AnswerStatus, op.Answer, guessed, err = answerFor(doc, raw, op.ID)
				if err != nil {
					return nil, err
				}
				op.guessed = append(op.guessed, guessed...)
				ops = append(ops, op)
			}
		}
	}
	return ops, nil
}

// operation flattens one operation's fields and responses.
func operation(doc map[string]any, p string, item map[string]any, m string, raw map[string]any) (Operation, error) {
	op := Operation{Method: strings.ToUpper(m), Path: p, PathNote: str(item["description"]),
		ID: str(raw["operationId"]), Summary: str(raw["summary"]), Description: str(raw["description"]), Auth: "none"}
	for _, t := range list(raw["tags"]) {
		op.Tags = append(op.Tags, str(t))
	}
	security := raw["security"]
	if security == nil {
		security = doc["security"]
	}
	for _, req := range list(security) {
		if r, _ := req.(map[string]any); len(r) > 0 {
			op.Auth = "secret key"
		}
	}
	for _, pv := range list(raw["parameters"]) {
		prm, err := Deref(doc, pv)
		if err != nil {
			return op, err
		}
		schema, _ := Deref(doc, prm["schema"])
		op.Fields = append(op.Fields, Field{Name: str(prm["name"]), In: str(prm["in"]), Type: typeName(doc, schema),
			Description: str(prm["description"]), Required: prm["required"] == true})
	}
	if rb, ok := raw["requestBody"].(map[string]any); ok {
		content, _ := rb["content"].(map[string]any)
		var media []string
		for mt := range content {
			media = append(media, mt)
		}
		sort.Strings(media)
		if len(media) > 0 {
			mo, _ := content[media[0]].(map[string]any)
			schema, err := Deref(doc, mo["schema"])
			if err != nil {
				return op, err
			}
			req := map[string]bool{}
			var keys []string
			for _, r := range list(schema["required"]) {
				req[str(r)] = true
				keys = append(keys, str(r))
			}
			props, _ := schema["properties"].(map[string]any)
			var optional []string
			for k := range props {
				if !req[k] {
					optional = append(optional, k)
				}
			}
			sort.Strings(optional)
			for _, k := range append(keys, optional...) {
				own, _ := props[k].(map[string]any)
				ps, _ := Deref(doc, own)
				desc := str(own["description"]) // a description beside a $ref is about this field
				if desc == "" {
					desc = str(ps["description"])
				}
				op.Fields = append(op.Fields, Field{Name: k, In: "body", Type: schemaName(doc, own),
					Description: desc, Required: req[k]})
			}
			if op.Auth == "none" && req["public_key"] {
				op.Auth = "public key in the body"
			}
		}
	}
	resps, _ := raw["responses"].(map[string]any)
	codes := make([]string, 0, len(resps))
	for c := range resps {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		rs, err := Deref(doc, resps[c])
		if err != nil {
			return op, err
		}
		resp := Response{Status: c, Description: str(rs["description"])}
		content, _ := rs["content"].(map[string]any)
		for mt, mv := range content {
			resp.Media = mt
			mo, _ := mv.(map[string]any)
			resp.Schema = schemaName(doc, mo["schema"])
			sm, _ := mo["schema"].(map[string]any)
			_, resp.Linked = sm["$ref"]
		}
		op.Responses = append(op.Responses, resp)
	}
	return op, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// schemaName names a schema by its $ref, its anyOf members or its type.
func schemaName(doc map[string]any, v any) string {
	m, _ := v.(map[string]any)
	if ref, ok := m["$ref"].(string); ok {
		return ref[strings.LastIndex(ref, "/")+1:]
	}
	if alts := list(m["anyOf"]); len(alts) > 0 {
		names := make([]string, len(alts))
		for i, a := range alts {
			names[i] = schemaName(doc, a)
		}
		return strings.Join(names, " | ")
	}
	return typeName(doc, m)
}

// typeName is a schema's type for display ("string | null", "array of x").
func typeName(doc map[string]any, m map[string]any) string {
	var types []string
	switch t := m["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, x := range t {
			types = append(types, str(x))
		}
	}
	for i, t := range types {
		if t == "array" {
			if items, ok := m["items"].(map[string]any); ok {
				types[i] = "array of " + schemaName(doc, items)
			}
		}
	}
	s := strings.Join(types, " | ")
	if enum := list(m["enum"]); len(enum) > 0 {
		vals := make([]string, len(enum))
		for i, e := range enum {
			vals[i] = fmt.Sprint(e)
		}
		s += " (one of: " + strings.Join(vals, ", ") + ")"
	}
	return s
}

// tagView is one group of the page: a tag and its operations.
type tagView struct {
	Name, Display, Description string
	Ops                        []Operation
}

type prop struct{ Name, Type, Description string }

type schemaView struct {
	Name, Description, Extra string
	Props                    []prop
}

// license is info.license, if the document has one.
type license struct{ Name, URL, Identifier string }

// sandbox is what the quick start needs from the sandbox's seed.
type sandbox struct {
	PublicKey, SecretKey, Payers, Payer, MPIN, OTP, Server string
}

// pageView is the template's data.
type pageView struct {
	Title, Version, Summary, Description, CSS string
	License                                   *license
	Tags                                      []tagView
	Schemas                                   []schemaView
	Sandbox                                   sandbox
	// The quick start's requests and answers, built from the document.
	QuickInitiate, QuickInitiateAnswer, QuickPidx, QuickLookup, QuickLookupAnswer string
	InitiateID, LookupID, VerifyID                                                string
}

// Render renders the reference page from the document.
func Render() ([]byte, error) {
	doc, err := Document()
	if err != nil {
		return nil, err
	}
	return render(doc)
}

// render renders the page of a decoded document.
func render(doc map[string]any) ([]byte, error) {
	ops, err := Operations(doc)
	if err != nil {
		return nil, err
	}
	info, _ := doc["info"].(map[string]any)
	v := pageView{Title: str(info["title"]), Version: str(info["version"]), Summary: str(info["summary"]),
		Description: str(info["description"]), CSS: cssURL()}
	if l, ok := info["license"].(map[string]any); ok {
		v.License = &license{Name: str(l["name"]), URL: str(l["url"]), Identifier: str(l["identifier"])}
	}
	if v.Tags, err = groups(doc, ops); err != nil {
		return nil, err
	}
	v.Schemas = schemas(doc)
	cfg := payment.DefaultConfig()
	v.Sandbox = sandbox{PublicKey: payment.DemoPublicKey, SecretKey: payment.DemoSecretKey, MPIN: payment.SandboxMPIN, OTP: cfg.TestOTP,
		Payers: payment.SandboxPayers[0] + " to " + payment.SandboxPayers[len(payment.SandboxPayers)-1], Payer: payment.SandboxPayers[1],
		Server: "http://127.0.0.1:8000"} // serve's default --addr
	byID := map[string]Operation{}
	for _, op := range ops {
		byID[op.ID] = op
	}
	initiate, lookup, verify := byID["epaymentInitiate"], byID["epaymentLookup"], byID["legacyVerify"]
	if initiate.Example == "" || lookup.Path == "" || verify.Path == "" {
		return nil, fmt.Errorf("the quick start needs the operations epaymentInitiate, epaymentLookup and legacyVerify")
	}
	v.InitiateID, v.LookupID, v.VerifyID = initiate.ID, lookup.ID, verify.ID
	v.QuickInitiate, v.QuickInitiateAnswer = initiate.Example, initiate.Answer
	var answer struct{ Pidx string }
	if err := json.Unmarshal([]byte(initiate.Answer), &answer); err != nil || answer.Pidx == "" {
		return nil, fmt.Errorf("the example answer of epaymentInitiate has no pidx: %v", err)
	}
	v.QuickPidx = answer.Pidx
	// A form body, so the shell fills in the pidx without JSON quoting.
	v.QuickLookup = `curl "$B` + lookup.Path + `" \` + "\n" + `  -H "Authorization: Key $SK" \` + "\n" + `  -d "pidx=$PIDX"`
	v.QuickLookupAnswer = lookup.Answer
	var b bytes.Buffer
	if err := page.Execute(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// groups puts the operations under their first tag, in the document's
// order of tags; an operation whose tag is not declared is an error.
func groups(doc map[string]any, ops []Operation) ([]tagView, error) {
	var tags []tagView
	index := map[string]int{}
	for _, t := range list(doc["tags"]) {
		m, _ := t.(map[string]any)
		name := str(m["name"])
		display := str(m["x-displayName"])
		if display == "" {
			display = name
		}
		index[name] = len(tags)
		tags = append(tags, tagView{Name: name, Display: display, Description: str(m["description"])})
	}
	for _, op := range ops {
		if len(op.Tags) == 0 {
			return nil, fmt.Errorf("operation %s has no tag", op.ID)
		}
		i, ok := index[op.Tags[0]]
		if !ok {
			return nil, fmt.Errorf("operation %s: tag %q is not declared", op.ID, op.Tags[0])
		}
		tags[i].Ops = append(tags[i].Ops, op)
	}
	return slices.DeleteFunc(tags, func(t tagView) bool { return len(t.Ops) == 0 }), nil
}

// schemas lists the components' schemas by name with their fields.
func schemas(doc map[string]any) []schemaView {
	comps, _ := doc["components"].(map[string]any)
	all, _ := comps["schemas"].(map[string]any)
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	var views []schemaView
	for _, n := range names {
		s, _ := all[n].(map[string]any)
		v := schemaView{Name: n, Description: str(s["description"])}
		req := map[string]bool{}
		for _, r := range list(s["required"]) {
			req[str(r)] = true
		}
		props, _ := s["properties"].(map[string]any)
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ps, _ := props[k].(map[string]any)
			t := schemaName(doc, ps)
			if req[k] {
				t += ", required"
			}
			desc := str(ps["description"])
			if desc == "" {
				if target, err := Deref(doc, ps); err == nil {
					desc = str(target["description"])
				}
			}
			v.Props = append(v.Props, prop{k, t, desc})
		}
		if len(props) == 0 {
			v.Extra = typeName(doc, s)
		}
		switch ap := s["additionalProperties"].(type) {
		case bool:
			if !ap {
				v.Extra = strings.TrimSpace(v.Extra + " No other fields.")
			}
		case map[string]any:
			v.Extra = strings.TrimSpace(v.Extra + " Other fields: " + schemaName(doc, ap) + ".")
		}
		views = append(views, v)
	}
	return views
}
