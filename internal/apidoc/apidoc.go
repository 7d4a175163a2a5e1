// Package apidoc holds Thaili's OpenAPI 3.1 document (openapi.json, written
// by hand and embedded), serves it at /openapi.json and renders it as a
// readable HTML reference at /docs/, and validates JSON values against
// its schemas for the tests that keep the document and the handlers in
// step.
package apidoc

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
)

//go:embed openapi.json
var spec []byte

// JSON returns the document as served.
func JSON() []byte { return bytes.Clone(spec) }

// Document returns the document decoded (numbers as json.Number).
func Document() (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(spec))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	return doc, nil
}

// Methods are the operation keys of a path item, in display order.
var Methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Resolve follows a "#/..." reference within doc.
func Resolve(doc map[string]any, ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("unsupported $ref %q", ref)
	}
	var cur any = doc
	for _, part := range strings.Split(rest, "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %q: %q is not in an object", ref, part)
		}
		if cur, ok = m[part]; !ok {
			return nil, fmt.Errorf("$ref %q does not resolve (no %q)", ref, part)
		}
	}
	return cur, nil
}

// Deref follows v's $ref, if it has one, until an object without one.
func Deref(doc map[string]any, v any) (map[string]any, error) {
	for range 32 {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("not an object: %v", v)
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, nil
		}
		var err error
		if v, err = Resolve(doc, ref); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("$ref loop")
}

// ServeJSON serves the document (GET /openapi.json).
func ServeJSON(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	w.Write(spec)
	return nil
}

// ServeDocs serves the HTML reference (GET /docs/).
func ServeDocs(w http.ResponseWriter, r *http.Request) error {
	page, err := Render()
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	w.Write(page)
	return nil
}

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

// Operation is one method on one path, flattened for the reference page.
type Operation struct {
	ID, Method, Path, Summary, Description, PathNote, Auth string
	Tags                                                   []string
	Fields                                                 []Field
	Responses                                              []Response
}

