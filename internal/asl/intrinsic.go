package asl

import (
	"encoding/json"
	"fmt"
	"strings"
)

// MaxIntrinsicCalls is how many intrinsic functions one field may hold,
// nested ones included.
const MaxIntrinsicCalls = 10

// Call is a parsed intrinsic function call such as
// States.Format('Hello, {}', $.name).
type Call struct {
	// Name is the full function name, such as "States.Format".
	Name string
	Args []Arg
}

// ArgKind says what an intrinsic function argument is.
type ArgKind int

// The kinds of intrinsic function arguments.
const (
	ArgString ArgKind = iota + 1 // 'text'
	ArgNumber                    // 42, -1.5, 1e3
	ArgBool                      // true, false
	ArgNull                      // null
	ArgPath                      // $.a, $$.Execution.Id, $var
	ArgCall                      // a nested intrinsic function
)

// Arg is one argument of a Call.
type Arg struct {
	Kind ArgKind
	// String is an ArgString's value with its escapes resolved.
	String string
	// Raw is an ArgString as written between the quotes, escapes
	// included. States.Format needs it: an escaped \{ is a literal brace,
	// an unescaped {} a placeholder.
	Raw string
	// Number is an ArgNumber as written.
	Number json.Number
	// Bool is an ArgBool's value.
	Bool bool
	// Path is an ArgPath's path.
	Path Path
	// Call is an ArgCall's function.
	Call *Call
}

// String returns c in a canonical spelling that ParseIntrinsic reads back
// to the same Call.
func (c Call) String() string {
	var b strings.Builder
	c.write(&b)
	return b.String()
}

func (c Call) write(b *strings.Builder) {
	b.WriteString(c.Name)
	b.WriteByte('(')
	for i, a := range c.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		switch a.Kind {
		case ArgString:
			b.WriteString("'" + a.Raw + "'")
		case ArgNumber:
			b.WriteString(a.Number.String())
		case ArgBool:
			fmt.Fprint(b, a.Bool)
		case ArgNull:
			b.WriteString("null")
		case ArgPath:
			b.WriteString(a.Path.String())
		case ArgCall:
			a.Call.write(b)
		}
	}
	b.WriteByte(')')
}

// FormatPlaceholders counts the unescaped {} placeholders in a
// States.Format template as written (Arg.Raw). ParseIntrinsic does not
// compare it with the number of values; evaluation must.
func FormatPlaceholders(raw string) int {
	n := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			i++
		case '{':
			if i+1 < len(raw) && raw[i+1] == '}' {
				n++
				i++
			}
		}
	}
	return n
}

// signature is what an intrinsic function accepts: between min and max
// arguments (max < 0: any number), and an optional check of the literal
// arguments, which are the only ones known before run time.
type signature struct {
	min, max int
	check    func(args []Arg) error
}

var intrinsics = map[string]signature{
	"States.Format":         {min: 1, max: -1, check: checkFormat},
	"States.StringToJson":   {min: 1, max: 1, check: literalKinds(ArgString)},
	"States.JsonToString":   {min: 1, max: 1, check: checkJSONToString},
	"States.Array":          {min: 0, max: -1},
	"States.ArrayPartition": {min: 2, max: 2, check: checkArrayPartition},
	"States.ArrayContains":  {min: 2, max: 2},
	"States.ArrayRange":     {min: 3, max: 3, check: literalKinds(ArgNumber, ArgNumber, ArgNumber)},
	"States.ArrayGetItem":   {min: 2, max: 2, check: checkArrayGetItem},
	"States.ArrayLength":    {min: 1, max: 1},
	"States.ArrayUnique":    {min: 1, max: 1},
	"States.Base64Encode":   {min: 1, max: 1, check: literalKinds(ArgString)},
	"States.Base64Decode":   {min: 1, max: 1, check: literalKinds(ArgString)},
	"States.Hash":           {min: 2, max: 2, check: checkHash},
	"States.JsonMerge":      {min: 3, max: 3, check: checkJSONMerge},
	"States.MathRandom":     {min: 2, max: 3, check: literalKinds(ArgNumber, ArgNumber, ArgNumber)},
	"States.MathAdd":        {min: 2, max: 2, check: literalKinds(ArgNumber, ArgNumber)},
	"States.StringSplit":    {min: 2, max: 2, check: literalKinds(ArgString, ArgString)},
	"States.UUID":           {min: 0, max: 0},
}

// literal reports whether a's value is known before run time.
func (a Arg) literal() bool { return a.Kind != ArgPath && a.Kind != ArgCall }

var argKindNames = map[ArgKind]string{
	ArgString: "a string", ArgNumber: "a number", ArgBool: "a boolean",
	ArgNull: "null", ArgPath: "a path", ArgCall: "a function call",
}

