package sfnapi

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"github.com/aiflow/aiflow/internal/sfn"
)

// members reads the members of one request body. The first problem is
// kept and reported by done, after members the operation does not have,
// so that a misspelt name is reported as such rather than as a missing
// member.
type members struct {
	op   string
	raw  map[string]json.RawMessage
	used map[string]bool
	err  *apiError
}

// parseMembers parses a request body, which must be one JSON object; an
// empty body is an empty object.
func parseMembers(op string, body []byte) (*members, error) {
	m := &members{op: op, raw: map[string]json.RawMessage{}, used: map[string]bool{}}
	if len(bytes.TrimSpace(body)) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(body, &m.raw); err != nil {
		return nil, badRequest(CodeSerialization, "%s request body is not a JSON object: %v", op, err)
	}
	if m.raw == nil { // the body was null
		m.raw = map[string]json.RawMessage{}
	}
	return m, nil
}

// fail keeps the first problem.
func (m *members) fail(e *apiError) {
	if m.err == nil {
		m.err = e
	}
}

// value returns a member's raw JSON, or nil when it is absent or null.
func (m *members) value(name string) json.RawMessage {
	m.used[name] = true
	v, ok := m.raw[name]
	if !ok || string(v) == "null" {
		return nil
	}
	return v
}

// decode reads a member into dst, or reports its JSON kind as wrong.
func (m *members) decode(name string, v json.RawMessage, dst any, want string) bool {
	if err := json.Unmarshal(v, dst); err != nil {
		m.fail(badRequest(CodeSerialization, "member %s of %s must be %s, not %s", name, m.op, want, jsonKind(v)))
		return false
	}
	return true
}

// optString returns a string member, nil when absent.
func (m *members) optString(name string) *string {
	v := m.value(name)
	if v == nil {
		return nil
	}
	var s string
	if !m.decode(name, v, &s, "a string") {
		return nil
	}
	return &s
}

// string returns a string member, "" when absent.
func (m *members) string(name string) string {
	if s := m.optString(name); s != nil {
		return *s
	}
	return ""
}

// required returns a string member that must be present. An empty one
// passes: whether "" is a valid value is the Service's to say, so that a
// caller gets the same error here as from the engine in process.
func (m *members) required(name string) string {
	if m.value(name) == nil {
		m.fail(badRequest(sfn.CodeValidation,
			"1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", name))
		return ""
	}
	return m.string(name)
}

// integer returns an integer member within [lo, hi], 0 when absent.
func (m *members) integer(name string, lo, hi int) int {
	v := m.value(name)
	if v == nil {
		return 0
	}
	var n int
	if jsonKind(v) == "a number" {
		if err := json.Unmarshal(v, &n); err != nil {
			m.fail(badRequest(CodeSerialization, "member %s of %s must be an integer, not %.40s", name, m.op, v))
			return 0
		}
	} else if !m.decode(name, v, &n, "an integer") {
		return 0
	}
	switch {
	case n < lo:
		m.fail(badRequest(sfn.CodeValidation,
			"1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", n, name, lo))
	case n > hi:
		m.fail(badRequest(sfn.CodeValidation,
			"1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", n, name, hi))
	}
	return n
}

// boolean returns a boolean member, def when absent.
func (m *members) boolean(name string, def bool) bool {
	v := m.value(name)
	if v == nil {
		return def
	}
	var b bool
	if !m.decode(name, v, &b, "a boolean") {
		return def
	}
	return b
}

// enum returns a string member that must be one of allowed, "" when
// absent.
func (m *members) enum(name string, allowed ...string) string {
	s := m.string(name)
	if s != "" && !slices.Contains(allowed, s) {
		m.fail(badRequest(sfn.CodeValidation,
			"1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
			s, name, strings.Join(allowed, ", ")))
	}
	return s
}

// ignore accepts members of the Step Functions API that the local engine
// has no use for, such as logging and tracing configuration.
func (m *members) ignore(names ...string) {
	for _, n := range names {
		m.used[n] = true
	}
}

// unsupported refuses members of the Step Functions API the local engine
// does not implement, when they ask for something (a value other than
// null, false or "").
func (m *members) unsupported(names ...string) {
	for _, n := range names {
		v := m.value(n)
		if v == nil || string(v) == "false" || string(v) == `""` {
			continue
		}
		m.fail(badRequest(sfn.CodeValidation, "member %s of %s is not supported by the local engine", n, m.op))
	}
}

// done reports a member the operation does not have, else the first
// problem.
func (m *members) done() error {
	var unknown []string
	for n := range m.raw {
		if !m.used[n] {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return badRequest(CodeSerialization, "unknown member %s in %s request", unknown[0], m.op)
	}
	if m.err != nil {
		return m.err
	}
	return nil
}

// jsonKind names the kind of a JSON value for an error message.
func jsonKind(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "empty"
	}
	switch v[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}
