package expr

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// sexpr renders a tree with its structure explicit: operators in prefix
// form, parentheses as [ ].
func sexpr(n Node) string {
	switch n := n.(type) {
	case *Binary:
		return "(" + n.Op.String() + " " + sexpr(n.X) + " " + sexpr(n.Y) + ")"
	case *Not:
		return "(! " + sexpr(n.X) + ")"
	case *Paren:
		return "[" + sexpr(n.X) + "]"
	default:
		return n.String()
	}
}

func TestParseStructure(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name, src, want string
	}{
		{"or is left-associative", `input.a || input.b || input.c`, `(|| (|| input.a input.b) input.c)`},
		{"and is left-associative", `input.a && input.b && input.c`, `(&& (&& input.a input.b) input.c)`},
		{"and binds tighter than or", `input.a || input.b && input.c`, `(|| input.a (&& input.b input.c))`},
		{"and binds tighter than or on the left", `input.a && input.b || input.c`, `(|| (&& input.a input.b) input.c)`},
		{"not binds looser than comparison", `!input.a == 1`, `(! (== input.a 1))`},
		{"not binds tighter than and", `!input.a && input.b`, `(&& (! input.a) input.b)`},
		{"double not", `!!input.a`, `(! (! input.a))`},
		{"parentheses group", `(input.a || input.b) && input.c`, `(&& [(|| input.a input.b)] input.c)`},
		{"not of a group", `!(input.a && input.b)`, `(! [(&& input.a input.b)])`},
		{"comparison binds tighter than and", `input.a == 1 && input.b != 2`, `(&& (== input.a 1) (!= input.b 2))`},
		{"eq", `input.a == 1`, `(== input.a 1)`},
		{"ne", `input.a != 1`, `(!= input.a 1)`},
		{"lt", `input.a < 1`, `(< input.a 1)`},
		{"le", `input.a <= 1`, `(<= input.a 1)`},
		{"gt", `input.a > 1`, `(> input.a 1)`},
		{"ge", `input.a >= 1`, `(>= input.a 1)`},
		{"literal on the left", `100 < input.amount`, `(< 100 input.amount)`},
		{"grouped comparison compared", `(input.a == 1) == true`, `(== [(== input.a 1)] true)`},
		{"no spaces", `input.a==1&&!input.b||input.c>=-2.5e3`, `(|| (&& (== input.a 1) (! input.b)) (>= input.c -2.5e3))`},
		{"newlines and tabs", "input.a ==\n\t1\r\n&& input.b", `(&& (== input.a 1) input.b)`},
		{"exists", `exists(steps.maybe.output)`, `exists(steps.maybe.output)`},
		{"is_null", `is_null( input.a )`, `is_null(input.a)`},
		{"is_string", `is_string(input.a)`, `is_string(input.a)`},
		{"is_number", `is_number(input.a)`, `is_number(input.a)`},
		{"is_boolean", `is_boolean(input.a)`, `is_boolean(input.a)`},
		{"is_timestamp", `is_timestamp (input.a)`, `is_timestamp(input.a)`},
		{"matches", `matches(input.email, '*@example.com')`, `matches(input.email, "*@example.com")`},
		{"matches with escapes", `matches(input.a, "a\\*b\\\\*")`, `matches(input.a, "a\\*b\\\\*")`},
		{"functions combine", `exists(input.a) && !is_null(input.a)`, `(&& exists(input.a) (! is_null(input.a)))`},
		{"bare path", `input.flag`, `input.flag`},
		{"bare literal", `true`, `true`},
		{"names with minus", `steps.lookup-customer.output.a-b == 1`, `(== steps.lookup-customer.output.a-b 1)`},
		{"quoted keys and indexes", `input["first name"][0]['x'].y == null`, `(== input["first name"][0].x.y null)`},
		{"context path", `context.execution.start_time < "2024"`, `(< context.execution.start_time "2024")`},
		{"map item value below", `context.map.item.value.items[2].id == 3`, `(== context.map.item.value.items[2].id 3)`},
		{"root alone", `input == null`, `(== input null)`},
		{"keyword prefix is a name", `input.true == input.null-x`, `(== input.true input.null-x)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, err := Parse(tt.src)
			require.NoError(t, err)
			require.Equal(t, tt.want, sexpr(n))
		})
	}
}

func TestParseLiterals(t *testing.T) {
	t.Parallel()

	tests := []struct {
		src  string
		want Literal
	}{
		{`"refund"`, Literal{Kind: String, Str: "refund"}},
		{`'refund'`, Literal{Kind: String, Str: "refund"}},
		{`""`, Literal{Kind: String, Str: ""}},
		{`"a\"b\\c\/d\'e"`, Literal{Kind: String, Str: `a"b\c/d'e`}},
		{`'it\'s "quoted"'`, Literal{Kind: String, Str: `it's "quoted"`}},
		{`"\b\f\n\r\t"`, Literal{Kind: String, Str: "\b\f\n\r\t"}},
		{`"\u00e9\u00E9"`, Literal{Kind: String, Str: "éé"}},
		{`"\ud83d\ude00"`, Literal{Kind: String, Str: "😀"}},
		{`"日本"`, Literal{Kind: String, Str: "日本"}},
		{`0`, Literal{Kind: Number, Num: 0, NumText: "0"}},
		{`-0`, Literal{Kind: Number, Num: 0, NumText: "-0"}},
		{`100`, Literal{Kind: Number, Num: 100, NumText: "100"}},
		{`-12.5`, Literal{Kind: Number, Num: -12.5, NumText: "-12.5"}},
		{`1e3`, Literal{Kind: Number, Num: 1000, NumText: "1e3"}},
		{`2.5E-1`, Literal{Kind: Number, Num: 0.25, NumText: "2.5E-1"}},
		{`1e+2`, Literal{Kind: Number, Num: 100, NumText: "1e+2"}},
		{`true`, Literal{Kind: Boolean, Bool: true}},
		{`false`, Literal{Kind: Boolean, Bool: false}},
		{`null`, Literal{Kind: Null}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			n, err := Parse(tt.src)
			require.NoError(t, err)
			want := tt.want
			want.End = len(tt.src)
			require.Equal(t, &want, n)
		})
	}
}

