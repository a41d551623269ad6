package expr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// SyntaxError is the error Parse and ParseTemplate return for malformed
// source.
type SyntaxError struct {
	// Offset is the byte offset in the source where the problem is; it may
	// equal the length of the source when the source ends too early.
	Offset int
	// Msg says what is wrong, like `expected an operand after "&&"`.
	Msg string
	// Hint says how to fix it; optional.
	Hint string
}

// Error returns the offset and the message, followed by the hint when there
// is one.
func (e *SyntaxError) Error() string {
	s := fmt.Sprintf("offset %d: %s", e.Offset, e.Msg)
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

// Parse parses a condition. It returns a *SyntaxError when src is not one.
func Parse(src string) (Node, error) {
	p := &parser{src: src}
	n, err := p.parseOr("")
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eof() {
		return nil, p.unexpected()
	}
	return n, nil
}

type parser struct {
	src   string
	pos   int
	depth int // of parentheses and negations, bounded by maxDepth
}

// maxDepth bounds the nesting of parentheses and negations, so that a
// hostile source cannot exhaust the stack.
const maxDepth = 100

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errorf(p.pos, "", "the expression nests more than %d deep", maxDepth)
	}
	return nil
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.src[p.pos]
}

func (p *parser) has(s string) bool { return strings.HasPrefix(p.src[p.pos:], s) }

