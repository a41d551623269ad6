package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// This file reads and writes ASL. Each JSON object type has one table of
// fields, in output order; the same table drives Parse, MarshalJSON and
// the validator's check of which fields a state sets, so the three cannot
// drift apart.

// field is one member of a JSON object type T.
type field[T any] struct {
	name   string
	isSet  func(*T) bool
	encode func(v *T, e *encoder, path string)
	decode func(v *T, d *decoder, n *node, path string)
}

type fieldTable[T any] struct {
	fields []field[T]
	byName map[string]int
}

func newTable[T any](fields ...field[T]) *fieldTable[T] {
	t := &fieldTable[T]{fields: fields, byName: map[string]int{}}
	for i, f := range fields {
		t.byName[f.name] = i
	}
	return t
}

// setFields returns the names of the fields v sets, in table order.
func (t *fieldTable[T]) setFields(v *T) []string {
	var names []string
	for _, f := range t.fields {
		if f.isSet(v) {
			names = append(names, f.name)
		}
	}
	return names
}

// The tables refer to each other (states hold branches that hold states),
// so they are built in init rather than by initializers.
var (
	machineFields   *fieldTable[StateMachine]
	stateFields     *fieldTable[State]
	retrierFields   *fieldTable[Retrier]
	catcherFields   *fieldTable[Catcher]
	branchFields    *fieldTable[Branch]
	processorFields *fieldTable[ItemProcessor]
	configFields    *fieldTable[ProcessorConfig]
	ruleFields      *fieldTable[ChoiceRule]
)

