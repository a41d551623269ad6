package eventbridge

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// PatternError is an event pattern EventBridge would refuse, or one that
// uses what this package does not implement. Path is the JSON path of the
// offending field in the pattern ($.detail.state[0]), and Operator the
// comparison operator, when one is at fault.
type PatternError struct {
	Path     string
	Operator string
	Reason   string
}

func (e *PatternError) Error() string {
	if e.Operator != "" {
		return fmt.Sprintf("event pattern %s: %q: %s", e.Path, e.Operator, e.Reason)
	}
	return fmt.Sprintf("event pattern %s: %s", e.Path, e.Reason)
}

// Pattern is a compiled event pattern. It is safe for concurrent use.
type Pattern struct {
	root *object
}

// object matches a JSON object: every field condition holds (AND), and
// each of its $or alternatives has one that holds.
type object struct {
	fields []field
	ors    [][]*object
}

// field is one key of an object pattern: a nested object, or the values
// (OR) of a leaf.
type field struct {
	name   string
	nested *object
	values []matcher
}

// matcher is one element of a leaf's array.
type matcher interface {
	// match reports whether the value matches; present is false when the
	// event lacks the field (only exists: false matches then).
	match(v any, present bool) bool
}

// CompilePattern compiles an EventBridge event pattern, as a rule's
// EventPattern holds it (a JSON object decoded into map[string]any). It
// implements the content filtering EventBridge documents: exact values
// (strings, numbers, null, booleans) with arrays as OR, nested fields,
// prefix and suffix (also with equals-ignore-case), anything-but (values,
// and prefix, suffix, equals-ignore-case or wildcard), exists, numeric
// comparisons and ranges, equals-ignore-case, wildcard, cidr, and $or. It
// returns a *PatternError naming the JSON path (and the operator) of
// anything else: an unknown operator, a leaf that is not an array, an
// operand of the wrong type.
func CompilePattern(pattern map[string]any) (*Pattern, error) {
	if len(pattern) == 0 {
		return nil, &PatternError{Path: "$", Reason: "an event pattern must name at least one field"}
	}
	root, err := compileObject(pattern, "$")
	if err != nil {
		return nil, err
	}
	return &Pattern{root: root}, nil
}

// CompilePatternJSON compiles a pattern given as JSON text.
func CompilePatternJSON(pattern []byte) (*Pattern, error) {
	var m map[string]any
	if err := json.Unmarshal(pattern, &m); err != nil {
		return nil, &PatternError{Path: "$", Reason: "not a JSON object: " + err.Error()}
	}
	return CompilePattern(m)
}

// Match reports whether the event, decoded from JSON into map[string]any
// (numbers as float64 or json.Number), matches the pattern.
func (p *Pattern) Match(event map[string]any) bool { return p.root.match(event) }

// MatchJSON reports whether the event, as JSON text, matches the pattern.
// It returns an error when the event is not a JSON object.
func (p *Pattern) MatchJSON(event []byte) (bool, error) {
	m, err := decodeEvent(event)
	if err != nil {
		return false, err
	}
	return p.Match(m), nil
}

func decodeEvent(event []byte) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(event, &m); err != nil {
		return nil, fmt.Errorf("decoding the event: %w", err)
	}
	if m == nil {
		return nil, fmt.Errorf("decoding the event: it is not a JSON object")
	}
	return m, nil
}

func compileObject(m map[string]any, path string) (*object, error) {
	o := &object{}
	for _, k := range sortedKeys(m) {
		v := m[k]
		at := childPath(path, k)
		if k == "$or" {
			alts, err := compileOr(v, at)
			if err != nil {
				return nil, err
			}
			o.ors = append(o.ors, alts)
			continue
		}
		switch v := v.(type) {
		case map[string]any:
			if len(v) == 0 {
				return nil, &PatternError{Path: at, Reason: "an object in a pattern must name at least one field"}
			}
			nested, err := compileObject(v, at)
			if err != nil {
				return nil, err
			}
			o.fields = append(o.fields, field{name: k, nested: nested})
		case []any:
			if len(v) == 0 {
				return nil, &PatternError{Path: at, Reason: "an empty array matches nothing; give at least one value"}
			}
			f := field{name: k}
			for i, el := range v {
				mt, err := compileValue(el, fmt.Sprintf("%s[%d]", at, i))
				if err != nil {
					return nil, err
				}
				f.values = append(f.values, mt)
			}
			o.fields = append(o.fields, f)
		default:
			return nil, &PatternError{Path: at, Reason: fmt.Sprintf("must be an object or an array, not %s", describe(v))}
		}
	}
	return o, nil
}

