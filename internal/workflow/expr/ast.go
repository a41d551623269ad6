package expr

import (
	"strings"
	"unicode/utf8"
)

// Node is a node of an expression's syntax tree: *Binary, *Not, *Paren,
// *Literal, *Call or Path. Every node knows its byte offsets in the source.
type Node interface {
	// Span returns the byte offsets of the node in the source, end
	// exclusive.
	Span() (start, end int)
	// String renders the node in canonical form; parsing it gives the same
	// tree.
	String() string
	exprNode()
}

// Op is a binary operator.
type Op uint8

// The binary operators, from the loosest to the tightest binding.
const (
	OpOr Op = iota + 1
	OpAnd
	OpEq
	OpNe
	OpLt
	OpLe
	OpGt
	OpGe
)

var opNames = [...]string{OpOr: "||", OpAnd: "&&", OpEq: "==", OpNe: "!=", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">="}

// String returns the operator as written, like "&&".
func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return "?"
}

// IsComparison reports whether o compares two values rather than combining
// two conditions.
func (o Op) IsComparison() bool { return o >= OpEq && o <= OpGe }

// Binary is a binary operation: X Op Y.
type Binary struct {
	Op   Op
	X, Y Node
	// OpStart is the offset of the operator.
	OpStart    int
	Start, End int
}

// Not is a negation: !X.
type Not struct {
	X          Node
	Start, End int
}

// Paren is a parenthesized expression: (X). It is kept in the tree so that
// String gives back the grouping the author wrote.
type Paren struct {
	X          Node
	Start, End int
}

// Literal is a string, number, boolean or null literal. Kind is String,
// Number, Boolean or Null, and says which value field is set.
type Literal struct {
	Kind Kind
	Str  string
	Num  float64
	// NumText is the number as written (JSON syntax), so that the compiler
	// can emit it without a round trip through float64.
	NumText    string
	Bool       bool
	Start, End int
}

// Func is a built-in function.
type Func uint8

// The built-in functions. All but FuncMatches take one path; FuncMatches
// takes a path and a pattern string.
const (
	FuncExists Func = iota + 1
	FuncIsNull
	FuncIsString
	FuncIsNumber
	FuncIsBoolean
	FuncIsTimestamp
	FuncMatches
)

var funcNames = [...]string{
	FuncExists:      "exists",
	FuncIsNull:      "is_null",
	FuncIsString:    "is_string",
	FuncIsNumber:    "is_number",
	FuncIsBoolean:   "is_boolean",
	FuncIsTimestamp: "is_timestamp",
	FuncMatches:     "matches",
}

// String returns the function's name, like "is_null".
func (f Func) String() string {
	if int(f) < len(funcNames) && funcNames[f] != "" {
		return funcNames[f]
	}
	return "?"
}

func lookupFunc(name string) Func {
	for f, n := range funcNames {
		if n != "" && n == name {
			return Func(f)
		}
	}
	return 0
}

// Call is a call of a built-in function on a path. Pattern is set only for
// FuncMatches; it is a string literal whose value is a glob where * matches
// any run of characters, \* a star and \\ a backslash.
type Call struct {
	Func       Func
	Path       Path
	Pattern    *Literal
	Start, End int
}

// Span returns the byte offsets of b in the source.
func (b *Binary) Span() (start, end int) { return b.Start, b.End }

// Span returns the byte offsets of n in the source.
func (n *Not) Span() (start, end int) { return n.Start, n.End }

// Span returns the byte offsets of p in the source.
func (p *Paren) Span() (start, end int) { return p.Start, p.End }

// Span returns the byte offsets of l in the source.
func (l *Literal) Span() (start, end int) { return l.Start, l.End }

// Span returns the byte offsets of c in the source.
func (c *Call) Span() (start, end int) { return c.Start, c.End }

func (*Binary) exprNode()  {}
func (*Not) exprNode()     {}
func (*Paren) exprNode()   {}
func (*Literal) exprNode() {}
func (*Call) exprNode()    {}

// Binding strengths, for rendering parentheses.
const (
	precOr = iota + 1
	precAnd
	precNot
	precCmp
	precPrimary
)

func prec(n Node) int {
	switch n := n.(type) {
	case *Binary:
		switch {
		case n.Op == OpOr:
			return precOr
		case n.Op == OpAnd:
			return precAnd
		default:
			return precCmp
		}
	case *Not:
		return precNot
	default:
		return precPrimary
	}
}

// String renders b with single spaces around the operator. It adds
// parentheses where the tree's grouping needs them, which only happens for
// trees built by hand: parsed trees keep theirs as *Paren.
func (b *Binary) String() string { return render(b) }

// String renders n as !X.
func (n *Not) String() string { return render(n) }

// String renders p as (X).
func (p *Paren) String() string { return render(p) }

// String renders l in canonical form: strings double-quoted with JSON
// escapes, numbers as written.
func (l *Literal) String() string {
	switch l.Kind {
	case String:
		return quote(l.Str)
	case Number:
		return l.NumText
	case Boolean:
		if l.Bool {
			return "true"
		}
		return "false"
	default:
		return "null"
	}
}

// String renders c as a call, like matches(input.email, "*@example.com").
func (c *Call) String() string {
	s := c.Func.String() + "(" + c.Path.String()
	if c.Pattern != nil {
		s += ", " + c.Pattern.String()
	}
	return s + ")"
}

// render renders n into one builder, so that long chains of && take linear
// time.
func render(n Node) string {
	var b strings.Builder
	var write func(n Node, least int)
	write = func(n Node, least int) {
		if prec(n) < least {
			b.WriteByte('(')
			defer b.WriteByte(')')
		}
		switch n := n.(type) {
		case *Binary:
			left, right := prec(n), prec(n)+1 // || and && group to the left
			if n.Op.IsComparison() {
				left, right = precPrimary, precPrimary // comparisons do not chain
			}
			write(n.X, left)
			b.WriteByte(' ')
			b.WriteString(n.Op.String())
			b.WriteByte(' ')
			write(n.Y, right)
		case *Not:
			b.WriteByte('!')
			write(n.X, precNot)
		case *Paren:
			b.WriteByte('(')
			write(n.X, 0)
			b.WriteByte(')')
		default:
			b.WriteString(n.String())
		}
	}
	write(n, 0)
	return b.String()
}

// quote renders s as a double-quoted string with JSON escapes.
func quote(s string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		case c < utf8.RuneSelf:
			b.WriteByte(c)
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				// Parsed strings are valid UTF-8; keep a stray byte of a
				// hand-built one as it is.
				b.WriteByte(c)
			} else {
				b.WriteString(s[i : i+size])
			}
			i += size
			continue
		}
		i++
	}
	b.WriteByte('"')
	return b.String()
}

// Paths returns every path n reads, in source order, once per occurrence:
// the paths compared, tested and matched, including the argument of
// exists. A workflow checker uses it to find the steps an expression
// depends on.
func Paths(n Node) []Path {
	var out []Path
	var walk func(Node)
	walk = func(n Node) {
		switch n := n.(type) {
		case *Binary:
			walk(n.X)
			walk(n.Y)
		case *Not:
			walk(n.X)
		case *Paren:
			walk(n.X)
		case *Call:
			out = append(out, n.Path)
		case Path:
			out = append(out, n)
		}
	}
	walk(n)
	return out
}