func init() {
	machineFields = newTable(
		stringField("Comment", func(m *StateMachine) *string { return &m.Comment }),
		stringField("Version", func(m *StateMachine) *string { return &m.Version }),
		stringField("QueryLanguage", func(m *StateMachine) *string { return &m.QueryLanguage }),
		intField("TimeoutSeconds", func(m *StateMachine) **int { return &m.TimeoutSeconds }),
		stringField("StartAt", func(m *StateMachine) *string { return &m.StartAt }),
		statesField("States", func(m *StateMachine) *map[string]*State { return &m.States }),
	)
	stateFields = newTable(
		stringField("Type", func(s *State) *string { return (*string)(&s.Type) }),
		stringField("Comment", func(s *State) *string { return &s.Comment }),
		stringField("QueryLanguage", func(s *State) *string { return &s.QueryLanguage }),

		stringField("Resource", func(s *State) *string { return &s.Resource }),
		rawField("Credentials", func(s *State) *json.RawMessage { return &s.Credentials }),

		listField("Choices", func(s *State) *[]ChoiceRule { return &s.Choices }, func() *fieldTable[ChoiceRule] { return ruleFields }),
		stringField("Default", func(s *State) *string { return &s.Default }),

		intOrExprField("Seconds", func(s *State) **int { return &s.Seconds }, func(s *State) *string { return &s.SecondsExpr }),
		stringField("SecondsPath", func(s *State) *string { return &s.SecondsPath }),
		stringField("Timestamp", func(s *State) *string { return &s.Timestamp }),
		stringField("TimestampPath", func(s *State) *string { return &s.TimestampPath }),

		stringField("Error", func(s *State) *string { return &s.Error }),
		stringField("ErrorPath", func(s *State) *string { return &s.ErrorPath }),
		stringField("Cause", func(s *State) *string { return &s.Cause }),
		stringField("CausePath", func(s *State) *string { return &s.CausePath }),

		listField("Branches", func(s *State) *[]Branch { return &s.Branches }, func() *fieldTable[Branch] { return branchFields }),

		objectField("ItemProcessor", func(s *State) **ItemProcessor { return &s.ItemProcessor }, func() *fieldTable[ItemProcessor] { return processorFields }),
		objectField("Iterator", func(s *State) **ItemProcessor { return &s.Iterator }, func() *fieldTable[ItemProcessor] { return processorFields }),
		rawField("ItemReader", func(s *State) *json.RawMessage { return &s.ItemReader }),
		stringField("ItemsPath", func(s *State) *string { return &s.ItemsPath }),
		rawField("Items", func(s *State) *json.RawMessage { return &s.Items }),
		rawField("ItemSelector", func(s *State) *json.RawMessage { return &s.ItemSelector }),
		rawField("ItemBatcher", func(s *State) *json.RawMessage { return &s.ItemBatcher }),
		intOrExprField("MaxConcurrency", func(s *State) **int { return &s.MaxConcurrency }, func(s *State) *string { return &s.MaxConcurrencyExpr }),
		stringField("MaxConcurrencyPath", func(s *State) *string { return &s.MaxConcurrencyPath }),
		intOrExprField("ToleratedFailureCount", func(s *State) **int { return &s.ToleratedFailureCount }, func(s *State) *string { return &s.ToleratedFailureCountExpr }),
		stringField("ToleratedFailureCountPath", func(s *State) *string { return &s.ToleratedFailureCountPath }),
		floatOrExprField("ToleratedFailurePercentage", func(s *State) **float64 { return &s.ToleratedFailurePercentage }, func(s *State) *string { return &s.ToleratedFailurePercentageExpr }),
		stringField("ToleratedFailurePercentagePath", func(s *State) *string { return &s.ToleratedFailurePercentagePath }),
		stringField("Label", func(s *State) *string { return &s.Label }),
		rawField("ResultWriter", func(s *State) *json.RawMessage { return &s.ResultWriter }),

		nullablePathField("InputPath", func(s *State) **NullablePath { return &s.InputPath }),
		rawField("Parameters", func(s *State) *json.RawMessage { return &s.Parameters }),
		rawField("Arguments", func(s *State) *json.RawMessage { return &s.Arguments }),
		rawField("Result", func(s *State) *json.RawMessage { return &s.Result }),
		rawField("ResultSelector", func(s *State) *json.RawMessage { return &s.ResultSelector }),
		nullablePathField("ResultPath", func(s *State) **NullablePath { return &s.ResultPath }),
		nullablePathField("OutputPath", func(s *State) **NullablePath { return &s.OutputPath }),
		rawField("Output", func(s *State) *json.RawMessage { return &s.Output }),
		assignField("Assign", func(s *State) *map[string]json.RawMessage { return &s.Assign }),

		intOrExprField("TimeoutSeconds", func(s *State) **int { return &s.TimeoutSeconds }, func(s *State) *string { return &s.TimeoutSecondsExpr }),
		stringField("TimeoutSecondsPath", func(s *State) *string { return &s.TimeoutSecondsPath }),
		intOrExprField("HeartbeatSeconds", func(s *State) **int { return &s.HeartbeatSeconds }, func(s *State) *string { return &s.HeartbeatSecondsExpr }),
		stringField("HeartbeatSecondsPath", func(s *State) *string { return &s.HeartbeatSecondsPath }),

		listField("Retry", func(s *State) *[]Retrier { return &s.Retry }, func() *fieldTable[Retrier] { return retrierFields }),
		listField("Catch", func(s *State) *[]Catcher { return &s.Catch }, func() *fieldTable[Catcher] { return catcherFields }),

		stringField("Next", func(s *State) *string { return &s.Next }),
		boolField("End", func(s *State) *bool { return &s.End }),
	)
	retrierFields = newTable(
		stringField("Comment", func(r *Retrier) *string { return &r.Comment }),
		stringsField("ErrorEquals", func(r *Retrier) *[]string { return &r.ErrorEquals }),
		intField("IntervalSeconds", func(r *Retrier) **int { return &r.IntervalSeconds }),
		intField("MaxAttempts", func(r *Retrier) **int { return &r.MaxAttempts }),
		floatField("BackoffRate", func(r *Retrier) **float64 { return &r.BackoffRate }),
		intField("MaxDelaySeconds", func(r *Retrier) **int { return &r.MaxDelaySeconds }),
		stringField("JitterStrategy", func(r *Retrier) *string { return &r.JitterStrategy }),
	)
	catcherFields = newTable(
		stringField("Comment", func(c *Catcher) *string { return &c.Comment }),
		stringsField("ErrorEquals", func(c *Catcher) *[]string { return &c.ErrorEquals }),
		nullablePathField("ResultPath", func(c *Catcher) **NullablePath { return &c.ResultPath }),
		rawField("Output", func(c *Catcher) *json.RawMessage { return &c.Output }),
		assignField("Assign", func(c *Catcher) *map[string]json.RawMessage { return &c.Assign }),
		stringField("Next", func(c *Catcher) *string { return &c.Next }),
	)
	branchFields = newTable(
		stringField("Comment", func(b *Branch) *string { return &b.Comment }),
		stringField("StartAt", func(b *Branch) *string { return &b.StartAt }),
		statesField("States", func(b *Branch) *map[string]*State { return &b.States }),
	)
	processorFields = newTable(
		stringField("Comment", func(p *ItemProcessor) *string { return &p.Comment }),
		objectField("ProcessorConfig", func(p *ItemProcessor) **ProcessorConfig { return &p.ProcessorConfig }, func() *fieldTable[ProcessorConfig] { return configFields }),
		stringField("StartAt", func(p *ItemProcessor) *string { return &p.StartAt }),
		statesField("States", func(p *ItemProcessor) *map[string]*State { return &p.States }),
	)
	configFields = newTable(
		stringField("Mode", func(c *ProcessorConfig) *string { return &c.Mode }),
		stringField("ExecutionType", func(c *ProcessorConfig) *string { return &c.ExecutionType }),
	)

	rules := []field[ChoiceRule]{
		stringField("Comment", func(r *ChoiceRule) *string { return &r.Comment }),
		rawField("Condition", func(r *ChoiceRule) *json.RawMessage { return &r.Condition }),
		stringField("Variable", func(r *ChoiceRule) *string { return &r.Variable }),
	}
	for _, op := range choiceOperators {
		switch {
		case op.str != nil:
			rules = append(rules, stringPtrField(op.name, op.str))
		case op.num != nil:
			rules = append(rules, floatField(op.name, op.num))
		default:
			rules = append(rules, boolPtrField(op.name, op.bool))
		}
	}
	rules = append(rules,
		listField("And", func(r *ChoiceRule) *[]ChoiceRule { return &r.And }, func() *fieldTable[ChoiceRule] { return ruleFields }),
		listField("Or", func(r *ChoiceRule) *[]ChoiceRule { return &r.Or }, func() *fieldTable[ChoiceRule] { return ruleFields }),
		objectField("Not", func(r *ChoiceRule) **ChoiceRule { return &r.Not }, func() *fieldTable[ChoiceRule] { return ruleFields }),
		rawField("Output", func(r *ChoiceRule) *json.RawMessage { return &r.Output }),
		assignField("Assign", func(r *ChoiceRule) *map[string]json.RawMessage { return &r.Assign }),
		stringField("Next", func(r *ChoiceRule) *string { return &r.Next }),
	)
	ruleFields = newTable(rules...)
}

