package expr

import (
	"fmt"
	"strconv"
)

// TypeError is a problem Check or CheckTemplate found. A Warning does not
// make the expression invalid: it flags something that is legal but almost
// certainly a mistake, like a comparison of two literals.
type TypeError struct {
	// Start and End are the byte offsets of the offending node.
	Start, End int
	// Msg says what is wrong, like `"&&" needs booleans, got string
	// (input.name)`.
	Msg string
	// Hint says how to fix it; optional.
	Hint string
	// Warning marks a problem that does not make the expression invalid.
	Warning bool
}

// Error returns the offset and the message, followed by the hint when there
// is one.
func (e *TypeError) Error() string {
	s := fmt.Sprintf("offset %d: %s", e.Start, e.Msg)
	if e.Warning {
		s = fmt.Sprintf("offset %d: warning: %s", e.Start, e.Msg)
	}
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

var boolType = TypeOf(Boolean)

// Check type-checks a condition against env and returns its type with
// every problem found, errors and warnings alike (see TypeError.Warning).
// The rules:
//
//   - Every path must resolve in env.
//   - The condition, and each operand of &&, || and !, must be boolean.
//   - == and != need operands of a common kind (number and integer are
//     one); comparing with null needs a value that may be null; objects
//     and arrays do not compare.
//   - < <= > >= need two numbers or two strings; strings compare
//     lexically, as Step Functions does, which orders ISO 8601 timestamps
//     of one format and time zone correctly.
//   - Each side of a comparison is a path or a literal, since a Step
//     Functions choice rule compares a variable with a value.
//   - matches needs a string.
//   - An Optional value may only be read where a guard proves it present:
//     exists(p) on the left of && (or !exists(p) on the left of ||)
//     guards p and every path p goes through. exists itself reads
//     nothing.
//
// Warnings: a comparison of two literals, a boolean literal used as a
// condition, and a type test that cannot be true (is_string of a number).
// env must not be nil.
func Check(n Node, env Env) (Type, []*TypeError) {
	c := &checker{env: env, cache: map[string]lookupResult{}}
	t, _, _ := c.cond(n, nil, "")
	return t, c.errs
}

// CheckTemplate type-checks a template against env: every path must
// resolve and be present, and a path embedded in text must be a scalar
// (string, number, integer, boolean or null: null renders as "null"). A
// single {{ path }} passes its value through and may have any kind.
func CheckTemplate(t Template, env Env) []*TypeError {
	c := &checker{env: env, cache: map[string]lookupResult{}}
	_, single := t.Single()
	for _, part := range t.Parts {
		if !part.IsPath {
			continue
		}
		p := part.Path
		typ, ok := c.lookup(p)
		if !ok {
			continue
		}
		if typ.Optional {
			c.report(p, "make it required in its schema, or read it only where it is surely set (a condition may guard it with exists(...) && ...)",
				"%s may be absent, and reading an absent value fails the execution", p)
		}
		if single || typ.IsAny() {
			continue
		}
		switch {
		case typ.Kinds.Has(Object):
			c.report(p, fmt.Sprintf("use \"{{ %s }}\" alone to pass the value through, or pick a field, like %s.name", p, p),
				"cannot embed %s (%s) in text", typ.Kinds, p)
		case typ.Kinds.Has(Array):
			c.report(p, fmt.Sprintf("use \"{{ %s }}\" alone to pass the value through", p),
				"cannot embed %s (%s) in text", typ.Kinds, p)
		}
	}
	return c.errs
}

type lookupResult struct {
	typ Type
	err error
}

type checker struct {
	env   Env
	cache map[string]lookupResult
	errs  []*TypeError
}

func (c *checker) report(n Node, hint, format string, args ...any) {
	start, end := n.Span()
	c.errs = append(c.errs, &TypeError{Start: start, End: end, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

func (c *checker) warn(n Node, hint, format string, args ...any) {
	c.report(n, hint, format, args...)
	c.errs[len(c.errs)-1].Warning = true
}

// lookup resolves p in the environment, reporting an error at p when it
// does not resolve.
func (c *checker) lookup(p Path) (Type, bool) {
	key := p.String()
	r, ok := c.cache[key]
	if !ok {
		r.typ, r.err = c.env.Lookup(p)
		c.cache[key] = r
	}
	if r.err == nil {
		return r.typ, true
	}
	if le, ok := r.err.(*LookupError); ok {
		msg := le.Msg
		if msg == "" {
			msg = fmt.Sprintf("unknown path %s", p)
		}
		c.report(p, le.Hint, "%s", msg)
	} else {
		c.report(p, "", "looking up %s: %v", p, r.err)
	}
	return Type{}, false
}

// read resolves p where its value is used, which needs it present.
func (c *checker) read(p Path, guards *guardList) Type {
	t, ok := c.lookup(p)
	if !ok {
		return Type{}
	}
	if t.Optional && !guarded(p, guards) {
		c.report(p, fmt.Sprintf("test it first: exists(%s) && ...", p),
			"%s may be absent, and reading an absent value fails the execution", p)
	}
	return t
}

// guardList holds the paths known present where a value is read. It is a
// list of lists, so that the right side of a long chain of && adds the
// facts of its left side without copying them.
type guardList struct {
	paths []Path
	outer *guardList
}

func (g *guardList) with(paths []Path) *guardList {
	if len(paths) == 0 {
		return g
	}
	return &guardList{paths: paths, outer: g}
}

func guarded(p Path, g *guardList) bool {
	for ; g != nil; g = g.outer {
		for _, q := range g.paths {
			if q.hasPrefix(p) {
				return true
			}
		}
	}
	return false
}

// cond checks n used as a condition; op is the operator using it ("" at
// the top). It returns n's type and the paths known present when n is
// true and when it is false.
func (c *checker) cond(n Node, guards *guardList, op string) (typ Type, whenTrue, whenFalse []Path) {
	switch n := n.(type) {
	case *Paren:
		return c.cond(n.X, guards, op)
	case *Not:
		_, t, f := c.cond(n.X, guards, "!")
		return boolType, f, t
	case *Binary:
		switch n.Op {
		case OpAnd:
			_, ta, fa := c.cond(n.X, guards, "&&")
			_, tb, fb := c.cond(n.Y, guards.with(ta), "&&")
			// The lists a child returns belong to its parent, so they
			// grow in place.
			return boolType, append(ta, tb...), intersect(fa, fb)
		case OpOr:
			_, ta, fa := c.cond(n.X, guards, "||")
			_, tb, fb := c.cond(n.Y, guards.with(fa), "||")
			return boolType, intersect(ta, tb), append(fa, fb...)
		default:
			c.compare(n, guards)
			return boolType, nil, nil
		}
	case *Call:
		return boolType, c.call(n, guards), nil
	case Path:
		t := c.read(n, guards)
		if !t.IsAny() && !t.Kinds.Has(Boolean) {
			c.report(n, fmt.Sprintf("compare it with a value, like %s == ..., or test it with exists(%s)", n, n),
				"%s, got %s (%s)", needsBoolean(op), t.Kinds, n)
		}
		return t, nil, nil
	case *Literal:
		if n.Kind == Boolean {
			c.warn(n, "", "the condition is always %t", n.Bool)
		} else {
			c.report(n, "", "%s, got %s", needsBoolean(op), describeLiteral(n))
		}
		return literalType(n), nil, nil
	}
	return Type{}, nil, nil
}

func needsBoolean(op string) string {
	switch op {
	case "":
		return "a condition must be boolean"
	case "!":
		return `"!" needs a boolean`
	}
	return strconv.Quote(op) + " needs booleans"
}

// intersect returns the paths in both a and b.
func intersect(a, b []Path) []Path {
	var out []Path
	for _, p := range a {
		for _, q := range b {
			if p.Equal(q) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// typeTests are the kinds each type test can be true for.
var typeTests = map[Func]KindSet{
	FuncIsNull:      KindsOf(Null),
	FuncIsString:    KindsOf(String),
	FuncIsNumber:    KindsOf(Number, Integer),
	FuncIsBoolean:   KindsOf(Boolean),
	FuncIsTimestamp: KindsOf(String),
}

// call checks a function call and returns the paths it proves present.
func (c *checker) call(n *Call, guards *guardList) []Path {
	p := n.Path
	switch n.Func {
	case FuncExists:
		c.lookup(p)
	case FuncMatches:
		t := c.read(p, guards)
		if !t.IsAny() && !t.Kinds.Has(String) {
			c.report(p, "", "matches needs a string, got %s (%s)", t.Kinds, p)
		}
	default:
		t := c.read(p, guards)
		if !t.IsAny() && t.Kinds&typeTests[n.Func] == 0 {
			c.warn(n, "", "%s is always false: %s is %s", n, p, t.Kinds)
		}
	}
	return []Path{p}
}

// compare checks a comparison.
func (c *checker) compare(n *Binary, guards *guardList) {
	x, xDesc, okX := c.operand(n.X, guards, n.Op)
	y, yDesc, okY := c.operand(n.Y, guards, n.Op)
	if !okX || !okY {
		return
	}
	var ok bool
	if n.Op == OpEq || n.Op == OpNe {
		ok = c.compareEqual(n, x, y, xDesc, yDesc)
	} else {
		ok = c.compareOrder(n, x, y, xDesc, yDesc)
	}
	lx, isLitX := unparen(n.X).(*Literal)
	ly, isLitY := unparen(n.Y).(*Literal)
	if ok && isLitX && isLitY {
		c.warn(n, "compare a path with a value", "a comparison of two literals is always %t", evalLiterals(n.Op, lx, ly))
	}
}

// operand checks one side of a comparison, which must be a path or a
// literal, and describes it for messages, like "string (input.name)".
func (c *checker) operand(n Node, guards *guardList, op Op) (Type, string, bool) {
	switch m := unparen(n).(type) {
	case Path:
		t := c.read(m, guards)
		return t, fmt.Sprintf("%s (%s)", t.Kinds, m), true
	case *Literal:
		return literalType(m), describeLiteral(m), true
	}
	c.report(n, "put a path or a literal on each side; use a condition by itself, without comparing it",
		"%q compares values, not conditions", op.String())
	c.cond(n, guards, "")
	return Type{}, "", false
}

func unparen(n Node) Node {
	for {
		p, ok := n.(*Paren)
		if !ok {
			return n
		}
		n = p.X
	}
}

var (
	equatable = KindsOf(String, Number, Boolean, Null)
	ordered   = KindsOf(String, Number)
)

// sidesIn reports each side of n whose kinds include none of allowed, with
// the message format (which takes the operator and the side's description).
func (c *checker) sidesIn(n *Binary, x, y Type, xDesc, yDesc string, allowed KindSet, hint, format string) bool {
	ok := true
	for i, t := range []Type{x, y} {
		if !t.IsAny() && t.Kinds.normalize()&allowed == 0 {
			side, desc := n.X, xDesc
			if i == 1 {
				side, desc = n.Y, yDesc
			}
			c.report(side, hint, format, n.Op.String(), desc)
			ok = false
		}
	}
	return ok
}

func (c *checker) compareEqual(n *Binary, x, y Type, xDesc, yDesc string) bool {
	ok := c.sidesIn(n, x, y, xDesc, yDesc, equatable, "compare one of its fields", "%q cannot compare %s")
	if !ok || x.IsAny() || y.IsAny() {
		return ok
	}
	common := x.Kinds.normalize() & y.Kinds.normalize()
	if common&KindsOf(String, Number, Boolean) != 0 {
		return true
	}
	if common.Has(Null) && (isNull(n.X) || isNull(n.Y)) {
		return true
	}
	hint := ""
	if isNull(n.Y) {
		hint = fmt.Sprintf("%s is never null", unparen(n.X))
	} else if isNull(n.X) {
		hint = fmt.Sprintf("%s is never null", unparen(n.Y))
	}
	c.report(n, hint, "cannot compare %s with %s", xDesc, yDesc)
	return false
}

func (c *checker) compareOrder(n *Binary, x, y Type, xDesc, yDesc string) bool {
	ok := c.sidesIn(n, x, y, xDesc, yDesc, ordered, "", "%q needs numbers or strings, got %s")
	if !ok || x.IsAny() || y.IsAny() {
		return ok
	}
	if x.Kinds.normalize()&y.Kinds.normalize()&ordered == 0 {
		c.report(n, "", "cannot compare %s with %s", xDesc, yDesc)
		return false
	}
	return true
}

func isNull(n Node) bool {
	l, ok := unparen(n).(*Literal)
	return ok && l.Kind == Null
}

func literalType(l *Literal) Type { return TypeOf(l.Kind) }

// describeLiteral describes a literal for messages, like `number 100`.
func describeLiteral(l *Literal) string {
	if l.Kind == Null {
		return "null"
	}
	return l.Kind.String() + " " + l.String()
}

// evalLiterals evaluates a comparison of two literals of compatible kinds.
func evalLiterals(op Op, x, y *Literal) bool {
	var cmp int // -1, 0, 1
	switch x.Kind {
	case Number:
		switch {
		case x.Num < y.Num:
			cmp = -1
		case x.Num > y.Num:
			cmp = 1
		}
	case String:
		switch {
		case x.Str < y.Str:
			cmp = -1
		case x.Str > y.Str:
			cmp = 1
		}
	case Boolean:
		if x.Bool != y.Bool {
			cmp = 1
		}
	}
	switch op {
	case OpEq:
		return cmp == 0
	case OpNe:
		return cmp != 0
	case OpLt:
		return cmp < 0
	case OpLe:
		return cmp <= 0
	case OpGt:
		return cmp > 0
	default:
		return cmp >= 0
	}
}
