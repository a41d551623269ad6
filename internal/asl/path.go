package asl

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// RootKind says what a path starts from.
type RootKind int

// The roots of a path.
const (
	// RootInput is "$": the state's input (or the value the field applies to).
	RootInput RootKind = iota + 1
	// RootContext is "$$": the Context Object.
	RootContext
	// RootVariable is "$name": a workflow variable set by Assign.
	RootVariable
)

// SegmentKind says what one step of a path selects.
type SegmentKind int

// The kinds of path segments.
const (
	// SegmentField selects an object member: .name or ['name'].
	SegmentField SegmentKind = iota + 1
	// SegmentIndex selects an array element: [2], or [-1] from the end.
	SegmentIndex
	// SegmentWildcard selects every member or element: .* or [*].
	SegmentWildcard
	// SegmentSlice selects a range of elements: [start:end:step].
	SegmentSlice
	// SegmentUnion selects several members ['a','b'] or elements [0,2].
	SegmentUnion
	// SegmentFilter selects elements matching [?(expression)].
	SegmentFilter
	// SegmentScript selects with a script expression [(expression)].
	SegmentScript
)

// Segment is one step of a Path.
type Segment struct {
	Kind SegmentKind
	// Descendant is set when the segment was reached with "..", which
	// searches the whole subtree.
	Descendant bool
	// Name is the member name of a SegmentField.
	Name string
	// Index is the element index of a SegmentIndex.
	Index int
	// Start, End and Step bound a SegmentSlice; nil means omitted.
	Start, End, Step *int
	// Union lists the SegmentField or SegmentIndex members of a
	// SegmentUnion, all of one kind.
	Union []Segment
	// Expr is the source of a SegmentFilter or SegmentScript expression,
	// between the parentheses.
	Expr string
}

// Path is a parsed JSONPath as Step Functions uses it: "$", "$.a.b",
// "$['a b']", "$.a[0]", "$$.Execution.Id" or "$name.field".
type Path struct {
	Root RootKind
	// Variable is the variable name of a RootVariable path.
	Variable string
	Segments []Segment
}

// IsReference reports whether p is a Reference Path: one that can only
// identify a single value, with no wildcards, descendants, slices,
// unions, filters or scripts.
func (p Path) IsReference() bool {
	for _, s := range p.Segments {
		if s.Descendant || (s.Kind != SegmentField && s.Kind != SegmentIndex) {
			return false
		}
	}
	return true
}

// String returns p in a canonical spelling that ParsePath reads back to
// the same Path.
func (p Path) String() string {
	var b strings.Builder
	switch p.Root {
	case RootContext:
		b.WriteString("$$")
	case RootVariable:
		b.WriteString("$" + p.Variable)
	default:
		b.WriteString("$")
	}
	for _, s := range p.Segments {
		writeSegment(&b, s)
	}
	return b.String()
}

func writeSegment(b *strings.Builder, s Segment) {
	if s.Descendant {
		b.WriteString("..")
	}
	switch s.Kind {
	case SegmentField:
		if dotSafe(s.Name) {
			if !s.Descendant {
				b.WriteByte('.')
			}
			b.WriteString(s.Name)
			return
		}
		b.WriteString("[" + quoteName(s.Name) + "]")
	case SegmentWildcard:
		if !s.Descendant {
			b.WriteByte('.')
		}
		b.WriteByte('*')
	case SegmentIndex:
		b.WriteString("[" + strconv.Itoa(s.Index) + "]")
	case SegmentSlice:
		b.WriteByte('[')
		if s.Start != nil {
			b.WriteString(strconv.Itoa(*s.Start))
		}
		b.WriteByte(':')
		if s.End != nil {
			b.WriteString(strconv.Itoa(*s.End))
		}
		if s.Step != nil {
			b.WriteString(":" + strconv.Itoa(*s.Step))
		}
		b.WriteByte(']')
	case SegmentUnion:
		b.WriteByte('[')
		for i, u := range s.Union {
			if i > 0 {
				b.WriteByte(',')
			}
			if u.Kind == SegmentIndex {
				b.WriteString(strconv.Itoa(u.Index))
			} else {
				b.WriteString(quoteName(u.Name))
			}
		}
		b.WriteByte(']')
	case SegmentFilter:
		b.WriteString("[?(" + s.Expr + ")]")
	case SegmentScript:
		b.WriteString("[(" + s.Expr + ")]")
	}
}

func quoteName(name string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(name) + "'"
}

