package apidoc

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// walk calls f on every object in v with its JSON pointer.
func walk(v any, at string, f func(m map[string]any, at string)) {
	switch v := v.(type) {
	case map[string]any:
		f(v, at)
		for k, x := range v {
			walk(x, at+"/"+strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1"), f)
		}
	case []any:
		for i, x := range v {
			walk(x, at+"/"+strconv.Itoa(i), f)
		}
	}
}

func TestDocumentIsValid(t *testing.T) {
	if !json.Valid(spec) {
		t.Fatal("openapi.json is not valid JSON")
	}
	doc, err := Document()
	if err != nil {
		t.Fatal(err)
	}
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi = %v", doc["openapi"])
	}
	info, _ := doc["info"].(map[string]any)
	if info["title"] == nil || info["version"] == nil {
		t.Fatal("info lacks title or version")
	}
	servers, _ := doc["servers"].([]any)
	if len(servers) == 0 || strings.Contains(servers[0].(map[string]any)["url"].(string), "://") {
		t.Fatalf("servers should be relative: %v", servers)
	}
	ks, err := Resolve(doc, "#/components/securitySchemes/KhaltiKey")
	if err != nil {
		t.Fatal(err)
	}
	if k := ks.(map[string]any); k["type"] != "apiKey" || k["in"] != "header" || k["name"] != "Authorization" ||
		!strings.Contains(k["description"].(string), "Key <secret>") {
		t.Fatalf("security scheme: %v", k)
	}
	refs, supported := 0, map[string]bool{"$ref": true, "type": true, "properties": true, "required": true,
		"additionalProperties": true, "items": true, "maxItems": true, "enum": true, "anyOf": true, "minimum": true, "maximum": true}
	for k := range annotations {
		supported[k] = true
	}
	walk(doc, "#", func(m map[string]any, at string) {
		if ref, ok := m["$ref"].(string); ok {
			refs++
			if _, err := Resolve(doc, ref); err != nil {
				t.Errorf("%s: %v", at, err)
			}
		}
		// Every schema keyword is one Validate enforces (or an annotation).
		if strings.HasSuffix(at, "/schema") || strings.HasPrefix(at, "#/components/schemas/") && strings.Count(at, "/") == 3 {
			walkSchema(m, at, func(s map[string]any, at string) {
				for k := range s {
					if !supported[k] {
						t.Errorf("%s: schema keyword %q not enforced by Validate", at, k)
					}
				}
			})
		}
	})
	if refs < 50 {
		t.Fatalf("only %d $refs found", refs)
	}
	ops, err := Operations(doc)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, op := range ops {
		if op.ID == "" || ids[op.ID] || op.Summary == "" || len(op.Responses) == 0 || len(op.Tags) == 0 {
			t.Errorf("%s %s: operationId %q (duplicate %v), summary %q, %d responses", op.Method, op.Path, op.ID, ids[op.ID], op.Summary, len(op.Responses))
		}
		ids[op.ID] = true
		for _, r := range op.Responses {
			if r.Media == "" && !op.Webhook {
				t.Errorf("%s %s %s: no content", op.Method, op.Path, r.Status)
			}
		}
	}
}

// walkSchema calls f on a schema and every subschema in it.
func walkSchema(s map[string]any, at string, f func(map[string]any, string)) {
	f(s, at)
	if props, ok := s["properties"].(map[string]any); ok {
		for k, p := range props {
			if ps, ok := p.(map[string]any); ok {
				walkSchema(ps, at+"/properties/"+k, f)
			}
		}
	}
	for _, k := range []string{"items", "additionalProperties"} {
		if sub, ok := s[k].(map[string]any); ok {
			walkSchema(sub, at+"/"+k, f)
		}
	}
	if alts, ok := s["anyOf"].([]any); ok {
		for _, a := range alts {
			if sub, ok := a.(map[string]any); ok {
				walkSchema(sub, at+"/anyOf", f)
			}
		}
	}
}

func decode(t *testing.T, raw string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestValidate(t *testing.T) {
	doc, err := Document()
	if err != nil {
		t.Fatal(err)
	}
	ref := func(name string) any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	for _, c := range []struct {
		schema, body string
		ok           bool
	}{
		{"FieldErrors", `{"amount":["Amount does not match the transaction amount."],"error_key":"validation_error"}`, true},
		{"FieldErrors", `{"mobile":["x"],"tries_remaining":"2","detail":"d"}`, true},
		{"FieldErrors", `{"amount":"not a list"}`, false},
		{"FieldErrors", `{"amount":[1]}`, false},
		{"Unauthorized", `{"detail":"Invalid token.","status_code":401}`, true},
		{"Unauthorized", `{"detail":"Invalid token.","status_code":403}`, false},
		{"Unauthorized", `{"detail":"Invalid token."}`, false},
		{"Detail", `{"detail":"Not found.","error_key":"validation_error"}`, true},
		{"Detail", `{"detail":"Not found.","extra":1}`, false},
		{"EPaymentLookupResponse", `{"pidx":"p","total_amount":1000,"status":"Completed","transaction_id":"t","fee":30,"refunded":false}`, true},
		{"EPaymentLookupResponse", `{"pidx":"p","total_amount":1000,"status":"Initiated","transaction_id":null,"fee":0,"refunded":false}`, true},
		{"EPaymentLookupResponse", `{"pidx":"p","total_amount":1000.5,"status":"Completed","transaction_id":"t","fee":30,"refunded":false}`, false},
		{"EPaymentLookupResponse", `{"pidx":"p","total_amount":1000,"status":"Paid","transaction_id":"t","fee":30,"refunded":false}`, false},
		{"EPaymentLookupResponse", `{"pidx":"p","total_amount":1000,"status":"Completed","transaction_id":7,"fee":30,"refunded":false}`, false},
		{"TransactionList", `{"total_pages":1,"total_records":0,"next":null,"previous":null,"record_range":[0,0],"current_page":1,"records":[]}`, true},
		{"TransactionList", `{"total_pages":1,"total_records":0,"next":null,"previous":null,"record_range":[0,0],"current_page":1,"records":[{}]}`, false},
		{"Bank", `{}`, false},
	} {
		err := Validate(doc, ref(c.schema), decode(t, c.body))
		if (err == nil) != c.ok {
			t.Errorf("%s %s: err %v, want ok=%v", c.schema, c.body, err, c.ok)
		}
	}
	if err := Validate(doc, map[string]any{"pattern": "x"}, "x"); err == nil {
		t.Error("unsupported keyword accepted")
	}
	anyOf := map[string]any{"anyOf": []any{ref("EPaymentLookupResponse"), ref("FieldErrors")}}
	if err := Validate(doc, anyOf, decode(t, `{"pidx":["This field is required."]}`)); err != nil {
		t.Error(err)
	}
	if err := Validate(doc, anyOf, decode(t, `{"pidx":"p"}`)); err == nil {
		t.Error("anyOf: a half lookup body accepted")
	}
}