func compileOr(v any, path string) ([]*object, error) {
	arr, ok := v.([]any)
	if !ok || len(arr) < 2 {
		return nil, &PatternError{Path: path, Operator: "$or", Reason: "must be an array of at least two patterns"}
	}
	alts := make([]*object, len(arr))
	for i, el := range arr {
		at := fmt.Sprintf("%s[%d]", path, i)
		m, ok := el.(map[string]any)
		if !ok || len(m) == 0 {
			return nil, &PatternError{Path: at, Operator: "$or", Reason: "each alternative must be a pattern object naming at least one field"}
		}
		o, err := compileObject(m, at)
		if err != nil {
			return nil, err
		}
		alts[i] = o
	}
	return alts, nil
}

// compileValue compiles one element of a leaf's array: a literal, or an
// object holding one operator.
func compileValue(v any, path string) (matcher, error) {
	switch v := v.(type) {
	case nil:
		return exactNull{}, nil
	case string:
		return exactString(v), nil
	case bool:
		return exactBool(v), nil
	case map[string]any:
		return compileOperator(v, path)
	case []any:
		return nil, &PatternError{Path: path, Reason: "an array inside a value array is not a pattern"}
	default:
		if f, ok := number(v); ok {
			return exactNumber(f), nil
		}
		return nil, &PatternError{Path: path, Reason: fmt.Sprintf("%s is not a pattern value", describe(v))}
	}
}

func compileOperator(m map[string]any, path string) (matcher, error) {
	if len(m) != 1 {
		keys := sortedKeys(m)
		return nil, &PatternError{Path: path, Reason: fmt.Sprintf("an operator object holds exactly one operator, not %d (%s)", len(m), strings.Join(keys, ", "))}
	}
	var op string
	var arg any
	for op, arg = range m {
	}
	fail := func(reason string) error { return &PatternError{Path: path, Operator: op, Reason: reason} }
	switch op {
	case "prefix", "suffix":
		switch a := arg.(type) {
		case string:
			return affix{suffix: op == "suffix", s: a}, nil
		case map[string]any:
			s, err := ignoreCaseOperand(a, path, op)
			if err != nil {
				return nil, err
			}
			return affix{suffix: op == "suffix", s: strings.ToLower(s), fold: true}, nil
		}
		return nil, fail(fmt.Sprintf("takes a string or {\"equals-ignore-case\": string}, not %s", describe(arg)))
	case "equals-ignore-case":
		s, ok := arg.(string)
		if !ok {
			return nil, fail(fmt.Sprintf("takes a string, not %s", describe(arg)))
		}
		return ignoreCase(strings.ToLower(s)), nil
	case "wildcard":
		s, ok := arg.(string)
		if !ok {
			return nil, fail(fmt.Sprintf("takes a string, not %s", describe(arg)))
		}
		w, err := compileWildcard(s)
		if err != nil {
			return nil, fail(err.Error())
		}
		return w, nil
	case "exists":
		b, ok := arg.(bool)
		if !ok {
			return nil, fail(fmt.Sprintf("takes true or false, not %s", describe(arg)))
		}
		return exists(b), nil
	case "numeric":
		return compileNumeric(arg, path)
	case "cidr":
		s, ok := arg.(string)
		if !ok {
			return nil, fail(fmt.Sprintf("takes a CIDR block such as \"10.0.0.0/24\", not %s", describe(arg)))
		}
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fail(fmt.Sprintf("%q is not a CIDR block: %v", s, err))
		}
		return cidr{pfx.Masked()}, nil
	case "anything-but":
		return compileAnythingBut(arg, path)
	}
	return nil, fail("is not an operator of EventBridge event patterns that this bus implements (prefix, suffix, equals-ignore-case, wildcard, anything-but, exists, numeric, cidr)")
}

func ignoreCaseOperand(m map[string]any, path, op string) (string, error) {
	s, ok := m["equals-ignore-case"].(string)
	if len(m) != 1 || !ok {
		return "", &PatternError{Path: path, Operator: op, Reason: "takes a string or {\"equals-ignore-case\": string}"}
	}
	return s, nil
}