func TestParseSpans(t *testing.T) {
	t.Parallel()

	src := `!(input.a == "x") || matches(steps.s.output, 'a*')`
	n, err := Parse(src)
	require.NoError(t, err)

	or := n.(*Binary)
	require.Equal(t, Binary{Op: OpOr, X: or.X, Y: or.Y, OpStart: 18, Start: 0, End: len(src)}, *or)
	not := or.X.(*Not)
	require.Equal(t, [2]int{0, 17}, span(not))
	paren := not.X.(*Paren)
	require.Equal(t, [2]int{1, 17}, span(paren))
	eq := paren.X.(*Binary)
	require.Equal(t, [2]int{2, 16}, span(eq))
	require.Equal(t, 10, eq.OpStart)
	require.Equal(t, [2]int{2, 9}, span(eq.X))
	require.Equal(t, [2]int{13, 16}, span(eq.Y))
	call := or.Y.(*Call)
	require.Equal(t, [2]int{21, len(src)}, span(call))
	require.Equal(t, [2]int{29, 43}, span(call.Path))
	require.Equal(t, [2]int{45, 49}, span(call.Pattern))
}

func span(n Node) [2]int {
	start, end := n.Span()
	return [2]int{start, end}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		src    string
		offset int
		msg    string
		hint   string
	}{
		// Empty and missing operands.
		{``, 0, "empty expression", "write a condition, like input.amount > 100"},
		{`   `, 3, "empty expression", "write a condition, like input.amount > 100"},
		{`input.a &&`, 10, `expected an operand after "&&"`, ""},
		{`input.a || `, 11, `expected an operand after "||"`, ""},
		{`input.a && || input.b`, 11, `expected an operand after "&&", got "||"`, ""},
		{`!`, 1, `expected an operand after "!"`, ""},
		{`input.a ==`, 10, `expected an operand after "=="`, ""},
		{`input.a < )`, 10, `expected an operand after "<", got ")"`, ""},
		{`input.a == !input.b`, 11, `expected an operand after "==", got "!"`, ""},
		{`()`, 1, `expected an operand after "(", got ")"`, ""},
		{`&& input.a`, 0, `expected an expression, got "&&"`, ""},
		{`$.input.a`, 0, `expected an expression, got "$"`, `paths are written without "$", like input.amount`},
		// Parentheses.
		{`(input.a`, 8, `expected ")" to close the "(" at offset 0`, ""},
		{`(input.a input.b)`, 9, `expected ")" to close the "(" at offset 0, got "input"`, ""},
		{`input.a)`, 7, `unexpected ")" without a matching "("`, ""},
		// Comparisons.
		{`input.a < input.b < input.c`, 18, `comparisons do not chain: "<" cannot follow input.a < input.b`, `join two comparisons with "&&", like a < b && b < c`},
		{`input.a == 1 == true`, 13, `comparisons do not chain: "==" cannot follow input.a == 1`, `join two comparisons with "&&", like a == b && b == c`},
		// Stray tokens.
		{`input.a = 1`, 8, `unexpected "="`, `use "==" to compare`},
		{`input.a & input.b`, 8, `unexpected "&"`, `use "&&" for and`},
		{`input.a | input.b`, 8, `unexpected "|"`, `use "||" for or`},
		{`input.a and input.b`, 8, `unexpected "and"`, `use "&&" for and`},
		{`input.a or input.b`, 8, `unexpected "or"`, `use "||" for or`},
		{`not input.a`, 0, `unexpected "not"`, `use "!" to negate`},
		{`input.a == 1 input.b`, 13, `unexpected "input"`, `join conditions with "&&" or "||"`},
		{`input .a`, 6, `unexpected "."`, "a path cannot contain spaces"},
		{`input.a ["b"]`, 8, `unexpected "["`, "a path cannot contain spaces"},
		{`true.x`, 4, `unexpected "."`, ""},
		{`input.a == 1 é`, 13, `unexpected "é"`, ""},
		{"input.a == 1 \xff", 13, `unexpected byte 0xff`, ""},
		// Roots and paths.
		{`inputs.amount > 1`, 0, `unknown root "inputs"; a path starts with input, steps or context`, `did you mean "input"?`},
		{`step.a.output`, 0, `unknown root "step"; a path starts with input, steps or context`, `did you mean "steps"?`},
		{`True`, 0, `unknown root "True"; a path starts with input, steps or context`, `did you mean "true"?`},
		{`amount > 1`, 0, `unknown root "amount"; a path starts with input, steps or context`, ""},
		{`steps`, 5, `expected a step name after "steps"`, "write the id of a step, like steps.classify.output"},
		{`steps[0].output`, 5, `expected a step name after "steps"`, "write the id of a step, like steps.classify.output"},
		{`input.`, 6, `expected a field name after "."`, `write a name with other characters as ["..."]`},
		{`input.a.0`, 8, `expected a field name after "."`, "write an array index as [0]"},
		{`input.a[`, 8, `expected an index or a quoted key after "["`, `write [0] for an index or ["name"] for a key`},
		{`input.a[x]`, 8, `expected an index or a quoted key after "["`, `write [0] for an index or ["name"] for a key`},
		{`input.a[-1]`, 8, "an index cannot be negative", ""},
		{`input.a[01]`, 8, "an index cannot have leading zeros", ""},
		{`input.a[99999999999]`, 8, "index 99999999999 is too large", ""},
		{`input.a[0`, 9, `expected "]" to close the "[" at offset 7`, ""},
		{`input.a["b"`, 11, `expected "]" to close the "[" at offset 7`, ""},
		{`input.a[""]`, 8, "a key cannot be empty", ""},
		{`context.execution.idd`, 0, `unknown context path "context.execution.idd"`, "known context paths are context.execution.id, context.execution.name, context.execution.start_time, context.execution.role_arn, context.execution.redrive_count"},
		{`context.state`, 0, `unknown context path "context.state"`, "known context paths are context.state.name, context.state.entered_time, context.state.retry_count"},
		{`context.map.item.index.x`, 0, `unknown context path "context.map.item.index.x"`, "known context paths are context.map.item.index, context.map.item.value"},
		{`context`, 0, `unknown context path "context"`, "known context paths are " + strings.Join(allContextPaths(), ", ")},
		// Strings.
		{`input.a == "abc`, 11, "unterminated string", `close it with "`},
		{`input.a == 'abc`, 11, "unterminated string", "close it with '"},
		{`input.a == "abc\`, 15, "unterminated string", ""},
		{`"a\x"`, 2, `invalid escape "\x" in string`, `the escapes are \" \' \\ \/ \b \f \n \r \t and \uXXXX`},
		{`"\u12"`, 1, `\u needs four hex digits`, ""},
		{`"\u12g4"`, 1, `\u needs four hex digits`, ""},
		{`"\ud83d"`, 1, "invalid surrogate pair in string", ""},
		{`"\ude00"`, 1, "invalid surrogate pair in string", ""},
		{`"\ud83d\u0041"`, 1, "invalid surrogate pair in string", ""},
		{`"\ud83d\u00"`, 7, `\u needs four hex digits`, ""},
		{"\"a\nb\"", 2, `control character '\n' in string`, `write a line break as \n`},
		{"\"a\tb\"", 2, `control character '\t' in string`, ""},
		{"\"a\xffb\"", 2, "invalid UTF-8 in string", ""},
		// Numbers.
		{`input.a == -`, 12, `expected a digit after "-"`, ""},
		{`input.a == - 1`, 12, `expected a digit after "-"`, ""},
		{`input.a == 01`, 11, "a number cannot have leading zeros", ""},
		{`input.a == -01`, 11, "a number cannot have leading zeros", ""},
		{`input.a == 1.`, 13, `expected a digit after "."`, ""},
		{`input.a == 1.e3`, 13, `expected a digit after "."`, ""},
		{`input.a == 1e`, 13, "expected a digit in the exponent", ""},
		{`input.a == 1e+`, 14, "expected a digit in the exponent", ""},
		{`input.a == 1e999`, 11, "number 1e999 is out of range", ""},
		{`input.a == 1e-999`, 11, "number 1e-999 is out of range", ""},
		{`input.a == .5`, 11, `expected an operand after "==", got "."`, ""},
		// Functions.
		{`foo(input.a)`, 0, `unknown function "foo"`, "the functions are exists, is_null, is_string, is_number, is_boolean, is_timestamp, matches"},
		{`exist(input.a)`, 0, `unknown function "exist"`, `did you mean "exists"?`},
		{`exists input.a`, 7, `expected "(" after exists`, "like exists(input.name)"},
		{`exists`, 6, `expected "(" after exists`, "like exists(input.name)"},
		{`exists()`, 7, "exists takes a path", "like exists(input.name)"},
		{`is_null(1)`, 8, "is_null takes a path", "like is_null(input.name)"},
		{`is_string(true)`, 10, "is_string takes a path", "like is_string(input.name)"},
		{`is_number(exists(input.a))`, 10, "is_number takes a path", "like is_number(input.name)"},
		{`is_boolean(inptu.a)`, 11, `unknown root "inptu"; a path starts with input, steps or context`, `did you mean "input"?`},
		{`exists(input.a, input.b)`, 14, "exists takes one path", "like exists(input.name)"},
		{`is_timestamp(input.a`, 20, `expected ")" to close is_timestamp(`, ""},
		{`is_timestamp(input.a input.b)`, 21, `expected ")" to close is_timestamp(, got "input"`, ""},
		{`matches(input.a)`, 15, "matches takes a path and a pattern", `like matches(input.email, "*@example.com")`},
		{`matches(input.a, input.b)`, 17, `expected a pattern string after ","`, `like matches(input.email, "*@example.com")`},
		{`matches(input.a, "x", "y")`, 20, "matches takes a path and a pattern", `like matches(input.email, "*@example.com")`},
		{`matches(input.a, "a\\b")`, 17, `invalid pattern: a backslash must be followed by "*" or another backslash`, `in a quoted string, write "\\*" for a literal star and "\\\\" for a backslash`},
		{`matches(input.a, "a\\")`, 17, `invalid pattern: a backslash must be followed by "*" or another backslash`, `in a quoted string, write "\\*" for a literal star and "\\\\" for a backslash`},
		{`matches(input.a, "a`, 17, "unterminated string", `close it with "`},
		{`(input.a "x")`, 9, `expected ")" to close the "(" at offset 0, got a string`, ""},
		// Nesting.
		{strings.Repeat("(", 101) + "input.a" + strings.Repeat(")", 101), 100, "the expression nests more than 100 deep", ""},
		{strings.Repeat("!", 101) + "input.a", 100, "the expression nests more than 100 deep", ""},
		{strings.Repeat("!(", 51) + "input.a" + strings.Repeat(")", 51), 100, "the expression nests more than 100 deep", ""},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			n, err := Parse(tt.src)
			require.Nil(t, n)
			var serr *SyntaxError
			require.ErrorAs(t, err, &serr)
			require.Equal(t, SyntaxError{Offset: tt.offset, Msg: tt.msg, Hint: tt.hint}, *serr)
		})
	}
}