// dotSafe reports whether name can be written after a dot.
func dotSafe(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if !dotNameRune(r) {
			return false
		}
	}
	return true
}

// dotNameRune reports whether r may appear in a member name written after
// a dot. The excluded characters delimit paths, in intrinsic function
// arguments too.
func dotNameRune(r rune) bool {
	if unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
		return false
	}
	return !strings.ContainsRune(`.[]'"(),*?@\`, r)
}

// ParsePath parses a JSONPath as Step Functions reads it. It accepts "$"
// (the input), "$$" (the Context Object) and "$name" (a variable),
// followed by any number of segments: .name, ['name'], [n], .*, [*],
// ..name, [start:end:step], ['a','b'], [0,1], [?(expr)] and [(expr)].
// Errors give the byte offset of the problem.
func ParsePath(s string) (Path, error) {
	p := pathParser{src: s}
	path, err := p.parse()
	if err != nil {
		return Path{}, fmt.Errorf("invalid path %q: %w", s, err)
	}
	return path, nil
}

type pathParser struct {
	src string
	pos int
}

func (p *pathParser) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *pathParser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *pathParser) parse() (Path, error) {
	var path Path
	if !strings.HasPrefix(p.src, "$") {
		return path, p.errorf("a path starts with $")
	}
	p.pos = 1
	switch {
	case strings.HasPrefix(p.src[p.pos:], "$"):
		path.Root = RootContext
		p.pos++
	case p.pos < len(p.src) && p.src[p.pos] != '.' && p.src[p.pos] != '[':
		path.Root = RootVariable
		start := p.pos
		for p.pos < len(p.src) {
			r, size := utf8.DecodeRuneInString(p.src[p.pos:])
			if !(r == '_' || unicode.IsLetter(r) || (p.pos > start && unicode.IsDigit(r))) {
				break
			}
			p.pos += size
		}
		if p.pos == start {
			return path, p.errorf("expected a variable name, '.' or '[' after $")
		}
		path.Variable = p.src[start:p.pos]
	default:
		path.Root = RootInput
	}
	for p.pos < len(p.src) {
		seg, err := p.segment()
		if err != nil {
			return path, err
		}
		path.Segments = append(path.Segments, seg)
	}
	return path, nil
}

func (p *pathParser) segment() (Segment, error) {
	switch p.peek() {
	case '.':
		p.pos++
		if p.peek() == '.' {
			p.pos++
			if p.peek() == '[' {
				seg, err := p.bracket()
				seg.Descendant = true
				return seg, err
			}
			seg, err := p.dotted()
			seg.Descendant = true
			return seg, err
		}
		return p.dotted()
	case '[':
		return p.bracket()
	}
	return Segment{}, p.errorf("expected '.' or '[', found %q", p.peek())
}

// dotted reads a member name or * after a dot.
func (p *pathParser) dotted() (Segment, error) {
	if p.peek() == '*' {
		p.pos++
		return Segment{Kind: SegmentWildcard}, nil
	}
	start := p.pos
	for p.pos < len(p.src) {
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		if !dotNameRune(r) {
			break
		}
		p.pos += size
	}
	if p.pos == start {
		if p.pos == len(p.src) {
			return Segment{}, p.errorf("expected a member name at the end")
		}
		return Segment{}, p.errorf("expected a member name, found %q", p.peek())
	}
	return Segment{Kind: SegmentField, Name: p.src[start:p.pos]}, nil
}

// bracket reads a [...] segment.
func (p *pathParser) bracket() (Segment, error) {
	p.pos++ // [
	switch p.peek() {
	case '*':
		p.pos++
		return Segment{Kind: SegmentWildcard}, p.expect(']')
	case '?':
		p.pos++
		if p.peek() != '(' {
			return Segment{}, p.errorf("expected '(' after '?'")
		}
		expr, err := p.expression()
		if err != nil {
			return Segment{}, err
		}
		if _, err := parseFilter(expr); err != nil {
			return Segment{}, p.errorf("%v", err)
		}
		return Segment{Kind: SegmentFilter, Expr: expr}, p.expect(']')
	case '(':
		expr, err := p.expression()
		if err != nil {
			return Segment{}, err
		}
		return Segment{Kind: SegmentScript, Expr: expr}, p.expect(']')
	case '\'', '"':
		var names []Segment
		for {
			name, err := p.quoted()
			if err != nil {
				return Segment{}, err
			}
			names = append(names, Segment{Kind: SegmentField, Name: name})
			if p.peek() != ',' {
				break
			}
			p.pos++
			if c := p.peek(); c != '\'' && c != '"' {
				return Segment{}, p.errorf("expected a quoted name after ','")
			}
		}
		if err := p.expect(']'); err != nil {
			return Segment{}, err
		}
		if len(names) == 1 {
			return names[0], nil
		}
		return Segment{Kind: SegmentUnion, Union: names}, nil
	}
	// Numbers: an index, a union of indexes or a slice.
	first, hasFirst, err := p.integer()
	if err != nil {
		return Segment{}, err
	}
	switch p.peek() {
	case ']':
		p.pos++
		if !hasFirst {
			return Segment{}, p.errorf("empty brackets")
		}
		return Segment{Kind: SegmentIndex, Index: first}, nil
	case ',':
		if !hasFirst {
			return Segment{}, p.errorf("expected an index before ','")
		}
		union := []Segment{{Kind: SegmentIndex, Index: first}}
		for p.peek() == ',' {
			p.pos++
			i, ok, err := p.integer()
			if err != nil {
				return Segment{}, err
			}
			if !ok {
				return Segment{}, p.errorf("expected an index after ','")
			}
			union = append(union, Segment{Kind: SegmentIndex, Index: i})
		}
		return Segment{Kind: SegmentUnion, Union: union}, p.expect(']')
	case ':':
		seg := Segment{Kind: SegmentSlice}
		if hasFirst {
			seg.Start = &first
		}
		p.pos++
		end, ok, err := p.integer()
		if err != nil {
			return Segment{}, err
		}
		if ok {
			seg.End = &end
		}
		if p.peek() == ':' {
			p.pos++
			step, ok, err := p.integer()
			if err != nil {
				return Segment{}, err
			}
			if ok {
				if step == 0 {
					return Segment{}, p.errorf("slice step must not be 0")
				}
				seg.Step = &step
			}
		}
		return seg, p.expect(']')
	}
	if p.pos == len(p.src) {
		return Segment{}, p.errorf("unclosed '['")
	}
	return Segment{}, p.errorf("unexpected %q in brackets", p.peek())
}

func (p *pathParser) expect(c byte) error {
	if p.peek() != c {
		if p.pos == len(p.src) {
			return p.errorf("expected %q at the end", c)
		}
		return p.errorf("expected %q, found %q", c, p.peek())
	}
	p.pos++
	return nil
}

// integer reads an optional signed decimal integer.
func (p *pathParser) integer() (int, bool, error) {
	start := p.pos
	if p.peek() == '-' {
		p.pos++
	}
	digits := p.pos
	for p.peek() >= '0' && p.peek() <= '9' {
		p.pos++
	}
	if p.pos == digits {
		if p.pos > start {
			return 0, false, p.errorf("expected digits after '-'")
		}
		return 0, false, nil
	}
	i, err := strconv.Atoi(p.src[start:p.pos])
	if err != nil {
		return 0, false, p.errorf("index %s is out of range", p.src[start:p.pos])
	}
	return i, true, nil
}

// quoted reads a name in single or double quotes, with \\ and \' or \"
// escapes.
func (p *pathParser) quoted() (string, error) {
	q := p.src[p.pos]
	p.pos++
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch c {
		case q:
			p.pos++
			return b.String(), nil
		case '\\':
			if p.pos+1 >= len(p.src) {
				return "", p.errorf("unfinished escape")
			}
			next := p.src[p.pos+1]
			if next != '\\' && next != '\'' && next != '"' {
				return "", p.errorf("unknown escape \\%c in a quoted name", next)
			}
			b.WriteByte(next)
			p.pos += 2
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return "", p.errorf("unclosed quoted name")
}

// expression reads "(...)" with balanced parentheses, skipping quoted
// strings, and returns what is between the outer parentheses.
func (p *pathParser) expression() (string, error) {
	p.pos++ // (
	start := p.pos
	depth := 1
	for p.pos < len(p.src) {
		switch c := p.src[p.pos]; c {
		case '\'', '"':
			if _, err := p.quoted(); err != nil {
				return "", err
			}
			continue
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				expr := p.src[start:p.pos]
				p.pos++
				if strings.TrimSpace(expr) == "" {
					return "", p.errorf("empty expression")
				}
				return expr, nil
			}
		}
		p.pos++
	}
	return "", p.errorf("unclosed '(' in expression")
}
