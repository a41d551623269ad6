package asl

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// A filter is the expression of a JSONPath filter segment, [?(expr)], as
// Jayway JSONPath (the implementation Step Functions uses) reads it:
//
//   - operands: "@" paths into the current item (@, @.price, @['a b'],
//     @.tags[0]), "$" paths into the root, numbers, 'single' or "double"
//     quoted strings, true, false, null, JSON arrays of those, and
//     /regular expressions/ with an optional i flag;
//   - comparisons: == != < <= > >=, =~ (the whole string matches the
//     regular expression), in and nin (membership in an array), subsetof,
//     anyof and noneof (between arrays), size (of an array or a string)
//     and empty (true or false);
//   - a path alone tests that the path exists; ! negates an operand or a
//     parenthesised expression; && binds tighter than ||.
//
// Numbers compare as numbers, strings as strings (< and > by code
// point); a comparison between other types, or with a path that selects
// nothing, is false.
type filterExpr interface {
	eval(fc filterContext) bool
}

type filterContext struct {
	item, root, context any
}

type filterOr struct{ left, right filterExpr }
type filterAnd struct{ left, right filterExpr }
type filterNot struct{ x filterExpr }

// filterExists holds when its path selects something.
type filterExists struct{ operand filterOperand }

type filterCompare struct {
	op          string
	left, right filterOperand
}

func (f filterOr) eval(fc filterContext) bool  { return f.left.eval(fc) || f.right.eval(fc) }
func (f filterAnd) eval(fc filterContext) bool { return f.left.eval(fc) && f.right.eval(fc) }
func (f filterNot) eval(fc filterContext) bool { return !f.x.eval(fc) }
func (f filterExists) eval(fc filterContext) bool {
	_, ok := f.operand.value(fc)
	return ok
}

// filterOperand is a literal or a path.
type filterOperand struct {
	path    *Path // a path: RootInput paths are "@" paths when current is set
	current bool  // the path starts at "@"
	literal any
	regex   *regexp.Regexp
}

func (o filterOperand) value(fc filterContext) (any, bool) {
	if o.path == nil {
		return o.literal, true
	}
	root := fc.root
	if o.current {
		root = fc.item
	}
	v, err := Lookup(*o.path, root, fc.context)
	if err != nil {
		return nil, false
	}
	return v, true
}

func (f filterCompare) eval(fc filterContext) bool {
	l, ok := f.left.value(fc)
	if !ok {
		return false
	}
	if f.op == "=~" {
		s, ok := l.(string)
		return ok && f.right.regex != nil && f.right.regex.MatchString(s)
	}
	r, ok := f.right.value(fc)
	if !ok {
		return false
	}
	switch f.op {
	case "==":
		return intrinsicEqual(l, r)
	case "!=":
		return !intrinsicEqual(l, r)
	case "<", "<=", ">", ">=":
		c, ok := filterOrder(l, r)
		if !ok {
			return false
		}
		switch f.op {
		case "<":
			return c < 0
		case "<=":
			return c <= 0
		case ">":
			return c > 0
		}
		return c >= 0
	case "in", "nin":
		arr, ok := r.([]any)
		if !ok {
			return false
		}
		return filterContains(arr, l) == (f.op == "in")
	case "subsetof", "anyof", "noneof":
		la, ok1 := l.([]any)
		ra, ok2 := r.([]any)
		if !ok1 || !ok2 {
			return false
		}
		n := 0
		for _, e := range la {
			if filterContains(ra, e) {
				n++
			}
		}
		switch f.op {
		case "subsetof":
			return n == len(la)
		case "anyof":
			return n > 0
		}
		return n == 0
	case "size":
		want, ok := choiceNumber(r)
		if !ok {
			return false
		}
		var size int
		switch t := l.(type) {
		case []any:
			size = len(t)
		case string:
			size = utf8.RuneCountInString(t)
		default:
			return false
		}
		got, _ := choiceNumber(size)
		return got.cmp(want) == 0
	case "empty":
		want, ok := r.(bool)
		if !ok {
			return false
		}
		switch t := l.(type) {
		case []any:
			return (len(t) == 0) == want
		case string:
			return (t == "") == want
		}
		return false
	}
	return false
}