// Field constructors, one per Go type.

func stringField[T any](name string, get func(*T) *string) field[T] {
	return field[T]{
		name:  name,
		isSet: func(v *T) bool { return *get(v) != "" },
		encode: func(v *T, e *encoder, _ string) {
			writeString(&e.buf, *get(v))
		},
		decode: func(v *T, d *decoder, n *node, path string) {
			if s, ok := d.string(n, path); ok {
				*get(v) = s
			}
		},
	}
}

func stringPtrField[T any](name string, get func(*T) **string) field[T] {
	return field[T]{
		name:  name,
		isSet: func(v *T) bool { return *get(v) != nil },
		encode: func(v *T, e *encoder, _ string) {
			writeString(&e.buf, **get(v))
		},
		decode: func(v *T, d *decoder, n *node, path string) {
			if s, ok := d.string(n, path); ok {
				*get(v) = &s
			}
		},
	}
}

func intField[T any](name string, get func(*T) **int) field[T] {
	return field[T]{
		name:  name,
		isSet: func(v *T) bool { return *get(v) != nil },
		encode: func(v *T, e *encoder, _ string) {
			e.buf.WriteString(strconv.Itoa(**get(v)))
		},
		decode: func(v *T, d *decoder, n *node, path string) {
			if i, ok := d.integer(n, path); ok {
				*get(v) = &i
			}
		},
	}
}

func floatField[T any](name string, get func(*T) **float64) field[T] {
	return field[T]{
		name:  name,
		isSet: func(v *T) bool { return *get(v) != nil },
		encode: func(v *T, e *encoder, path string) {
			f := **get(v)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				e.fail(path, fmt.Errorf("%v is not a JSON number", f))
				return
			}
			b, _ := json.Marshal(f)
			e.buf.Write(b)
		},
		decode: func(v *T, d *decoder, n *node, path string) {
			if f, ok := d.number(n, path); ok {
				*get(v) = &f
			}
		},
	}
}