func (p *parser) skipSpace() {
	for !p.eof() && isSpace(p.src[p.pos]) {
		p.pos++
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (p *parser) errorf(offset int, hint, format string, args ...any) *SyntaxError {
	return &SyntaxError{Offset: offset, Msg: fmt.Sprintf(format, args...), Hint: hint}
}

// parseOr parses a || b || c. after names what came before the expression,
// for error messages: "" at the start of the source, or a quoted operator.
func (p *parser) parseOr(after string) (Node, error) {
	x, err := p.parseAnd(after)
	if err != nil {
		return nil, err
	}
	for {
		p.skipSpace()
		if !p.has("||") {
			return x, nil
		}
		opStart := p.pos
		p.pos += 2
		y, err := p.parseAnd(`"||"`)
		if err != nil {
			return nil, err
		}
		x = binary(OpOr, x, y, opStart)
	}
}

func (p *parser) parseAnd(after string) (Node, error) {
	x, err := p.parseNot(after)
	if err != nil {
		return nil, err
	}
	for {
		p.skipSpace()
		if !p.has("&&") {
			return x, nil
		}
		opStart := p.pos
		p.pos += 2
		y, err := p.parseNot(`"&&"`)
		if err != nil {
			return nil, err
		}
		x = binary(OpAnd, x, y, opStart)
	}
}

func (p *parser) parseNot(after string) (Node, error) {
	p.skipSpace()
	if p.peek() != '!' || p.has("!=") {
		return p.parseCmp(after)
	}
	start := p.pos
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.pos++
	x, err := p.parseNot(`"!"`)
	if err != nil {
		return nil, err
	}
	p.depth--
	_, end := x.Span()
	return &Not{X: x, Start: start, End: end}, nil
}

func (p *parser) parseCmp(after string) (Node, error) {
	x, err := p.parsePrimary(after)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	op, n := p.cmpOp()
	if op == 0 {
		return x, nil
	}
	opStart := p.pos
	p.pos += n
	y, err := p.parsePrimary(strconv.Quote(op.String()))
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if op2, _ := p.cmpOp(); op2 != 0 {
		return nil, p.errorf(p.pos,
			fmt.Sprintf(`join two comparisons with "&&", like a %s b && b %s c`, op, op2),
			"comparisons do not chain: %q cannot follow %s", op2.String(), x.String()+" "+op.String()+" "+y.String())
	}
	return binary(op, x, y, opStart), nil
}

func binary(op Op, x, y Node, opStart int) *Binary {
	start, _ := x.Span()
	_, end := y.Span()
	return &Binary{Op: op, X: x, Y: y, OpStart: opStart, Start: start, End: end}
}

// cmpOp returns the comparison operator at the position and its length.
func (p *parser) cmpOp() (Op, int) {
	switch {
	case p.has("=="):
		return OpEq, 2
	case p.has("!="):
		return OpNe, 2
	case p.has("<="):
		return OpLe, 2
	case p.has(">="):
		return OpGe, 2
	case p.has("<"):
		return OpLt, 1
	case p.has(">"):
		return OpGt, 1
	}
	return 0, 0
}

func (p *parser) parsePrimary(after string) (Node, error) {
	p.skipSpace()
	if p.eof() {
		return nil, p.operandError(after)
	}
	switch c := p.peek(); {
	case c == '(':
		start := p.pos
		if err := p.enter(); err != nil {
			return nil, err
		}
		p.pos++
		x, err := p.parseOr(`"("`)
		if err != nil {
			return nil, err
		}
		p.depth--
		p.skipSpace()
		if !p.has(")") {
			msg := fmt.Sprintf(`expected ")" to close the "(" at offset %d`, start)
			if !p.eof() {
				msg += ", got " + p.token()
			}
			return nil, &SyntaxError{Offset: p.pos, Msg: msg}
		}
		p.pos++
		return &Paren{X: x, Start: start, End: p.pos}, nil
	case c == '"' || c == '\'':
		start := p.pos
		s, err := p.parseString()
		if err != nil {
			return nil, err
		}
		return &Literal{Kind: String, Str: s, Start: start, End: p.pos}, nil
	case c == '-' || c >= '0' && c <= '9':
		return p.parseNumber()
	case isIdentStart(c):
		return p.parseWord()
	}
	return nil, p.operandError(after)
}

// operandError reports that no operand starts at the position.
func (p *parser) operandError(after string) *SyntaxError {
	msg := "expected an expression"
	if after != "" {
		msg = "expected an operand after " + after
	}
	if p.eof() {
		if after == "" {
			return &SyntaxError{Offset: p.pos, Msg: "empty expression", Hint: `write a condition, like input.amount > 100`}
		}
		return &SyntaxError{Offset: p.pos, Msg: msg}
	}
	hint := ""
	if p.peek() == '$' {
		hint = `paths are written without "$", like input.amount`
	}
	return &SyntaxError{Offset: p.pos, Msg: msg + ", got " + p.token(), Hint: hint}
}

// token describes the token at the position for an error message.
func (p *parser) token() string {
	if p.eof() {
		return "the end"
	}
	if w := p.word(); w != "" {
		return strconv.Quote(w)
	}
	if c := p.peek(); c == '"' || c == '\'' {
		return "a string"
	}
	for _, op := range []string{"||", "&&", "==", "!=", "<=", ">=", "{{", "}}"} {
		if p.has(op) {
			return strconv.Quote(op)
		}
	}
	r, size := utf8.DecodeRuneInString(p.src[p.pos:])
	if r == utf8.RuneError && size == 1 {
		return fmt.Sprintf("byte %#x", p.src[p.pos])
	}
	return strconv.Quote(string(r))
}

// word returns the identifier at the position without consuming it.
func (p *parser) word() string {
	if p.eof() || !isIdentStart(p.src[p.pos]) {
		return ""
	}
	end := p.pos + 1
	for end < len(p.src) && isIdentChar(p.src[end]) {
		end++
	}
	return p.src[p.pos:end]
}

// unexpected reports a token where an operator or the end was expected.
func (p *parser) unexpected() *SyntaxError {
	tok := p.token()
	hint := ""
	switch w := p.word(); {
	case w == "and" || w == "AND":
		hint = `use "&&" for and`
	case w == "or" || w == "OR":
		hint = `use "||" for or`
	case w != "":
		hint = `join conditions with "&&" or "||"`
	case p.has("="):
		hint = `use "==" to compare`
	case p.has("&"):
		hint = `use "&&" for and`
	case p.has("|"):
		hint = `use "||" for or`
	case (p.has(".") || p.has("[")) && p.pos > 0 && isSpace(p.src[p.pos-1]):
		hint = "a path cannot contain spaces"
	case p.has(")"):
		return &SyntaxError{Offset: p.pos, Msg: `unexpected ")" without a matching "("`}
	}
	return &SyntaxError{Offset: p.pos, Msg: "unexpected " + tok, Hint: hint}
}

// parseWord parses what starts with an identifier: a keyword literal, a
// function call or a path.
func (p *parser) parseWord() (Node, error) {
	start := p.pos
	word := p.word()
	switch word {
	case "true", "false":
		p.pos += len(word)
		return &Literal{Kind: Boolean, Bool: word == "true", Start: start, End: p.pos}, nil
	case "null":
		p.pos += len(word)
		return &Literal{Kind: Null, Start: start, End: p.pos}, nil
	case RootInput, RootSteps, RootContext:
		path, err := p.parsePath()
		if err != nil {
			return nil, err
		}
		return path, nil
	}
	if f := lookupFunc(word); f != 0 {
		return p.parseCall(f)
	}
	p.pos += len(word)
	p.skipSpace()
	isCall := p.has("(")
	p.pos = start
	if isCall {
		return nil, p.errorf(start, didYouMean(word, funcNames[1:], "the functions are "+strings.Join(funcNames[1:], ", ")),
			"unknown function %q", word)
	}
	if word == "not" || word == "NOT" {
		return nil, p.errorf(start, `use "!" to negate`, "unexpected %q", word)
	}
	return nil, p.unknownRoot(word)
}

func (p *parser) unknownRoot(word string) *SyntaxError {
	hint := didYouMean(word, []string{RootInput, RootSteps, RootContext, "true", "false", "null"}, "")
	return p.errorf(p.pos, hint, "unknown root %q; a path starts with input, steps or context", word)
}

// parsePath parses a path at the position, which holds a root.
func (p *parser) parsePath() (Path, error) {
	path := Path{Start: p.pos, Root: p.word()}
	p.pos += len(path.Root)
	for {
		switch p.peek() {
		case '.':
			p.pos++
			name := p.word()
			if name == "" {
				hint := `write a name with other characters as ["..."]`
				if c := p.peek(); c >= '0' && c <= '9' {
					hint = "write an array index as [0]"
				}
				return Path{}, p.errorf(p.pos, hint, `expected a field name after "."`)
			}
			p.pos += len(name)
			path.Segments = append(path.Segments, Segment{Name: name})
		case '[':
			seg, err := p.parseBracket()
			if err != nil {
				return Path{}, err
			}
			path.Segments = append(path.Segments, seg)
		default:
			path.End = p.pos
			return path, p.checkPath(path)
		}
	}
}

// parseBracket parses an index [0] or a quoted key ["a b"].
func (p *parser) parseBracket() (Segment, error) {
	open := p.pos
	p.pos++
	var seg Segment
	switch c := p.peek(); {
	case c >= '0' && c <= '9':
		start := p.pos
		for !p.eof() && p.peek() >= '0' && p.peek() <= '9' {
			p.pos++
		}
		digits := p.src[start:p.pos]
		if len(digits) > 1 && digits[0] == '0' {
			return seg, p.errorf(start, "", "an index cannot have leading zeros")
		}
		n, err := strconv.Atoi(digits)
		if err != nil || n > maxIndex {
			return seg, p.errorf(start, "", "index %s is too large", digits)
		}
		seg = Segment{Index: n, IsIndex: true}
	case c == '"' || c == '\'':
		start := p.pos
		s, err := p.parseString()
		if err != nil {
			return seg, err
		}
		if s == "" {
			return seg, p.errorf(start, "", "a key cannot be empty")
		}
		seg = Segment{Name: s}
	case c == '-':
		return seg, p.errorf(p.pos, "", "an index cannot be negative")
	default:
		return seg, p.errorf(p.pos, `write [0] for an index or ["name"] for a key`,
			`expected an index or a quoted key after "["`)
	}
	if !p.has("]") {
		return seg, p.errorf(p.pos, "", `expected "]" to close the "[" at offset %d`, open)
	}
	p.pos++
	return seg, nil
}

// maxIndex bounds indexes so that they fit an int32 on any platform.
const maxIndex = 1<<31 - 1

// checkPath checks what a root needs after it.
func (p *parser) checkPath(path Path) error {
	switch path.Root {
	case RootSteps:
		if len(path.Segments) == 0 || path.Segments[0].IsIndex {
			return p.errorf(path.Start+len(RootSteps), "write the id of a step, like steps.classify.output", `expected a step name after "steps"`)
		}
	case RootContext:
		if f, _ := lookupContext(path.Segments); f == nil {
			return p.errorf(path.Start, contextHint(path.Segments), "unknown context path %q", path.String())
		}
	}
	return nil
}

// parseCall parses a call of f at the position, which holds its name.
func (p *parser) parseCall(f Func) (Node, error) {
	start := p.pos
	p.pos += len(f.String())
	example := fmt.Sprintf("like %s(input.name)", f)
	if f == FuncMatches {
		example = `like matches(input.email, "*@example.com")`
	}
	p.skipSpace()
	if !p.has("(") {
		return nil, p.errorf(p.pos, example, "expected \"(\" after %s", f)
	}
	p.pos++
	p.skipSpace()
	switch w := p.word(); w {
	case RootInput, RootSteps, RootContext:
	case "", "true", "false", "null":
		return nil, p.errorf(p.pos, example, "%s takes a path", f)
	default:
		if lookupFunc(w) != 0 {
			return nil, p.errorf(p.pos, example, "%s takes a path", f)
		}
		return nil, p.unknownRoot(w)
	}
	path, err := p.parsePath()
	if err != nil {
		return nil, err
	}
	call := &Call{Func: f, Path: path, Start: start}
	p.skipSpace()
	if f == FuncMatches {
		if !p.has(",") {
			return nil, p.errorf(p.pos, example, "matches takes a path and a pattern")
		}
		p.pos++
		p.skipSpace()
		if c := p.peek(); c != '"' && c != '\'' {
			return nil, p.errorf(p.pos, example, "expected a pattern string after \",\"")
		}
		litStart := p.pos
		s, err := p.parseString()
		if err != nil {
			return nil, err
		}
		if err := checkPattern(s); err != nil {
			return nil, p.errorf(litStart, `in a quoted string, write "\\*" for a literal star and "\\\\" for a backslash`, "invalid pattern: %v", err)
		}
		call.Pattern = &Literal{Kind: String, Str: s, Start: litStart, End: p.pos}
		p.skipSpace()
	}
	if !p.has(")") {
		if p.has(",") {
			if f == FuncMatches {
				return nil, p.errorf(p.pos, example, "matches takes a path and a pattern")
			}
			return nil, p.errorf(p.pos, example, "%s takes one path", f)
		}
		msg := fmt.Sprintf(`expected ")" to close %s(`, f)
		if !p.eof() {
			msg += ", got " + p.token()
		}
		return nil, &SyntaxError{Offset: p.pos, Msg: msg}
	}
	p.pos++
	call.End = p.pos
	return call, nil
}

// checkPattern checks a matches pattern: a backslash escapes * or \.
func checkPattern(s string) error {
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		if i+1 == len(s) || s[i+1] != '*' && s[i+1] != '\\' {
			return errors.New(`a backslash must be followed by "*" or another backslash`)
		}
		i++
	}
	return nil
}

// parseString parses a string literal in double or single quotes with JSON
// escapes (and \' in either) and returns its value.
func (p *parser) parseString() (string, error) {
	start := p.pos
	q := p.src[p.pos]
	p.pos++
	var b strings.Builder
	for {
		if p.eof() {
			return "", p.errorf(start, fmt.Sprintf("close it with %c", q), "unterminated string")
		}
		c := p.src[p.pos]
		switch {
		case c == q:
			p.pos++
			return b.String(), nil
		case c == '\\':
			if err := p.parseEscape(&b); err != nil {
				return "", err
			}
		case c < 0x20:
			hint := ""
			if c == '\n' {
				hint = `write a line break as \n`
			}
			return "", p.errorf(p.pos, hint, "control character %q in string", rune(c))
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			p.pos++
		default:
			r, size := utf8.DecodeRuneInString(p.src[p.pos:])
			if r == utf8.RuneError && size == 1 {
				return "", p.errorf(p.pos, "", "invalid UTF-8 in string")
			}
			b.WriteString(p.src[p.pos : p.pos+size])
			p.pos += size
		}
	}
}

const escapesHint = `the escapes are \" \' \\ \/ \b \f \n \r \t and \uXXXX`

func (p *parser) parseEscape(b *strings.Builder) error {
	start := p.pos
	p.pos++
	if p.eof() {
		return p.errorf(start, "", "unterminated string")
	}
	c := p.src[p.pos]
	p.pos++
	switch c {
	case '"', '\'', '\\', '/':
		b.WriteByte(c)
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'u':
		r, ok := p.hex4()
		if !ok {
			return p.errorf(start, "", `\u needs four hex digits`)
		}
		if utf16.IsSurrogate(r) {
			r2 := utf8.RuneError
			if r < 0xdc00 && p.has(`\u`) {
				p.pos += 2
				var ok bool
				if r2, ok = p.hex4(); !ok {
					return p.errorf(p.pos-2, "", `\u needs four hex digits`)
				}
			}
			r = utf16.DecodeRune(r, r2)
			if r == utf8.RuneError {
				return p.errorf(start, "", "invalid surrogate pair in string")
			}
		}
		b.WriteRune(r)
	default:
		r, _ := utf8.DecodeRuneInString(p.src[p.pos-1:])
		return p.errorf(start, escapesHint, `invalid escape "\%c" in string`, r)
	}
	return nil
}

// hex4 reads four hex digits.
func (p *parser) hex4() (rune, bool) {
	if p.pos+4 > len(p.src) {
		return 0, false
	}
	n, err := strconv.ParseUint(p.src[p.pos:p.pos+4], 16, 16)
	if err != nil {
		return 0, false
	}
	p.pos += 4
	return rune(n), true
}

// parseNumber parses a number in JSON syntax.
func (p *parser) parseNumber() (Node, error) {
	start := p.pos
	digits := func() int {
		n := 0
		for !p.eof() && p.peek() >= '0' && p.peek() <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.peek() == '-' {
		p.pos++
	}
	intStart := p.pos
	if digits() == 0 {
		return nil, p.errorf(p.pos, "", `expected a digit after "-"`)
	}
	if p.pos-intStart > 1 && p.src[intStart] == '0' {
		return nil, p.errorf(start, "", "a number cannot have leading zeros")
	}
	if p.peek() == '.' {
		p.pos++
		if digits() == 0 {
			return nil, p.errorf(p.pos, "", `expected a digit after "."`)
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.pos++
		if c := p.peek(); c == '+' || c == '-' {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.errorf(p.pos, "", "expected a digit in the exponent")
		}
	}
	text := p.src[start:p.pos]
	f, err := strconv.ParseFloat(text, 64)
	if mantissa, _, _ := strings.Cut(strings.ToLower(text), "e"); err != nil || f == 0 && strings.ContainsAny(mantissa, "123456789") {
		// Fix: a number too small for a float64 compiled as 0.
		return nil, p.errorf(start, "", "number %s is out of range", text)
	}
	return &Literal{Kind: Number, Num: f, NumText: text, Start: start, End: p.pos}, nil
}

// didYouMean suggests the candidate closest to word, or returns fallback.
func didYouMean(word string, candidates []string, fallback string) string {
	best, bestDist := "", 3
	lw := strings.ToLower(word)
	for _, c := range candidates {
		if d := distance(lw, c); d < bestDist && d < len(c) {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return fallback
	}
	return fmt.Sprintf("did you mean %q?", best)
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