// literalKinds checks that literal arguments have the given kinds, by
// position; paths and nested calls are checked at run time.
func literalKinds(kinds ...ArgKind) func([]Arg) error {
	return func(args []Arg) error {
		for i, a := range args {
			if i < len(kinds) && a.literal() && a.Kind != kinds[i] {
				return fmt.Errorf("argument %d must be %s, not %s", i+1, argKindNames[kinds[i]], argKindNames[a.Kind])
			}
		}
		return nil
	}
}

func checkFormat(args []Arg) error {
	t := args[0]
	if t.literal() && t.Kind != ArgString {
		return fmt.Errorf("argument 1 must be a string template, not %s", argKindNames[t.Kind])
	}
	// The number of placeholders is not checked against the values: Step
	// Functions leaves that to run time, and its own guide shows a nested
	// example with three placeholders and two values.
	return nil
}

func checkJSONToString(args []Arg) error {
	if args[0].literal() {
		return fmt.Errorf("argument 1 must be a path, not %s", argKindNames[args[0].Kind])
	}
	return nil
}

func checkArrayPartition(args []Arg) error {
	if a := args[1]; a.literal() {
		// Step Functions rounds a chunk size that is not an integer.
		if n, ok := roundHalfUp(a.Number); a.Kind != ArgNumber || !ok || n < 1 {
			return fmt.Errorf("argument 2 (the chunk size) must be a positive integer")
		}
	}
	return literalArrayArg(args[0])
}

func checkArrayGetItem(args []Arg) error {
	if a := args[1]; a.literal() {
		n, err := a.Number.Int64()
		if a.Kind != ArgNumber || err != nil || n < 0 {
			return fmt.Errorf("argument 2 (the index) must be a non-negative integer")
		}
	}
	return literalArrayArg(args[0])
}

// literalArrayArg rejects a literal where an array is needed: only a path
// or a call (States.Array, for one) can give an array.
func literalArrayArg(a Arg) error {
	if a.literal() {
		return fmt.Errorf("argument 1 must be an array, not %s", argKindNames[a.Kind])
	}
	return nil
}

var hashAlgorithms = []string{"MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"}

func checkHash(args []Arg) error {
	a := args[1]
	if !a.literal() {
		return nil
	}
	for _, alg := range hashAlgorithms {
		if a.Kind == ArgString && a.String == alg {
			return nil
		}
	}
	return fmt.Errorf("argument 2 must be one of %s", strings.Join(hashAlgorithms, ", "))
}

func checkJSONMerge(args []Arg) error {
	// Step Functions supports shallow merges only: the flag must be false.
	if a := args[2]; a.literal() && (a.Kind != ArgBool || a.Bool) {
		return fmt.Errorf("argument 3 must be false (deep merging is not supported)")
	}
	return nil
}

// ParseIntrinsic parses an intrinsic function call such as
// "States.Format('{} items', States.ArrayLength($.items))". It checks the
// syntax, that every function exists and gets the number of arguments it
// takes, the literal arguments that can be checked before run time, and
// that the field holds at most MaxIntrinsicCalls calls. String literals
// are in single quotes, with \' \{ \} and \\ as their escapes.
func ParseIntrinsic(s string) (Call, error) {
	p := intrinsicParser{src: s}
	p.space()
	c, err := p.call()
	if err == nil {
		p.space()
		if p.pos < len(p.src) {
			err = p.errorf("unexpected %q after the call", p.src[p.pos:])
		}
	}
	if err != nil {
		return Call{}, fmt.Errorf("invalid intrinsic function %q: %w", s, err)
	}
	return *c, nil
}

type intrinsicParser struct {
	src   string
	pos   int
	calls int
}