func boolPtrField[T any](name string, get func(*T) **bool) field[T] {
	return field[T]{
		name:  name,
		isSet: func(v *T) bool { return *get(v) != nil },
		encode: func(v *T, e *encoder, _ string) {
			e.buf.WriteString(strconv.FormatBool(**get(v)))
		},
		decode: func(v *T, d *decoder, n *node, path string) {
			if b, ok := d.boolean(n, path); ok {
				*get(v) = &b
			}
		},
	}
}

// boolField is a flag written only when true (End).
func boolField[T any](name string, get func(*T) *bool) field[T] {
	return field[T]{
		name:  name,
		isSet: func(v *T) bool { return *get(v) },
		encode: func(_ *T, e *encoder, _ string) {
			e.buf.WriteString("true")
		},
		decode: func(v *T, d *decoder, n *node, path string) {
			if b, ok := d.boolean(n, path); ok {
				*get(v) = b
			}
		},
	}
}

func stringsField[T any](name string, get func(*T) *[]string) field[T] {
	return field[T]{
		name:  name,
		isSet: func(v *T) bool { return *get(v) != nil },
		encode: func(v *T, e *encoder, _ string) {
			e.buf.WriteByte('[')
			for i, s := range *get(v) {
				if i > 0 {
					e.buf.WriteByte(',')
				}
				writeString(&e.buf, s)
			}
			e.buf.WriteByte(']')
		},
		decode: func(v *T, d *decoder, n *node, path string) {
			if n.kind != kindArray {
				d.fail(path, "must be an array of strings")
				return
			}
			list := make([]string, 0, len(n.values))
			for i, el := range n.values {
				if s, ok := d.string(el, fmt.Sprintf("%s[%d]", path, i)); ok {
					list = append(list, s)
				}
			}
			*get(v) = list
		},
	}
}

func nullablePathField[T any](name string, get func(*T) **NullablePath) field[T] {
	return field[T]{
		name:  name,
		isSet: func(v *T) bool { return *get(v) != nil },
		encode: func(v *T, e *encoder, _ string) {
			p := *get(v)
			if p.Null {
				e.buf.WriteString("null")
				return
			}
			writeString(&e.buf, p.Path)
		},
		decode: func(v *T, d *decoder, n *node, path string) {
			switch n.kind {
			case kindNull:
				*get(v) = Discard()
			case kindString:
				*get(v) = Ref(n.text)
			default:
				d.fail(path, "must be a path string or null")
			}
		},
	}
}

// rawField holds any JSON value: a payload template or a literal.
func rawField[T any](name string, get func(*T) *json.RawMessage) field[T] {
	return field[T]{
		name:  name,
		isSet: func(v *T) bool { return *get(v) != nil },
		encode: func(v *T, e *encoder, path string) {
			e.raw(path, *get(v))
		},
		decode: func(v *T, _ *decoder, n *node, _ string) {
			var buf bytes.Buffer
			n.encodeInOrder(&buf)
			*get(v) = buf.Bytes()
		},
	}
}

func assignField[T any](name string, get func(*T) *map[string]json.RawMessage) field[T] {
	return field[T]{
		name:  name,
		isSet: func(v *T) bool { return *get(v) != nil },
		encode: func(v *T, e *encoder, path string) {
			m := *get(v)
			e.buf.WriteByte('{')
			for i, k := range sortedKeys(m) {
				if i > 0 {
					e.buf.WriteByte(',')
				}
				writeString(&e.buf, k)
				e.buf.WriteByte(':')
				e.raw(joinPath(path, k), m[k])
			}
			e.buf.WriteByte('}')
		},
		decode: func(v *T, d *decoder, n *node, path string) {
			if n.kind != kindObject {
				d.fail(path, "must be a JSON object")
				return
			}
			m := make(map[string]json.RawMessage, len(n.keys))
			for i, k := range n.keys {
				var buf bytes.Buffer
				n.values[i].encode(&buf)
				m[k] = buf.Bytes()
			}
			*get(v) = m
		},
	}
}

func objectField[T, U any](name string, get func(*T) **U, table func() *fieldTable[U]) field[T] {
	return field[T]{
		name:  name,
		isSet: func(v *T) bool { return *get(v) != nil },
		encode: func(v *T, e *encoder, path string) {
			encodeObject(e, table(), *get(v), path)
		},
		decode: func(v *T, d *decoder, n *node, path string) {
			u := new(U)
			if decodeObject(d, table(), u, n, path) {
				*get(v) = u
			}
		},
	}
}

