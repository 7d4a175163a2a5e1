package apidoc

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
)

// Validate checks v (as decoded by encoding/json, numbers as json.Number
// or float64) against schema, resolving $refs in doc. It knows the part
// of JSON Schema the document uses: $ref, type (one or a list, so
// ["string","null"] is nullable), properties, required,
// additionalProperties (false or a schema), items, maxItems, enum, anyOf,
// minimum and maximum. Any other keyword, except annotations, is an
// error, so the document cannot use a rule the validator ignores.
func Validate(doc map[string]any, schema any, v any) error {
	return validate(doc, schema, v, "$")
}

var annotations = map[string]bool{"description": true, "format": true, "title": true, "minLength": true, "maxLength": true, "example": true, "examples": true, "deprecated": true}

func validate(doc map[string]any, schema any, v any, at string) error {
	s, err := Deref(doc, schema)
	if err != nil {
		return fmt.Errorf("%s: %w", at, err)
	}
	for k := range s {
		switch k {
		case "type", "properties", "required", "additionalProperties", "items", "maxItems", "enum", "anyOf", "minimum", "maximum":
		default:
			if !annotations[k] {
				return fmt.Errorf("%s: schema keyword %q is not supported by the validator", at, k)
			}
		}
	}
	if t, ok := s["type"]; ok {
		var types []string
		switch t := t.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, x := range t {
				types = append(types, str(x))
			}
		}
		ok := false
		for _, typ := range types {
			if isType(v, typ) {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Errorf("%s: %s is not of type %s", at, show(v), strings.Join(types, " or "))
		}
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if sameValue(e, v) {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("%s: %s is not one of %v", at, show(v), enum)
		}
	}
	if alts, ok := s["anyOf"].([]any); ok {
		var errs []string
		for _, a := range alts {
			err := validate(doc, a, v, at)
			if err == nil {
				errs = nil
				break
			}
			errs = append(errs, err.Error())
		}
		if errs != nil {
			return fmt.Errorf("%s: matches no anyOf alternative: %s", at, strings.Join(errs, "; "))
		}
	}
	if n, ok := number(v); ok {
		if lim, ok := number(s["minimum"]); ok && n < lim {
			return fmt.Errorf("%s: %v is below the minimum %v", at, n, lim)
		}
		if lim, ok := number(s["maximum"]); ok && n > lim {
			return fmt.Errorf("%s: %v is above the maximum %v", at, n, lim)
		}
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, r := range list(s["required"]) {
			if _, ok := v[str(r)]; !ok {
				return fmt.Errorf("%s: required field %q is missing", at, str(r))
			}
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps, ok := props[k]; ok {
				if err := validate(doc, ps, v[k], at+"."+k); err != nil {
					return err
				}
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					return fmt.Errorf("%s: field %q is not documented", at, k)
				}
			case map[string]any:
				if err := validate(doc, ap, v[k], at+"."+k); err != nil {
					return err
				}
			}
		}
	case []any:
		if max, ok := number(s["maxItems"]); ok && float64(len(v)) > max {
			return fmt.Errorf("%s: %d items, at most %v allowed", at, len(v), max)
		}
		if items, ok := s["items"]; ok {
			for i, x := range v {
				if err := validate(doc, items, x, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	}
	return 0, false
}

func isType(v any, typ string) bool {
	switch typ {
	case "null":
		return v == nil
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "number":
		_, ok := number(v)
		return ok
	case "integer":
		if n, ok := v.(json.Number); ok {
			_, err := n.Int64()
			return err == nil
		}
		f, ok := number(v)
		return ok && f == math.Trunc(f)
	}
	return false
}

func sameValue(a, b any) bool {
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x == y
	}
	return reflect.DeepEqual(a, b)
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil || len(b) > 80 {
		return fmt.Sprintf("%T", v)
	}
	return string(b)
}