func TestParseDeepButAllowed(t *testing.T) {
	t.Parallel()

	src := strings.Repeat("(", 50) + strings.Repeat("!", 50) + "input.a" + strings.Repeat(")", 50)
	n, err := Parse(src)
	require.NoError(t, err)
	require.Equal(t, src, n.String())

	// Long chains are not nesting: they are as deep as they are long, but
	// only in the tree.
	src = "input.a" + strings.Repeat(" && input.a", 10000)
	n, err = Parse(src)
	require.NoError(t, err)
	require.Equal(t, src, n.String())
}

func allContextPaths() []string {
	var out []string
	for _, f := range contextFields {
		out = append(out, "context."+strings.Join(f.names, "."))
	}
	return out
}

func TestSyntaxErrorError(t *testing.T) {
	t.Parallel()

	_, err := Parse(`inputs.a`)
	require.EqualError(t, err, `offset 0: unknown root "inputs"; a path starts with input, steps or context; did you mean "input"?`)
	_, err = Parse(`input.a &&`)
	require.EqualError(t, err, `offset 10: expected an operand after "&&"`)
}

func TestStringRoundTrip(t *testing.T) {
	t.Parallel()

	tests := []struct{ src, want string }{
		{`input.a==1&&(input.b||!input.c)`, `input.a == 1 && (input.b || !input.c)`},
		{`'it\'s' != input["a b"]`, `"it's" != input["a b"]`},
		{`input["plain"]["a.b"][3] == "\u0001\n"`, `input.plain["a.b"][3] == "\u0001\n"`},
		{`matches( input.a ,'x\\*' )`, `matches(input.a, "x\\*")`},
		{`! ! input.a`, `!!input.a`},
		{`1.50e+2 <= -0`, `1.50e+2 <= -0`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			n, err := Parse(tt.src)
			require.NoError(t, err)
			require.Equal(t, tt.want, n.String())
			again, err := Parse(n.String())
			require.NoError(t, err)
			require.Equal(t, stripNode(n), stripNode(again))
		})
	}
}