func (p *intrinsicParser) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *intrinsicParser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *intrinsicParser) space() {
	for p.pos < len(p.src) && strings.IndexByte(" \t\n\r", p.src[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *intrinsicParser) call() (*Call, error) {
	p.calls++
	if p.calls > MaxIntrinsicCalls {
		return nil, p.errorf("more than %d intrinsic functions in one field", MaxIntrinsicCalls)
	}
	start := p.pos
	if !strings.HasPrefix(p.src[p.pos:], "States.") {
		return nil, p.errorf("expected a function name starting with States.")
	}
	p.pos += len("States.")
	for c := p.peek(); c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'; c = p.peek() {
		p.pos++
	}
	name := p.src[start:p.pos]
	sig, ok := intrinsics[name]
	if !ok {
		p.pos = start
		return nil, p.errorf("unknown function %q", name)
	}
	p.space()
	if p.peek() != '(' {
		return nil, p.errorf("expected '(' after %s", name)
	}
	p.pos++
	c := &Call{Name: name}
	p.space()
	if p.peek() == ')' {
		p.pos++
	} else {
		for {
			p.space()
			a, err := p.arg()
			if err != nil {
				return nil, err
			}
			c.Args = append(c.Args, a)
			p.space()
			if p.peek() == ',' {
				p.pos++
				continue
			}
			if p.peek() == ')' {
				p.pos++
				break
			}
			if p.pos == len(p.src) {
				return nil, p.errorf("missing ')' at the end")
			}
			return nil, p.errorf("expected ',' or ')', found %q", p.peek())
		}
	}
	n := len(c.Args)
	switch {
	case sig.max < 0 && n < sig.min:
		return nil, fmt.Errorf("%s takes at least %d %s, got %d", name, sig.min, plural(sig.min, "argument"), n)
	case sig.max >= 0 && (n < sig.min || n > sig.max):
		want := fmt.Sprint(sig.min)
		if sig.max != sig.min {
			want = fmt.Sprintf("%d or %d", sig.min, sig.max)
		}
		return nil, fmt.Errorf("%s takes %s %s, got %d", name, want, plural(sig.max, "argument"), n)
	}
	if sig.check != nil {
		if err := sig.check(c.Args); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return c, nil
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func (p *intrinsicParser) arg() (Arg, error) {
	switch c := p.peek(); {
	case c == '\'':
		return p.stringLiteral()
	case c == '$':
		return p.path()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case strings.HasPrefix(p.src[p.pos:], "States."):
		call, err := p.call()
		if err != nil {
			return Arg{}, err
		}
		return Arg{Kind: ArgCall, Call: call}, nil
	}
	for _, kw := range []struct {
		word string
		arg  Arg
	}{
		{"null", Arg{Kind: ArgNull}},
		{"true", Arg{Kind: ArgBool, Bool: true}},
		{"false", Arg{Kind: ArgBool}},
	} {
		if strings.HasPrefix(p.src[p.pos:], kw.word) {
			p.pos += len(kw.word)
			if !p.atDelimiter() {
				return Arg{}, p.errorf("unexpected %q after %s", p.peek(), kw.word)
			}
			return kw.arg, nil
		}
	}
	if p.pos == len(p.src) {
		return Arg{}, p.errorf("expected an argument at the end")
	}
	return Arg{}, p.errorf("unexpected %q: an argument is a 'string', a number, true, false, null, a path or a States. function", p.peek())
}

// atDelimiter reports whether an argument may end here.
func (p *intrinsicParser) atDelimiter() bool {
	return p.pos == len(p.src) || strings.IndexByte(",) \t\n\r", p.src[p.pos]) >= 0
}

func (p *intrinsicParser) stringLiteral() (Arg, error) {
	p.pos++ // '
	start := p.pos
	var b strings.Builder
	for p.pos < len(p.src) {
		switch c := p.src[p.pos]; c {
		case '\'':
			a := Arg{Kind: ArgString, String: b.String(), Raw: p.src[start:p.pos]}
			p.pos++
			return a, nil
		case '\\':
			next := byte(0)
			if p.pos+1 < len(p.src) {
				next = p.src[p.pos+1]
			}
			if strings.IndexByte(`'{}\`, next) < 0 {
				return Arg{}, p.errorf(`invalid escape in a string: use \', \{, \} or \\`)
			}
			b.WriteByte(next)
			p.pos += 2
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return Arg{}, p.errorf("unclosed string")
}

func (p *intrinsicParser) number() (Arg, error) {
	start := p.pos
	digits := func() int {
		n := 0
		for c := p.peek(); c >= '0' && c <= '9'; c = p.peek() {
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
		return Arg{}, p.errorf("expected digits")
	}
	if p.src[intStart] == '0' && p.pos-intStart > 1 {
		p.pos = intStart
		return Arg{}, p.errorf("numbers do not start with 0")
	}
	if p.peek() == '.' {
		p.pos++
		if digits() == 0 {
			return Arg{}, p.errorf("expected digits after '.'")
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.pos++
		if c := p.peek(); c == '+' || c == '-' {
			p.pos++
		}
		if digits() == 0 {
			return Arg{}, p.errorf("expected digits in the exponent")
		}
	}
	if !p.atDelimiter() {
		return Arg{}, p.errorf("unexpected %q in a number", p.peek())
	}
	return Arg{Kind: ArgNumber, Number: json.Number(p.src[start:p.pos])}, nil
}

// path reads a path up to the ',' or ')' or space that ends it, skipping
// over brackets and the quoted names and expressions inside them.
func (p *intrinsicParser) path() (Arg, error) {
	start := p.pos
	depth := 0
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if depth == 0 && p.atDelimiter() {
			break
		}
		switch c {
		case '[':
			depth++
		case ']':
			depth--
		case '\'', '"':
			if depth > 0 {
				p.skipQuoted(c)
				continue
			}
		}
		p.pos++
	}
	path, err := ParsePath(p.src[start:p.pos])
	if err != nil {
		p.pos = start
		return Arg{}, p.errorf("%v", err)
	}
	return Arg{Kind: ArgPath, Path: path}, nil
}

func (p *intrinsicParser) skipQuoted(q byte) {
	p.pos++
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case '\\':
			p.pos = min(p.pos+2, len(p.src))
			continue
		case q:
			p.pos++
			return
		}
		p.pos++
	}
}
