package workflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aiflow/aiflow/internal/schema"
)

// shape is what the checker knows of a value, read from a JSON Schema.
type shape struct {
	types    map[string]bool // JSON Schema type names; empty means any
	props    map[string]*shape
	required map[string]bool
	items    *shape
	enum     []any
}

var anyShape = &shape{}

func typed(types ...string) *shape {
	s := &shape{types: map[string]bool{}}
	for _, t := range types {
		s.types[t] = true
	}
	return s
}

func objectShape(props map[string]*shape, required ...string) *shape {
	s := typed("object")
	s.props = props
	s.required = map[string]bool{}
	for _, r := range required {
		s.required[r] = true
	}
	return s
}

// compileSchema checks that raw is a valid JSON Schema (draft 2020-12 by
// default) and returns its shape.
func compileSchema(raw json.RawMessage) (*shape, error) {
	if _, err := schema.Compile("definition.json", raw); err != nil {
		var se *schema.Error
		if !errors.As(err, &se) || !se.Compiling {
			return nil, fmt.Errorf("not valid JSON: %v", err)
		}
		msg := se.Err.Error()
		if i := strings.LastIndex(msg, "\n"); i >= 0 {
			msg = strings.TrimSpace(msg[i:])
		}
		return nil, fmt.Errorf("not a valid JSON Schema: %s", msg)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return shapeOf(v), nil
}

func shapeOf(v any) *shape {
	m, ok := v.(map[string]any)
	if !ok {
		return anyShape
	}
	s := &shape{types: map[string]bool{}}
	switch t := m["type"].(type) {
	case string:
		s.types[t] = true
	case []any:
		for _, x := range t {
			if name, ok := x.(string); ok {
				s.types[name] = true
			}
		}
	}
	if e, ok := m["enum"].([]any); ok {
		s.enum = e
		if len(s.types) == 0 {
			for _, x := range e {
				s.types[jsonTypeOf(x)] = true
			}
		}
	}
	if c, ok := m["const"]; ok && len(s.types) == 0 {
		s.types[jsonTypeOf(c)] = true
	}
	if p, ok := m["properties"].(map[string]any); ok {
		s.props = map[string]*shape{}
		for k, pv := range p {
			s.props[k] = shapeOf(pv)
		}
		if len(s.types) == 0 {
			s.types["object"] = true
		}
	}
	if r, ok := m["required"].([]any); ok {
		s.required = map[string]bool{}
		for _, x := range r {
			if name, ok := x.(string); ok {
				s.required[name] = true
			}
		}
	}
	if it, ok := m["items"]; ok {
		s.items = shapeOf(it)
		if len(s.types) == 0 {
			s.types["array"] = true
		}
	}
	return s
}

func jsonTypeOf(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64, json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	case []any:
		return "array"
	}
	return "object"
}

func (s *shape) isAny() bool { return s == nil || len(s.types) == 0 }

func (s *shape) is(t string) bool {
	if s.isAny() {
		return true
	}
	if t == "number" && s.types["integer"] {
		return true
	}
	return s.types[t]
}

// only reports whether every value of s has one of the given types.
func (s *shape) only(types ...string) bool {
	if s.isAny() {
		return false
	}
	for t := range s.types {
		ok := false
		for _, want := range types {
			if t == want || (want == "number" && t == "integer") {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (s *shape) String() string {
	if s.isAny() {
		return "any value"
	}
	var names []string
	for t := range s.types {
		names = append(names, t)
	}
	sort.Strings(names)
	return strings.Join(names, " or ")
}

// field returns the shape of member name of an object shape; optional
// reports that the member may be absent. An error says why the member
// cannot be read, and a hint what can.
func (s *shape) field(name string) (f *shape, optional bool, err, hint string) {
	if s.isAny() {
		return anyShape, false, "", ""
	}
	if !s.types["object"] {
		return nil, false, fmt.Sprintf("is %s, which has no field %q", s, name), ""
	}
	if s.props == nil {
		return anyShape, false, "", ""
	}
	p, ok := s.props[name]
	if !ok {
		var known []string
		for k := range s.props {
			known = append(known, k)
		}
		sort.Strings(known)
		hint := "its fields: " + strings.Join(known, ", ")
		if c := closest(name, known); c != "" {
			hint = fmt.Sprintf("did you mean %q?", c)
		}
		return nil, false, fmt.Sprintf("has no field %q", name), hint
	}
	return p, !s.required[name], "", ""
}

// index returns the shape of an array's items.
func (s *shape) index() (*shape, string) {
	if s.isAny() {
		return anyShape, ""
	}
	if !s.types["array"] {
		return nil, fmt.Sprintf("is %s, not an array", s)
	}
	if s.items == nil {
		return anyShape, ""
	}
	return s.items, ""
}
