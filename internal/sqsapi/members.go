package sqsapi

import "github.com/aiflow/aiflow/internal/awsjson"

// members reads the members of one request body (see awsjson.Members),
// with the checks whose errors are SQS's own.
type members struct {
	*awsjson.Members
}

// parseMembers parses a request body, which must be one JSON object; an
// empty body is an empty object.
func parseMembers(action string, body []byte) (*members, error) {
	m, err := awsjson.ParseMembers(action, body)
	if err != nil {
		return nil, err
	}
	return &members{m}, nil
}

// required returns a string member that must be present and not empty.
func (m *members) required(name string) string {
	s := m.String(name)
	if s == "" && !m.Failed() {
		m.Fail(badRequest(CodeMissingParameter, "%s request is missing the required member %s", m.Op(), name))
	}
	return s
}

// optInt returns an integer member within [lo, hi], nil when absent.
func (m *members) optInt(name string, lo, hi int) *int {
	v := m.Value(name)
	if v == nil {
		return nil
	}
	var n int
	if !m.Decode(name, v, &n, "an integer") {
		return nil
	}
	if n < lo || n > hi {
		m.Fail(badRequest(CodeInvalidParameterValue, "value %d for member %s of %s is not between %d and %d", n, name, m.Op(), lo, hi))
		return nil
	}
	return &n
}

// unsupported refuses members of the SQS API the local queues do not
// implement, when they are set.
func (m *members) unsupported(why string, names ...string) {
	for _, n := range names {
		if m.Value(n) != nil {
			m.Fail(badRequest(CodeUnsupportedOperation, "member %s of %s is not supported: %s", n, m.Op(), why))
		}
	}
}