func TestStringAddsParenthesesToBuiltTrees(t *testing.T) {
	t.Parallel()

	a := Path{Root: RootInput, Segments: []Segment{{Name: "a"}}}
	b := Path{Root: RootInput, Segments: []Segment{{Name: "b"}}}
	one := &Literal{Kind: Number, Num: 1, NumText: "1"}
	tests := []struct {
		n    Node
		want string
	}{
		{&Binary{Op: OpOr, X: a, Y: &Binary{Op: OpOr, X: a, Y: b}}, "input.a || (input.a || input.b)"},
		{&Binary{Op: OpAnd, X: &Binary{Op: OpOr, X: a, Y: b}, Y: a}, "(input.a || input.b) && input.a"},
		{&Not{X: &Binary{Op: OpAnd, X: a, Y: b}}, "!(input.a && input.b)"},
		{&Not{X: &Binary{Op: OpEq, X: a, Y: one}}, "!input.a == 1"},
		{&Binary{Op: OpEq, X: &Not{X: a}, Y: b}, "(!input.a) == input.b"},
		{&Binary{Op: OpEq, X: &Binary{Op: OpLt, X: a, Y: one}, Y: b}, "(input.a < 1) == input.b"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.n.String())
			_, err := Parse(tt.n.String())
			require.NoError(t, err)
		})
	}
}

