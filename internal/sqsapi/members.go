package sqsapi

import (
	"bytes"
	"encoding/json"
	"slices"
)

// members reads the members of one request body. The first problem is
// kept and reported by done, after members the action does not have, so
// that a misspelt name is reported as such rather than as a missing
// member.
type members struct {
	action string
	raw    map[string]json.RawMessage
	used   map[string]bool
	err    *apiError
}

// parseMembers parses a request body, which must be one JSON object; an
// empty body is an empty object.
func parseMembers(action string, body []byte) (*members, error) {
	m := &members{action: action, raw: map[string]json.RawMessage{}, used: map[string]bool{}}
	if len(bytes.TrimSpace(body)) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(body, &m.raw); err != nil {
		return nil, badRequest(CodeSerialization, "%s request body is not a JSON object: %v", action, err)
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
		m.fail(badRequest(CodeSerialization, "member %s of %s must be %s, not %s", name, m.action, want, jsonKind(v)))
		return false
	}
	return true
}

// string returns a string member, "" when absent.
func (m *members) string(name string) string {
	v := m.value(name)
	if v == nil {
		return ""
	}
	var s string
	m.decode(name, v, &s, "a string")
	return s
}

// required returns a string member that must be present and not empty.
func (m *members) required(name string) string {
	s := m.string(name)
	if s == "" && m.err == nil {
		m.fail(badRequest(CodeMissingParameter, "%s request is missing the required member %s", m.action, name))
	}
	return s
}

// optInt returns an integer member within [lo, hi], nil when absent.
func (m *members) optInt(name string, lo, hi int) *int {
	v := m.value(name)
	if v == nil {
		return nil
	}
	var n int
	if !m.decode(name, v, &n, "an integer") {
		return nil
	}
	if n < lo || n > hi {
		m.fail(badRequest(CodeInvalidParameterValue, "value %d for member %s of %s is not between %d and %d", n, name, m.action, lo, hi))
		return nil
	}
	return &n
}

// strings returns a list-of-strings member, nil when absent.
func (m *members) strings(name string) []string {
	v := m.value(name)
	if v == nil {
		return nil
	}
	var l []string
	m.decode(name, v, &l, "a list of strings")
	return l
}

// stringMap returns a map-of-strings member, nil when absent.
func (m *members) stringMap(name string) map[string]string {
	v := m.value(name)
	if v == nil {
		return nil
	}
	var mp map[string]string
	m.decode(name, v, &mp, "a map of strings")
	return mp
}

// object decodes a structured member into dst; it reports whether the
// member is present and well formed.
func (m *members) object(name string, dst any, want string) bool {
	v := m.value(name)
	if v == nil {
		return false
	}
	return m.decode(name, v, dst, want)
}

// ignore accepts members the local queues have no use for.
func (m *members) ignore(names ...string) {
	for _, n := range names {
		m.used[n] = true
	}
}

// unsupported refuses members of the SQS API the local queues do not
// implement, when they are set.
func (m *members) unsupported(why string, names ...string) {
	for _, n := range names {
		if m.value(n) != nil {
			m.fail(badRequest(CodeUnsupportedOperation, "member %s of %s is not supported: %s", n, m.action, why))
		}
	}
}

// done reports a member the action does not have, else the first
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
		return badRequest(CodeSerialization, "unknown member %s in %s request", unknown[0], m.action)
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