func listField[T, U any](name string, get func(*T) *[]U, table func() *fieldTable[U]) field[T] {
	return field[T]{
		name:  name,
		isSet: func(v *T) bool { return *get(v) != nil },
		encode: func(v *T, e *encoder, path string) {
			e.buf.WriteByte('[')
			list := *get(v)
			for i := range list {
				if i > 0 {
					e.buf.WriteByte(',')
				}
				encodeObject(e, table(), &list[i], fmt.Sprintf("%s[%d]", path, i))
			}
			e.buf.WriteByte(']')
		},
		decode: func(v *T, d *decoder, n *node, path string) {
			if n.kind != kindArray {
				d.fail(path, "must be an array of objects")
				return
			}
			list := make([]U, len(n.values))
			for i, el := range n.values {
				decodeObject(d, table(), &list[i], el, fmt.Sprintf("%s[%d]", path, i))
			}
			*get(v) = list
		},
	}
}

func statesField[T any](name string, get func(*T) *map[string]*State) field[T] {
	return field[T]{
		name:  name,
		isSet: func(v *T) bool { return *get(v) != nil },
		encode: func(v *T, e *encoder, path string) {
			states := *get(v)
			e.buf.WriteByte('{')
			for i, k := range sortedKeys(states) {
				if i > 0 {
					e.buf.WriteByte(',')
				}
				writeString(&e.buf, k)
				e.buf.WriteByte(':')
				p := joinPath(path, k)
				if states[k] == nil {
					e.fail(p, fmt.Errorf("state is nil"))
					return
				}
				encodeObject(e, stateFields, states[k], p)
			}
			e.buf.WriteByte('}')
		},
		decode: func(v *T, d *decoder, n *node, path string) {
			if n.kind != kindObject {
				d.fail(path, "must be a JSON object of states")
				return
			}
			states := make(map[string]*State, len(n.keys))
			for i, k := range n.keys {
				s := new(State)
				if decodeObject(d, stateFields, s, n.values[i], joinPath(path, k)) {
					states[k] = s
				}
			}
			*get(v) = states
		},
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// encoder writes compact JSON; MarshalIndent indents it afterwards.
type encoder struct {
	buf bytes.Buffer
	err error
}

func (e *encoder) fail(path string, err error) {
	if e.err == nil {
		e.err = fmt.Errorf("encoding %s: %w", where(path), err)
	}
}

// raw writes a JSON value canonically: object keys sorted at every level.
func (e *encoder) raw(path string, raw json.RawMessage) {
	canon, err := canonicalJSON(raw)
	if err != nil {
		e.fail(path, err)
		e.buf.WriteString("null")
		return
	}
	e.buf.Write(canon)
}

func encodeObject[T any](e *encoder, t *fieldTable[T], v *T, path string) {
	e.buf.WriteByte('{')
	first := true
	for _, f := range t.fields {
		if !f.isSet(v) {
			continue
		}
		if !first {
			e.buf.WriteByte(',')
		}
		first = false
		writeString(&e.buf, f.name)
		e.buf.WriteByte(':')
		f.encode(v, e, joinPath(path, f.name))
	}
	e.buf.WriteByte('}')
}

// decoder collects every problem it finds instead of stopping at the first.
type decoder struct {
	errs ValidationErrors
}

func (d *decoder) fail(path, msg string) {
	d.errs = append(d.errs, ValidationError{Path: path, Message: msg})
}

func (d *decoder) string(n *node, path string) (string, bool) {
	if n.kind != kindString {
		d.fail(path, "must be a string")
		return "", false
	}
	return n.text, true
}

func (d *decoder) boolean(n *node, path string) (bool, bool) {
	if n.kind != kindBool {
		d.fail(path, "must be true or false")
		return false, false
	}
	return n.b, true
}

func (d *decoder) integer(n *node, path string) (int, bool) {
	if n.kind != kindNumber {
		d.fail(path, "must be an integer")
		return 0, false
	}
	i, err := strconv.ParseInt(n.text, 10, 0)
	if err != nil {
		d.fail(path, fmt.Sprintf("must be an integer, not %s", n.text))
		return 0, false
	}
	return int(i), true
}

func (d *decoder) number(n *node, path string) (float64, bool) {
	if n.kind != kindNumber {
		d.fail(path, "must be a number")
		return 0, false
	}
	f, err := strconv.ParseFloat(n.text, 64)
	if err != nil {
		d.fail(path, fmt.Sprintf("number %s is out of range", n.text))
		return 0, false
	}
	return f, true
}

func decodeObject[T any](d *decoder, t *fieldTable[T], v *T, n *node, path string) bool {
	if n.kind != kindObject {
		d.fail(path, "must be a JSON object")
		return false
	}
	for i, k := range n.keys {
		j, ok := t.byName[k]
		if !ok {
			msg := fmt.Sprintf("unknown field %q", k)
			if any(t) == any(machineFields) && path == "" {
				msg = fmt.Sprintf("unknown top-level field %q", k)
			}
			d.fail(path, msg)
			continue
		}
		t.fields[j].decode(v, d, n.values[i], joinPath(path, k))
	}
	return true
}

// Parse reads an ASL definition. It is strict: invalid JSON, duplicate
// keys, unknown fields and values of the wrong JSON type are errors. The
// error is a ValidationErrors listing every such problem with the path of
// the object or value at fault, such as `States.Classify: unknown field
// "Retries"`. Parse checks structure only; call Validate for the rules of
// the language.
func Parse(data []byte) (*StateMachine, error) {
	n, err := parseJSON(data)
	if err != nil {
		return nil, ValidationErrors{{Message: err.Error()}}
	}
	var d decoder
	m := new(StateMachine)
	decodeObject(&d, machineFields, m, n, "")
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	return m, nil
}

// UnmarshalJSON parses data with Parse.
func (m *StateMachine) UnmarshalJSON(data []byte) error {
	parsed, err := Parse(data)
	if err != nil {
		return err
	}
	*m = *parsed
	return nil
}

// UnmarshalJSON reads one state as strictly as Parse does.
func (s *State) UnmarshalJSON(data []byte) error {
	return unmarshalObject(data, stateFields, s)
}

func unmarshalObject[T any](data []byte, t *fieldTable[T], v *T) error {
	n, err := parseJSON(data)
	if err != nil {
		return ValidationErrors{{Message: err.Error()}}
	}
	var d decoder
	var parsed T
	decodeObject(&d, t, &parsed, n, "")
	if len(d.errs) > 0 {
		return d.errs
	}
	*v = parsed
	return nil
}

// MarshalIndent returns the definition as stable, readable JSON: fields in
// a fixed order (Type first in states, then the order of the language),
// map and payload template keys sorted, two-space indentation and a
// trailing newline. The same machine always gives the same bytes. It fails
// when a payload template is not valid JSON or a number is not finite.
func (m *StateMachine) MarshalIndent() ([]byte, error) {
	if m == nil {
		return nil, fmt.Errorf("marshaling state machine: it is nil")
	}
	compact, err := m.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact, "", "  "); err != nil {
		return nil, fmt.Errorf("indenting state machine: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func marshalObject[T any](t *fieldTable[T], v *T) ([]byte, error) {
	var e encoder
	encodeObject(&e, t, v, "")
	if e.err != nil {
		return nil, e.err
	}
	return e.buf.Bytes(), nil
}

// MarshalJSON writes the definition as compact JSON in the order
// MarshalIndent uses.
func (m StateMachine) MarshalJSON() ([]byte, error) { return marshalObject(machineFields, &m) }

// MarshalJSON writes the state as compact JSON, Type first.
func (s State) MarshalJSON() ([]byte, error) { return marshalObject(stateFields, &s) }

// MarshalJSON writes the Retrier as compact JSON.
func (r Retrier) MarshalJSON() ([]byte, error) { return marshalObject(retrierFields, &r) }

// MarshalJSON writes the Catcher as compact JSON.
func (c Catcher) MarshalJSON() ([]byte, error) { return marshalObject(catcherFields, &c) }

// MarshalJSON writes the Branch as compact JSON.
func (b Branch) MarshalJSON() ([]byte, error) { return marshalObject(branchFields, &b) }

// MarshalJSON writes the ItemProcessor as compact JSON.
func (p ItemProcessor) MarshalJSON() ([]byte, error) { return marshalObject(processorFields, &p) }

// MarshalJSON writes the ProcessorConfig as compact JSON.
func (c ProcessorConfig) MarshalJSON() ([]byte, error) { return marshalObject(configFields, &c) }

// MarshalJSON writes the Choice Rule as compact JSON.
func (r ChoiceRule) MarshalJSON() ([]byte, error) { return marshalObject(ruleFields, &r) }
