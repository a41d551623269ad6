package sfnapi

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/aiflow/aiflow/internal/awsjson"
	"github.com/aiflow/aiflow/internal/sfn"
)

// members reads the members of one request body (see awsjson.Members),
// with the checks whose errors are Step Functions' own.
type members struct {
	*awsjson.Members
}

// parseMembers parses a request body, which must be one JSON object; an
// empty body is an empty object.
func parseMembers(op string, body []byte) (*members, error) {
	m, err := awsjson.ParseMembers(op, body)
	if err != nil {
		return nil, err
	}
	return &members{m}, nil
}

// required returns a string member that must be present. An empty one
// passes: whether "" is a valid value is the Service's to say, so that a
// caller gets the same error here as from the engine in process.
func (m *members) required(name string) string {
	if m.Value(name) == nil {
		m.Fail(badRequest(sfn.CodeValidation,
			"1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", name))
		return ""
	}
	return m.String(name)
}

// integer returns an integer member within [lo, hi], 0 when absent.
func (m *members) integer(name string, lo, hi int) int {
	v := m.Value(name)
	if v == nil {
		return 0
	}
	var n int
	if awsjson.JSONKind(v) == "a number" {
		if err := json.Unmarshal(v, &n); err != nil {
			m.Fail(badRequest(CodeSerialization, "member %s of %s must be an integer, not %.40s", name, m.Op(), v))
			return 0
		}
	} else if !m.Decode(name, v, &n, "an integer") {
		return 0
	}
	switch {
	case n < lo:
		m.Fail(badRequest(sfn.CodeValidation,
			"1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", n, name, lo))
	case n > hi:
		m.Fail(badRequest(sfn.CodeValidation,
			"1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", n, name, hi))
	}
	return n
}

// enum returns a string member that must be one of allowed, "" when
// absent.
func (m *members) enum(name string, allowed ...string) string {
	s := m.String(name)
	if s != "" && !slices.Contains(allowed, s) {
		m.Fail(badRequest(sfn.CodeValidation,
			"1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
			s, name, strings.Join(allowed, ", ")))
	}
	return s
}

// unsupported refuses members of the Step Functions API the local engine
// does not implement, when they ask for something (a value other than
// null, false or "").
func (m *members) unsupported(names ...string) {
	for _, n := range names {
		v := m.Value(n)
		if v == nil || string(v) == "false" || string(v) == `""` {
			continue
		}
		m.Fail(badRequest(sfn.CodeValidation, "member %s of %s is not supported by the local engine", n, m.Op()))
	}
}