// filterOrder compares two numbers or two strings.
func filterOrder(l, r any) (int, bool) {
	if ls, ok := l.(string); ok {
		rs, ok := r.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(ls, rs), true
	}
	ln, ok1 := choiceNumber(l)
	rn, ok2 := choiceNumber(r)
	if !ok1 || !ok2 {
		return 0, false
	}
	return ln.cmp(rn), true
}

func filterContains(arr []any, v any) bool {
	for _, e := range arr {
		if intrinsicEqual(e, v) {
			return true
		}
	}
	return false
}

// filterParser reads a filter expression.
type filterParser struct {
	src string
	pos int
}

// parseFilter parses the expression between the parentheses of [?( )].
func parseFilter(src string) (filterExpr, error) {
	p := &filterParser{src: src}
	x, err := p.or()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(p.src) {
		return nil, p.errorf("unexpected %q", p.src[p.pos:])
	}
	return x, nil
}

func (p *filterParser) errorf(format string, args ...any) error {
	return fmt.Errorf("filter (%s): at offset %d: %s", p.src, p.pos, fmt.Sprintf(format, args...))
}

func (p *filterParser) space() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\n' || p.src[p.pos] == '\r') {
		p.pos++
	}
}

func (p *filterParser) eat(s string) bool {
	p.space()
	if strings.HasPrefix(p.src[p.pos:], s) {
		p.pos += len(s)
		return true
	}
	return false
}

func (p *filterParser) or() (filterExpr, error) {
	x, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.eat("||") {
		y, err := p.and()
		if err != nil {
			return nil, err
		}
		x = filterOr{x, y}
	}
	return x, nil
}

func (p *filterParser) and() (filterExpr, error) {
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.eat("&&") {
		y, err := p.unary()
		if err != nil {
			return nil, err
		}
		x = filterAnd{x, y}
	}
	return x, nil
}

func (p *filterParser) unary() (filterExpr, error) {
	p.space()
	if strings.HasPrefix(p.src[p.pos:], "!") && !strings.HasPrefix(p.src[p.pos:], "!=") {
		p.pos++
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return filterNot{x}, nil
	}
	if p.eat("(") {
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.eat(")") {
			return nil, p.errorf("missing ')'")
		}
		return x, nil
	}
	return p.comparison()
}

// filterOps are the comparison operators, longest first.
var filterOps = []string{"==", "!=", "<=", ">=", "=~", "<", ">", "subsetof", "anyof", "noneof", "nin", "in", "size", "empty"}

func (p *filterParser) comparison() (filterExpr, error) {
	left, err := p.operand()
	if err != nil {
		return nil, err
	}
	p.space()
	op := ""
	for _, o := range filterOps {
		if strings.HasPrefix(p.src[p.pos:], o) {
			// A word operator must end where the word does.
			end := p.pos + len(o)
			if o[0] >= 'a' && o[0] <= 'z' && end < len(p.src) && isFilterWordByte(p.src[end]) {
				continue
			}
			op = o
			p.pos = end
			break
		}
	}
	if op == "" {
		if left.path == nil {
			return nil, p.errorf("a literal alone is not a condition")
		}
		return filterExists{left}, nil
	}
	if op == "=~" {
		p.space()
		re, err := p.regex()
		if err != nil {
			return nil, err
		}
		return filterCompare{op: op, left: left, right: filterOperand{regex: re}}, nil
	}
	right, err := p.operand()
	if err != nil {
		return nil, err
	}
	return filterCompare{op: op, left: left, right: right}, nil
}

func isFilterWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func (p *filterParser) operand() (filterOperand, error) {
	p.space()
	if p.pos >= len(p.src) {
		return filterOperand{}, p.errorf("missing an operand")
	}
	switch c := p.src[p.pos]; {
	case c == '@' || c == '$':
		return p.path()
	case c == '\'' || c == '"':
		s, err := p.quoted()
		return filterOperand{literal: s}, err
	case c == '[':
		v, err := p.array()
		return filterOperand{literal: v}, err
	case c == '-' || c >= '0' && c <= '9':
		start := p.pos
		p.pos++
		for p.pos < len(p.src) && strings.IndexByte("0123456789.eE+-", p.src[p.pos]) >= 0 {
			p.pos++
		}
		n := p.src[start:p.pos]
		if !choiceIsJSONNumber(n) {
			return filterOperand{}, p.errorf("invalid number %q", n)
		}
		return filterOperand{literal: json.Number(n)}, nil
	}
	for _, w := range []struct {
		word string
		v    any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if strings.HasPrefix(p.src[p.pos:], w.word) && (p.pos+len(w.word) == len(p.src) || !isFilterWordByte(p.src[p.pos+len(w.word)])) {
			p.pos += len(w.word)
			return filterOperand{literal: w.v}, nil
		}
	}
	return filterOperand{}, p.errorf("unexpected %q", p.src[p.pos:])
}

// path reads an "@" or "$" path up to the first space, operator or
// closing parenthesis outside brackets and quotes.
func (p *filterParser) path() (filterOperand, error) {
	start := p.pos
	depth := 0
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '\'' || c == '"' {
			if _, err := p.quoted(); err != nil {
				return filterOperand{}, err
			}
			continue
		}
		if c == '[' {
			depth++
		} else if c == ']' {
			depth--
		} else if depth == 0 && strings.IndexByte(" \t\r\n=!<>&|)~", c) >= 0 {
			break
		}
		p.pos++
	}
	text := p.src[start:p.pos]
	current := text[0] == '@'
	if current {
		text = "$" + text[1:]
	}
	parsed, err := ParsePath(text)
	if err != nil {
		return filterOperand{}, p.errorf("%v", err)
	}
	return filterOperand{path: &parsed, current: current}, nil
}

func (p *filterParser) quoted() (string, error) {
	q := p.src[p.pos]
	p.pos++
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == q:
			p.pos++
			return b.String(), nil
		case c == '\\' && p.pos+1 < len(p.src):
			p.pos++
			switch e := p.src[p.pos]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
		p.pos++
	}
	return "", p.errorf("unclosed string")
}

func (p *filterParser) array() ([]any, error) {
	p.pos++ // [
	out := []any{}
	if p.eat("]") {
		return out, nil
	}
	for {
		o, err := p.operand()
		if err != nil {
			return nil, err
		}
		if o.path != nil {
			return nil, p.errorf("an array literal holds literals only")
		}
		out = append(out, o.literal)
		if p.eat("]") {
			return out, nil
		}
		if !p.eat(",") {
			return nil, p.errorf("missing ',' or ']' in an array")
		}
	}
}

func (p *filterParser) regex() (*regexp.Regexp, error) {
	if p.pos >= len(p.src) || p.src[p.pos] != '/' {
		return nil, p.errorf("=~ needs a /regular expression/")
	}
	p.pos++
	var b strings.Builder
	for p.pos < len(p.src) && p.src[p.pos] != '/' {
		if p.src[p.pos] == '\\' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '/' {
			p.pos++
		}
		b.WriteByte(p.src[p.pos])
		p.pos++
	}
	if p.pos >= len(p.src) {
		return nil, p.errorf("unclosed regular expression")
	}
	p.pos++
	flags := ""
	for p.pos < len(p.src) && isFilterWordByte(p.src[p.pos]) {
		if p.src[p.pos] != 'i' {
			return nil, p.errorf("unknown regular expression flag %q", p.src[p.pos])
		}
		flags = "(?i)"
		p.pos++
	}
	re, err := regexp.Compile(flags + "^(?:" + b.String() + ")$")
	if err != nil {
		return nil, p.errorf("invalid regular expression: %v", err)
	}
	return re, nil
}

// filterMemo remembers parsed filters; like paths they are shared and
// never changed.
var filterMemo memo[string, filterExpr]

func parseFilterMemo(src string) (filterExpr, error) {
	if f, ok := filterMemo.get(src); ok {
		return f, nil
	}
	f, err := parseFilter(src)
	if err != nil {
		return nil, err
	}
	filterMemo.put(src, f)
	return f, nil
}