// Operations flattens the document's operations, in path order.
func Operations(doc map[string]any) ([]Operation, error) {
	paths, _ := doc["paths"].(map[string]any)
	names := make([]string, 0, len(paths))
	for p := range paths {
		names = append(names, p)
	}
	sort.Strings(names)
	var ops []Operation
	for _, p := range names {
		item, _ := paths[p].(map[string]any)
		for _, m := range Methods {
			raw, ok := item[m].(map[string]any)
			if !ok {
				continue
			}
			op := Operation{Method: strings.ToUpper(m), Path: p, PathNote: str(item["description"]),
				ID: str(raw["operationId"]), Summary: str(raw["summary"]), Description: str(raw["description"]), Auth: "none"}
			for _, t := range list(raw["tags"]) {
				op.Tags = append(op.Tags, str(t))
			}
			security := raw["security"]
			if security == nil {
				security = doc["security"]
			}
			var auth []string
			for _, req := range list(security) {
				for name := range req.(map[string]any) {
					auth = append(auth, name+` (Authorization: "Key <secret>")`)
				}
			}
			if len(auth) > 0 {
				op.Auth = strings.Join(auth, " or ")
			}
			for _, pv := range list(raw["parameters"]) {
				prm, err := Deref(doc, pv)
				if err != nil {
					return nil, err
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
						return nil, err
					}
					req := map[string]bool{}
					for _, r := range list(schema["required"]) {
						req[str(r)] = true
					}
					props, _ := schema["properties"].(map[string]any)
					keys := make([]string, 0, len(props))
					for k := range props {
						keys = append(keys, k)
					}
					sort.Slice(keys, func(i, j int) bool {
						if req[keys[i]] != req[keys[j]] {
							return req[keys[i]]
						}
						return keys[i] < keys[j]
					})
					for _, k := range keys {
						ps, _ := Deref(doc, props[k])
						op.Fields = append(op.Fields, Field{Name: k, In: "body (" + strings.Join(media, ", ") + ")",
							Type: typeName(doc, ps), Description: str(ps["description"]), Required: req[k]})
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
					return nil, err
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
			ops = append(ops, op)
		}
	}
	return ops, nil
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

// Render renders the reference page from the document.
func Render() ([]byte, error) {
	doc, err := Document()
	if err != nil {
		return nil, err
	}
	ops, err := Operations(doc)
	if err != nil {
		return nil, err
	}
	info, _ := doc["info"].(map[string]any)
	comps, _ := doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	type prop struct{ Name, Type, Description string }
	type schemaView struct {
		Name, Description, Extra string
		Props                    []prop
	}
	var views []schemaView
	names := make([]string, 0, len(schemas))
	for n := range schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s, _ := schemas[n].(map[string]any)
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
			v.Props = append(v.Props, prop{k, t, str(ps["description"])})
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
	var b bytes.Buffer
	err = page.Execute(&b, map[string]any{"Title": str(info["title"]), "Version": str(info["version"]),
		"Summary": str(info["summary"]), "Description": str(info["description"]), "Ops": ops, "Schemas": views})
	return b.Bytes(), err
}

var page = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} API reference</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem;color:#222}
code,.path{font-family:ui-monospace,monospace}
section.op{border:1px solid #ccc;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}
.method{display:inline-block;min-width:4rem;font-weight:bold;padding:0 .4rem;border-radius:4px;background:#e8eefc}
.method.POST{background:#e6f4ea}
table{border-collapse:collapse;width:100%;margin:.4rem 0}
th,td{text-align:left;border-bottom:1px solid #eee;padding:.2rem .4rem;vertical-align:top}
.note{color:#555}
nav li{font-family:ui-monospace,monospace}
</style></head><body>
<h1>{{.Title}} API reference <small>{{.Version}}</small></h1>
<p>{{.Summary}}</p>
<p>{{.Description}}</p>
<p>The machine-readable document is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
<h2>Operations</h2>
<nav><ul>{{range .Ops}}<li><a href="#{{.ID}}">{{.Method}} {{.Path}}</a></li>{{end}}</ul></nav>
{{range .Ops}}<section class="op" id="{{.ID}}">
<h3><span class="method {{.Method}}">{{.Method}}</span> <span class="path">{{.Path}}</span></h3>
<p>{{.Summary}}</p>{{if .Description}}<p>{{.Description}}</p>{{end}}
{{if .PathNote}}<p class="note">{{.PathNote}}</p>{{end}}
<p><strong>Auth:</strong> {{.Auth}}</p>
{{if .Fields}}<table><tr><th>Request field</th><th>In</th><th>Type</th><th>Notes</th></tr>
{{range .Fields}}<tr><td><code>{{.Name}}</code>{{if .Required}} <strong>(required)</strong>{{end}}</td><td>{{.In}}</td><td>{{.Type}}</td><td>{{.Description}}</td></tr>
{{end}}</table>{{end}}
<table><tr><th>Status</th><th>Body</th><th>Meaning</th></tr>
{{range .Responses}}<tr><td>{{.Status}}</td><td>{{if .Media}}{{.Media}}{{if .Linked}}: <a href="#schema-{{.Schema}}">{{.Schema}}</a>{{else if .Schema}}: {{.Schema}}{{end}}{{end}}</td><td>{{.Description}}</td></tr>
{{end}}</table>
</section>
{{end}}
<h2>Schemas</h2>
{{range .Schemas}}<section id="schema-{{.Name}}"><h3>{{.Name}}</h3>{{if .Description}}<p>{{.Description}}</p>{{end}}
{{if .Props}}<table><tr><th>Field</th><th>Type</th><th>Notes</th></tr>
{{range .Props}}<tr><td><code>{{.Name}}</code></td><td>{{.Type}}</td><td>{{.Description}}</td></tr>
{{end}}</table>{{end}}{{if .Extra}}<p>{{.Extra}}</p>{{end}}</section>
{{end}}
</body></html>
`))