func TestPathsOfExpression(t *testing.T) {
	t.Parallel()

	n, err := Parse(`exists(steps.a.output) && steps.a.output.x == input.y || matches(input.z, "*") && !input.y`)
	require.NoError(t, err)
	var got []string
	for _, p := range Paths(n) {
		got = append(got, p.String())
	}
	require.Equal(t, []string{"steps.a.output", "steps.a.output.x", "input.y", "input.z", "input.y"}, got)

	n, err = Parse(`true == 1`)
	require.NoError(t, err)
	require.Empty(t, Paths(n))
}

func TestOpAndFuncNames(t *testing.T) {
	t.Parallel()

	require.Equal(t, "?", Op(0).String())
	require.Equal(t, "?", Op(99).String())
	require.Equal(t, "?", Func(0).String())
	require.True(t, OpGe.IsComparison())
	require.False(t, OpAnd.IsComparison())
}

// stripNode returns a copy of n with every offset zeroed, so that trees
// parsed from different spellings compare equal.
func stripNode(n Node) Node {
	switch n := n.(type) {
	case *Binary:
		return &Binary{Op: n.Op, X: stripNode(n.X), Y: stripNode(n.Y)}
	case *Not:
		return &Not{X: stripNode(n.X)}
	case *Paren:
		return &Paren{X: stripNode(n.X)}
	case *Literal:
		l := *n
		l.Start, l.End = 0, 0
		return &l
	case *Call:
		c := &Call{Func: n.Func, Path: stripPath(n.Path)}
		if n.Pattern != nil {
			c.Pattern = stripNode(n.Pattern).(*Literal)
		}
		return c
	case Path:
		return stripPath(n)
	}
	panic("unknown node")
}

func stripPath(p Path) Path {
	p.Start, p.End = 0, 0
	return p
}