func compileAnythingBut(arg any, path string) (matcher, error) {
	op := "anything-but"
	fail := func(reason string) error { return &PatternError{Path: path, Operator: op, Reason: reason} }
	switch a := arg.(type) {
	case string:
		return anythingBut{inner: []matcher{exactString(a)}}, nil
	case []any:
		if len(a) == 0 {
			return nil, fail("takes at least one value")
		}
		var strs, nums int
		ab := anythingBut{}
		for _, el := range a {
			switch el := el.(type) {
			case string:
				strs++
				ab.inner = append(ab.inner, exactString(el))
			default:
				f, ok := number(el)
				if !ok {
					return nil, fail(fmt.Sprintf("takes strings or numbers, not %s", describe(el)))
				}
				nums++
				ab.inner = append(ab.inner, exactNumber(f))
			}
		}
		if strs > 0 && nums > 0 {
			return nil, fail("takes a list of strings or a list of numbers, not both")
		}
		return ab, nil
	case map[string]any:
		if len(a) != 1 {
			return nil, fail("takes one of prefix, suffix, equals-ignore-case or wildcard")
		}
		var inner string
		var v any
		for inner, v = range a {
		}
		switch inner {
		case "prefix", "suffix", "equals-ignore-case", "wildcard":
		default:
			return nil, &PatternError{Path: path, Operator: op + "/" + inner, Reason: "anything-but takes prefix, suffix, equals-ignore-case or wildcard; this bus implements no other"}
		}
		strs, ok := stringOrStrings(v)
		if !ok {
			return nil, &PatternError{Path: path, Operator: op + "/" + inner, Reason: fmt.Sprintf("takes a string or a list of strings, not %s", describe(v))}
		}
		ab := anythingBut{}
		for _, s := range strs {
			switch inner {
			case "prefix", "suffix":
				ab.inner = append(ab.inner, affix{suffix: inner == "suffix", s: s})
			case "equals-ignore-case":
				ab.inner = append(ab.inner, ignoreCase(strings.ToLower(s)))
			case "wildcard":
				w, err := compileWildcard(s)
				if err != nil {
					return nil, &PatternError{Path: path, Operator: op + "/" + inner, Reason: err.Error()}
				}
				ab.inner = append(ab.inner, w)
			}
		}
		return ab, nil
	}
	if f, ok := number(arg); ok {
		return anythingBut{inner: []matcher{exactNumber(f)}}, nil
	}
	return nil, fail(fmt.Sprintf("takes a string, a number, a list of them, or an object, not %s", describe(arg)))
}

