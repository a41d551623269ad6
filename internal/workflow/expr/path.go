package expr

import (
	"strconv"
	"strings"
)

// The roots a path starts with.
const (
	RootInput   = "input"
	RootSteps   = "steps"
	RootContext = "context"
)

// Path is a reference to a value: a root (input, steps or context) followed
// by field names and array indexes, like steps.lookup.output.items[0].name.
// Path is also the Node for a path in an expression.
type Path struct {
	// Root is RootInput, RootSteps or RootContext.
	Root string
	// Segments follow the root in order.
	Segments []Segment
	// Start and End are the byte offsets of the path in the source, End
	// exclusive.
	Start, End int
}

// Segment is one step of a Path: a field Name, or an array Index when
// IsIndex is set.
type Segment struct {
	Name    string
	Index   int
	IsIndex bool
}

// Span returns the byte offsets of p in the source.
func (p Path) Span() (start, end int) { return p.Start, p.End }

func (Path) exprNode() {}

// String returns the canonical form of p: names that are identifiers after
// a dot, other names as quoted keys, indexes in brackets, like
// input.customer["first name"].tags[0].
func (p Path) String() string {
	var b strings.Builder
	b.WriteString(p.Root)
	for _, s := range p.Segments {
		switch {
		case s.IsIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.Index))
			b.WriteByte(']')
		case isIdent(s.Name):
			b.WriteByte('.')
			b.WriteString(s.Name)
		default:
			b.WriteByte('[')
			b.WriteString(quote(s.Name))
			b.WriteByte(']')
		}
	}
	return b.String()
}

// Equal reports whether p and q name the same value; offsets do not count.
func (p Path) Equal(q Path) bool {
	return p.Root == q.Root && p.hasPrefix(q) && len(p.Segments) == len(q.Segments)
}

// hasPrefix reports whether q is p or a path p goes through, like input.a
// for input.a.b.
func (p Path) hasPrefix(q Path) bool {
	if p.Root != q.Root || len(q.Segments) > len(p.Segments) {
		return false
	}
	for i, s := range q.Segments {
		if s != p.Segments[i] {
			return false
		}
	}
	return true
}

// JSONPath returns the Step Functions reference path of p. A workflow's
// state document holds the input under $.input and step results under
// $.steps, so input.a.b is $.input.a.b and steps.x.output.y is
// $.steps.x.output.y. Names that are not plain identifiers use bracket
// form, like $.input['first name'], and indexes are [0]. Context paths map
// to the context object: context.execution.start_time is
// $$.Execution.StartTime and context.map.item.value.id is
// $$.Map.Item.Value.id. A context path the parser would reject renders as
// $$ followed by its segments as written.
func (p Path) JSONPath() string {
	var b strings.Builder
	segs := p.Segments
	switch p.Root {
	case RootContext:
		if f, n := lookupContext(segs); f != nil {
			b.WriteString(f.jsonPath)
			segs = segs[n:]
		} else {
			b.WriteString("$$")
		}
	default:
		b.WriteString("$.")
		b.WriteString(p.Root)
	}
	for _, s := range segs {
		switch {
		case s.IsIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.Index))
			b.WriteByte(']')
		case isJSONPathName(s.Name):
			b.WriteByte('.')
			b.WriteString(s.Name)
		default:
			b.WriteString("['")
			for i := 0; i < len(s.Name); i++ {
				if c := s.Name[i]; c == '\'' || c == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(s.Name[i])
			}
			b.WriteString("']")
		}
	}
	return b.String()
}

// contextField is one value of the Step Functions context object that
// workflows may read.
type contextField struct {
	names    []string // the segments after "context"
	jsonPath string
	typ      Type
	open     bool // further segments are allowed (Map.Item.Value)
}

var contextFields = []contextField{
	{[]string{"execution", "id"}, "$$.Execution.Id", TypeOf(String), false},
	{[]string{"execution", "name"}, "$$.Execution.Name", TypeOf(String), false},
	{[]string{"execution", "start_time"}, "$$.Execution.StartTime", TypeOf(String), false},
	{[]string{"execution", "role_arn"}, "$$.Execution.RoleArn", TypeOf(String), false},
	{[]string{"execution", "redrive_count"}, "$$.Execution.RedriveCount", TypeOf(Integer), false},
	{[]string{"state", "name"}, "$$.State.Name", TypeOf(String), false},
	{[]string{"state", "entered_time"}, "$$.State.EnteredTime", TypeOf(String), false},
	{[]string{"state", "retry_count"}, "$$.State.RetryCount", TypeOf(Integer), false},
	{[]string{"state_machine", "id"}, "$$.StateMachine.Id", TypeOf(String), false},
	{[]string{"state_machine", "name"}, "$$.StateMachine.Name", TypeOf(String), false},
	{[]string{"task", "token"}, "$$.Task.Token", TypeOf(String), false},
	{[]string{"map", "item", "index"}, "$$.Map.Item.Index", TypeOf(Integer), false},
	{[]string{"map", "item", "value"}, "$$.Map.Item.Value", Type{}, true},
}

// lookupContext finds the context field segs starts with, and how many
// segments it takes.
func lookupContext(segs []Segment) (*contextField, int) {
next:
	for i := range contextFields {
		f := &contextFields[i]
		if len(segs) < len(f.names) || len(segs) > len(f.names) && !f.open {
			continue
		}
		for j, name := range f.names {
			if segs[j].IsIndex || segs[j].Name != name {
				continue next
			}
		}
		return f, len(f.names)
	}
	return nil, 0
}

// ContextType returns the type of a context path: strings for ids, names
// and times (timestamps are ISO 8601 strings), integers for counts and
// context.map.item.index, unknown for context.map.item.value and below.
// ok is false for a path that is not a known context path. An Env may use
// it to answer Lookup for context paths; the Env still decides where a
// path is available (context.map.item only inside a map step, say).
func ContextType(p Path) (t Type, ok bool) {
	if p.Root != RootContext {
		return Type{}, false
	}
	f, _ := lookupContext(p.Segments)
	if f == nil {
		return Type{}, false
	}
	return f.typ, true
}

// contextHint lists the context paths near segs, for an error message.
func contextHint(segs []Segment) string {
	var group []string
	var all []string
	for _, f := range contextFields {
		name := "context." + strings.Join(f.names, ".")
		all = append(all, name)
		if len(segs) > 0 && !segs[0].IsIndex && segs[0].Name == f.names[0] {
			group = append(group, name)
		}
	}
	if len(group) > 0 {
		all = group
	}
	return "known context paths are " + strings.Join(all, ", ")
}

// isIdent reports whether s is a name of the expression language:
// [A-Za-z_][A-Za-z0-9_-]*.
func isIdent(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentChar(s[i]) {
			return false
		}
	}
	return true
}

// isJSONPathName reports whether s can follow a dot in a JSONPath; unlike
// our names it has no '-'.
func isJSONPathName(s string) bool {
	return isIdent(s) && !strings.Contains(s, "-")
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '-'
}
