package apidoc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// ordered is a JSON object that keeps its keys in the order given, so an
// example lists a schema's required fields first, as the schema does.
type ordered []member

type member struct {
	key   string
	value any
}

// MarshalJSON writes the members in order.
func (o ordered) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(m.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(m.value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// example builds a value for a schema from the document's examples.
type example struct {
	doc map[string]any
	// request shows an object's required fields only, or, when it has
	// none (a refund's body), its fields with an example that are not
	// deprecated; an answer shows every field that is required or has an
	// example.
	request bool
	// guessed lists where no example, enum or type-free default existed
	// and a placeholder was used: the tests require none.
	guessed []string
}

// value builds an example of schema s, at is its JSON path for guessed,
// and refs are the $refs being expanded (a schema containing itself gets
// an empty array there rather than an endless example).
func (e *example) value(s any, at string, refs map[string]bool) any {
	m, _ := s.(map[string]any)
	if ex := list(m["examples"]); len(ex) > 0 {
		return ex[0]
	}
	if ref, ok := m["$ref"].(string); ok {
		if refs[ref] {
			return nil
		}
		target, err := Resolve(e.doc, ref)
		if err != nil {
			e.guessed = append(e.guessed, at+": "+err.Error())
			return nil
		}
		inner := map[string]bool{ref: true}
		for r := range refs {
			inner[r] = true
		}
		return e.value(target, at, inner)
	}
	if enum := list(m["enum"]); len(enum) > 0 {
		return enum[0]
	}
	if alts := list(m["anyOf"]); len(alts) > 0 {
		return e.value(alts[0], at, refs)
	}
	types := typesOf(m)
	switch {
	case types["object"] && m["properties"] != nil:
		return e.object(m, at, refs)
	case types["array"]:
		items, _ := m["items"].(map[string]any)
		if ref, ok := items["$ref"].(string); ok && refs[ref] {
			return []any{}
		}
		if items == nil {
			return []any{}
		}
		return []any{e.value(items, at+"[0]", refs)}
	case types["null"] && len(types) == 1:
		return nil
	}
	e.guessed = append(e.guessed, at)
	switch {
	case types["object"]:
		return ordered{}
	case types["integer"], types["number"]:
		return 0
	case types["boolean"]:
		return false
	}
	return "string"
}

// object builds an object's example: its required fields in the order
// the schema lists them, then the others that have an example, by name.
func (e *example) object(m map[string]any, at string, refs map[string]bool) ordered {
	props, _ := m["properties"].(map[string]any)
	var keys []string
	required := map[string]bool{}
	for _, r := range list(m["required"]) {
		if _, ok := props[str(r)]; ok {
			keys = append(keys, str(r))
			required[str(r)] = true
		}
	}
	var optional []string
	for k, p := range props {
		if required[k] {
			continue
		}
		pm, _ := p.(map[string]any)
		if e.request && len(keys) == 0 && len(list(pm["examples"])) > 0 && pm["deprecated"] != true || !e.request && e.hasExample(pm) {
			optional = append(optional, k)
		}
	}
	sort.Strings(optional)
	out := ordered{}
	for _, k := range append(keys, optional...) {
		out = append(out, member{k, e.value(props[k], at+"."+k, refs)})
	}
	return out
}

// hasExample reports whether a schema, or the one it refers to, carries
// examples or an enum of its own (an answer's optional field is shown
// only then).
func (e *example) hasExample(m map[string]any) bool {
	if len(list(m["examples"])) > 0 || len(list(m["enum"])) > 0 {
		return true
	}
	if ref, ok := m["$ref"].(string); ok {
		if target, err := Resolve(e.doc, ref); err == nil {
			t, _ := target.(map[string]any)
			return len(list(t["examples"])) > 0 || len(list(t["enum"])) > 0 || t["properties"] != nil
		}
	}
	return false
}

// typesOf is a schema's type keyword as a set.
func typesOf(m map[string]any) map[string]bool {
	types := map[string]bool{}
	switch t := m["type"].(type) {
	case string:
		types[t] = true
	case []any:
		for _, x := range t {
			types[str(x)] = true
		}
	}
	return types
}

// pretty indents an example as JSON, with & < > as they are (the page
// escapes its HTML itself).
func pretty(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// shellQuote quotes s for a POSIX shell: in double quotes when nothing
// in it is special there (as the page's other headers are), else in
// single quotes.
func shellQuote(s string) string {
	if !strings.ContainsAny(s, "\"$`\\!\n") {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// curlFor writes a curl command for op: its method, path with example
// path parameters, the query parameters that are required or have an
// example, the required headers, the secret key when it takes one, and a
// JSON body built from the request schema. $B (the server) and $SK (the
// secret key) are the quick start's shell variables.
func curlFor(doc map[string]any, op Operation, raw map[string]any) (string, []string, error) {
	var guessed []string
	path := op.Path
	var query []string
	var headers []string
	for _, pv := range list(raw["parameters"]) {
		p, err := Deref(doc, pv)
		if err != nil {
			return "", nil, err
		}
		ex, has := p["example"]
		required := p["required"] == true
		// Optional headers (Idempotency-Key) are left out: one key
		// pasted into several examples would make all but the first 422.
		if !has && !required || !required && str(p["in"]) == "header" {
			continue
		}
		if !has {
			guessed = append(guessed, op.ID+" parameter "+str(p["name"]))
			ex = "..."
		}
		val := fmt.Sprint(ex)
		switch str(p["in"]) {
		case "path":
			path = strings.ReplaceAll(path, "{"+str(p["name"])+"}", url.PathEscape(val))
		case "query":
			query = append(query, url.QueryEscape(str(p["name"]))+"="+url.QueryEscape(val))
		case "header":
			headers = append(headers, str(p["name"])+": "+val)
		}
	}
	target := "$B" + path
	if len(query) > 0 {
		target += "?" + strings.Join(query, "&")
	}
	lines := []string{"curl"}
	body, hasBody := "", false
	if rb, ok := raw["requestBody"].(map[string]any); ok {
		content, _ := rb["content"].(map[string]any)
		mo, ok := content["application/json"].(map[string]any)
		if !ok {
			return "", nil, fmt.Errorf("%s: a request body without application/json", op.ID)
		}
		e := &example{doc: doc, request: true}
		v := e.value(mo["schema"], op.ID+" body", map[string]bool{})
		guessed = append(guessed, e.guessed...)
		// An optional body that would be empty is left out (a full
		// refund is the POST without one).
		if obj, isObject := v.(ordered); rb["required"] == true || !isObject || len(obj) > 0 {
			s, err := pretty(v)
			if err != nil {
				return "", nil, err
			}
			body, hasBody = s, true
		}
	}
	if op.Method != "GET" && (op.Method != "POST" || !hasBody) {
		lines[0] += " -X " + op.Method
	}
	lines[0] += ` "` + target + `"`
	if op.Auth == "secret key" {
		lines = append(lines, `-H "Authorization: Key $SK"`)
	}
	for _, h := range headers {
		lines = append(lines, "-H "+shellQuote(h))
	}
	if hasBody {
		lines = append(lines, `-H "Content-Type: application/json"`, "-d "+shellQuote(body))
	}
	return strings.Join(lines, " \\\n  "), guessed, nil
}

// answerFor is the example answer of op's first 2xx response with a JSON
// or text body, as "status" and the body; "" when there is none.
func answerFor(doc map[string]any, raw map[string]any, id string) (string, string, []string, error) {
	resps, _ := raw["responses"].(map[string]any)
	codes := make([]string, 0, len(resps))
	for c := range resps {
		if strings.HasPrefix(c, "2") {
			codes = append(codes, c)
		}
	}
	sort.Strings(codes)
	for _, c := range codes {
		r, err := Deref(doc, resps[c])
		if err != nil {
			return "", "", nil, err
		}
		content, _ := r["content"].(map[string]any)
		if mo, ok := content["application/json"].(map[string]any); ok {
			if ex, ok := mo["example"]; ok { // this answer's own, where the schema's would mislead
				s, err := pretty(ex)
				return c, s, nil, err
			}
			e := &example{doc: doc}
			s, err := pretty(e.value(mo["schema"], id+" answer", map[string]bool{}))
			return c, s, e.guessed, err
		}
		if mo, ok := content["text/plain"].(map[string]any); ok {
			sm, _ := mo["schema"].(map[string]any)
			if ex := list(sm["examples"]); len(ex) > 0 {
				return c, fmt.Sprint(ex[0]), nil, nil
			}
		}
	}
	return "", "", nil, nil
}

// deliveryFor is an example of a webhook operation as the HTTP request
// Thaili sends: its header parameters and JSON body.
func deliveryFor(doc map[string]any, raw map[string]any, id string) (string, []string, error) {
	lines := []string{"POST /thaili/webhook HTTP/1.1", "Host: shop.example", "Content-Type: application/json"}
	var guessed []string
	for _, pv := range list(raw["parameters"]) {
		p, err := Deref(doc, pv)
		if err != nil {
			return "", nil, err
		}
		ex, ok := p["example"]
		if !ok {
			guessed = append(guessed, id+" parameter "+str(p["name"]))
		}
		if str(p["in"]) == "header" {
			lines = append(lines, str(p["name"])+": "+fmt.Sprint(ex))
		}
	}
	rb, _ := raw["requestBody"].(map[string]any)
	content, _ := rb["content"].(map[string]any)
	mo, ok := content["application/json"].(map[string]any)
	if !ok {
		return "", nil, fmt.Errorf("%s: no JSON body", id)
	}
	e := &example{doc: doc}
	body, err := pretty(e.value(mo["schema"], id+" body", map[string]bool{}))
	if err != nil {
		return "", nil, err
	}
	return strings.Join(lines, "\n") + "\n\n" + body, append(guessed, e.guessed...), nil
}
