package awsjson

import (
	"bytes"
	"encoding/json"
	"slices"
)

// Members reads the members of one request body strictly: a member of
// the wrong JSON type is refused with SerializationException, and so is
// a member the operation does not read. The first problem is kept and
// reported by Done, after members the operation does not have, so that a
// misspelt name is reported as such rather than as a missing member.
type Members struct {
	op   string
	raw  map[string]json.RawMessage
	used map[string]bool
	err  *Error
}

// ParseMembers parses the request body of op, which must be one JSON
// object; an empty body is an empty object.
func ParseMembers(op string, body []byte) (*Members, error) {
	m := &Members{op: op, raw: map[string]json.RawMessage{}, used: map[string]bool{}}
	if len(bytes.TrimSpace(body)) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(body, &m.raw); err != nil {
		return nil, BadRequest(CodeSerialization, "%s request body is not a JSON object: %v", op, err)
	}
	if m.raw == nil { // the body was null
		m.raw = map[string]json.RawMessage{}
	}
	return m, nil
}

// Op returns the operation whose members m reads.
func (m *Members) Op() string { return m.op }

// Fail keeps the first problem.
func (m *Members) Fail(e *Error) {
	if m.err == nil {
		m.err = e
	}
}

// Failed reports whether a problem has been kept.
func (m *Members) Failed() bool { return m.err != nil }

// Value returns a member's raw JSON, or nil when it is absent or null.
func (m *Members) Value(name string) json.RawMessage {
	m.used[name] = true
	v, ok := m.raw[name]
	if !ok || string(v) == "null" {
		return nil
	}
	return v
}

// Decode reads a member into dst, or reports its JSON kind as not want.
func (m *Members) Decode(name string, v json.RawMessage, dst any, want string) bool {
	if err := json.Unmarshal(v, dst); err != nil {
		m.Fail(BadRequest(CodeSerialization, "member %s of %s must be %s, not %s", name, m.op, want, JSONKind(v)))
		return false
	}
	return true
}

// OptString returns a string member, nil when absent.
func (m *Members) OptString(name string) *string {
	v := m.Value(name)
	if v == nil {
		return nil
	}
	var s string
	if !m.Decode(name, v, &s, "a string") {
		return nil
	}
	return &s
}

// String returns a string member, "" when absent.
func (m *Members) String(name string) string {
	if s := m.OptString(name); s != nil {
		return *s
	}
	return ""
}

// Boolean returns a boolean member, def when absent.
func (m *Members) Boolean(name string, def bool) bool {
	v := m.Value(name)
	if v == nil {
		return def
	}
	var b bool
	if !m.Decode(name, v, &b, "a boolean") {
		return def
	}
	return b
}

// Strings returns a list-of-strings member, nil when absent.
func (m *Members) Strings(name string) []string {
	v := m.Value(name)
	if v == nil {
		return nil
	}
	var l []string
	m.Decode(name, v, &l, "a list of strings")
	return l
}

// StringMap returns a map-of-strings member, nil when absent.
func (m *Members) StringMap(name string) map[string]string {
	v := m.Value(name)
	if v == nil {
		return nil
	}
	var mp map[string]string
	m.Decode(name, v, &mp, "a map of strings")
	return mp
}

// Object decodes a structured member into dst; it reports whether the
// member is present and well formed.
func (m *Members) Object(name string, dst any, want string) bool {
	v := m.Value(name)
	if v == nil {
		return false
	}
	return m.Decode(name, v, dst, want)
}

// Ignore accepts members the operation has no use for.
func (m *Members) Ignore(names ...string) {
	for _, n := range names {
		m.used[n] = true
	}
}

// Done reports a member the operation does not have, else the first
// problem.
func (m *Members) Done() error {
	var unknown []string
	for n := range m.raw {
		if !m.used[n] {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return BadRequest(CodeSerialization, "unknown member %s in %s request", unknown[0], m.op)
	}
	if m.err != nil {
		return m.err
	}
	return nil
}

// JSONKind names the kind of a JSON value for an error message.
func JSONKind(v json.RawMessage) string {
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