func stringOrStrings(v any) ([]string, bool) {
	switch v := v.(type) {
	case string:
		return []string{v}, true
	case []any:
		if len(v) == 0 {
			return nil, false
		}
		out := make([]string, len(v))
		for i, el := range v {
			s, ok := el.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

func compileNumeric(arg any, path string) (matcher, error) {
	fail := func(reason string) error { return &PatternError{Path: path, Operator: "numeric", Reason: reason} }
	a, ok := arg.([]any)
	if !ok || len(a) == 0 || len(a)%2 != 0 || len(a) > 4 {
		return nil, fail("takes one or two comparisons, such as [\">\", 0, \"<=\", 5]")
	}
	n := numeric{lo: math.Inf(-1), hi: math.Inf(1)}
	var haveLo, haveHi, haveEq bool
	for i := 0; i < len(a); i += 2 {
		op, ok := a[i].(string)
		if !ok {
			return nil, fail(fmt.Sprintf("element %d must be one of <, <=, =, >, >=, not %s", i, describe(a[i])))
		}
		f, ok := number(a[i+1])
		if !ok {
			return nil, fail(fmt.Sprintf("element %d must be a number, not %s", i+1, describe(a[i+1])))
		}
		switch op {
		case ">", ">=":
			if haveLo || haveEq {
				return nil, fail("has two lower bounds")
			}
			haveLo, n.lo, n.loOpen = true, f, op == ">"
		case "<", "<=":
			if haveHi || haveEq {
				return nil, fail("has two upper bounds")
			}
			haveHi, n.hi, n.hiOpen = true, f, op == "<"
		case "=":
			if len(a) != 2 {
				return nil, fail("\"=\" stands alone")
			}
			haveEq, n.lo, n.hi = true, f, f
		default:
			return nil, fail(fmt.Sprintf("%q is not one of <, <=, =, >, >=", op))
		}
	}
	if n.lo > n.hi || (n.lo == n.hi && (n.loOpen || n.hiOpen)) {
		return nil, fail("the range holds no number")
	}
	return n, nil
}

// compileWildcard checks a wildcard pattern: * matches any run of
// characters, \* a star and \\ a backslash; any other escape and two
// stars in a row are refused, as EventBridge does.
func compileWildcard(s string) (wildcard, error) {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '*' && s[i+1] != '\\') {
				return wildcard{}, fmt.Errorf("%q has a backslash that escapes neither * nor \\", s)
			}
			i++
			cur.WriteByte(s[i])
		case '*':
			if i+1 < len(s) && s[i+1] == '*' {
				return wildcard{}, fmt.Errorf("%q has consecutive wildcard characters", s)
			}
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	parts = append(parts, cur.String())
	return wildcard{parts: parts}, nil
}

// The matchers. A field whose event value is an array matches when one of
// its elements matches.

func each(v any, f func(any) bool) bool {
	if arr, ok := v.([]any); ok {
		return slices.ContainsFunc(arr, f)
	}
	return f(v)
}

type exactNull struct{}

func (exactNull) match(v any, present bool) bool {
	return present && each(v, func(x any) bool { return x == nil })
}

type exactString string

func (s exactString) match(v any, present bool) bool {
	return present && each(v, func(x any) bool { xs, ok := x.(string); return ok && xs == string(s) })
}

type exactBool bool

func (b exactBool) match(v any, present bool) bool {
	return present && each(v, func(x any) bool { xb, ok := x.(bool); return ok && xb == bool(b) })
}

type exactNumber float64

func (n exactNumber) match(v any, present bool) bool {
	return present && each(v, func(x any) bool { f, ok := number(x); return ok && f == float64(n) })
}

type affix struct {
	suffix bool
	fold   bool
	s      string
}

func (a affix) match(v any, present bool) bool {
	return present && each(v, func(x any) bool {
		xs, ok := x.(string)
		if !ok {
			return false
		}
		if a.fold {
			xs = strings.ToLower(xs)
		}
		if a.suffix {
			return strings.HasSuffix(xs, a.s)
		}
		return strings.HasPrefix(xs, a.s)
	})
}

type ignoreCase string

func (s ignoreCase) match(v any, present bool) bool {
	return present && each(v, func(x any) bool { xs, ok := x.(string); return ok && strings.ToLower(xs) == string(s) })
}

type wildcard struct {
	// parts are the literal runs between stars.
	parts []string
}

func (w wildcard) match(v any, present bool) bool {
	return present && each(v, func(x any) bool { xs, ok := x.(string); return ok && w.matchString(xs) })
}

func (w wildcard) matchString(s string) bool {
	if len(w.parts) == 1 {
		return s == w.parts[0]
	}
	first, last := w.parts[0], w.parts[len(w.parts)-1]
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	for _, p := range w.parts[1 : len(w.parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}

type exists bool

func (e exists) match(v any, present bool) bool {
	if !bool(e) {
		return !present
	}
	// exists applies to leaves: an object is not one, nor is an empty
	// array.
	if _, isObject := v.(map[string]any); isObject {
		return false
	}
	if arr, ok := v.([]any); ok && len(arr) == 0 {
		return false
	}
	return present
}

type numeric struct {
	lo, hi         float64
	loOpen, hiOpen bool
}

func (n numeric) match(v any, present bool) bool {
	return present && each(v, func(x any) bool {
		f, ok := number(x)
		if !ok {
			return false
		}
		if f < n.lo || (n.loOpen && f == n.lo) {
			return false
		}
		return f < n.hi || (!n.hiOpen && f == n.hi)
	})
}

type cidr struct{ p netip.Prefix }

func (c cidr) match(v any, present bool) bool {
	return present && each(v, func(x any) bool {
		xs, ok := x.(string)
		if !ok {
			return false
		}
		a, err := netip.ParseAddr(xs)
		return err == nil && c.p.Contains(a.Unmap())
	})
}

// anythingBut matches a present value that none of inner matches; for an
// array, one element that none matches is enough.
type anythingBut struct{ inner []matcher }

func (a anythingBut) match(v any, present bool) bool {
	if !present {
		return false
	}
	return each(v, func(x any) bool {
		if _, isObject := x.(map[string]any); isObject {
			return false
		}
		for _, m := range a.inner {
			if m.match(x, true) {
				return false
			}
		}
		return true
	})
}

func (o *object) match(event map[string]any) bool {
	for _, f := range o.fields {
		v, present := event[f.name]
		if f.nested != nil {
			if !matchNested(f.nested, v, present) {
				return false
			}
			continue
		}
		if !slices.ContainsFunc(f.values, func(m matcher) bool { return m.match(v, present) }) {
			return false
		}
	}
	for _, alts := range o.ors {
		if !slices.ContainsFunc(alts, func(alt *object) bool { return alt.match(event) }) {
			return false
		}
	}
	return true
}

// matchNested matches a nested pattern against an object, or against each
// object of an array (one is enough). A missing object matches only a
// pattern that every field of it may be missing from (exists: false).
func matchNested(o *object, v any, present bool) bool {
	switch v := v.(type) {
	case map[string]any:
		return o.match(v)
	case []any:
		for _, el := range v {
			if m, ok := el.(map[string]any); ok && o.match(m) {
				return true
			}
		}
		return false
	}
	if !present || v == nil {
		return o.match(map[string]any{})
	}
	return false
}

// number returns v as a float64 when it is a JSON number.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		return f, err == nil
	}
	return 0, false
}

func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the string %q", v)
	case bool:
		return fmt.Sprintf("the boolean %t", v)
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	if f, ok := number(v); ok {
		return "the number " + strconv.FormatFloat(f, 'g', -1, 64)
	}
	return fmt.Sprintf("a %T", v)
}

func childPath(path, key string) string {
	simple := key != ""
	for _, r := range key {
		if !(r == '_' || r == '-' || r == '$' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			simple = false
			break
		}
	}
	if simple {
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
