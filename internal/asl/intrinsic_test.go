package asl

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseIntrinsicAccepts(t *testing.T) {
	t.Parallel()

	// The examples of the Step Functions developer guide, and a few more.
	for _, in := range []string{
		"States.Format('Hello, my name is {}.', $.name)",
		"States.Format('{}.{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 1))",
		"States.Format('Today is {}', $$.Execution.StartTime)",
		"States.Format('{}', $myVariable)",
		`States.Format('It\'s \{literal\} {} with a \\ backslash', $.x)`,
		"States.StringToJson($.someString)",
		"States.StringToJson('{\"a\": 1}')",
		"States.JsonToString($.someJson)",
		"States.Array('Foo', 2020, $.someJson, null)",
		"States.Array()",
		"States.ArrayPartition($.inputArray, 4)",
		"States.ArrayPartition(States.Array(1, 2, 3), $.size)",
		"States.ArrayContains($.inputArray, $.lookingFor)",
		"States.ArrayRange(1, 9, 2)",
		"States.ArrayGetItem($.inputArray, $.index)",
		"States.ArrayGetItem($.inputArray, 0)",
		"States.ArrayLength($.inputArray)",
		"States.ArrayUnique($.inputArray)",
		"States.Base64Encode($.input)",
		"States.Base64Decode($.base64)",
		"States.Base64Encode('Data to encode')",
		"States.Hash($.Data, $.Algorithm)",
		"States.Hash('input data', 'SHA-1')",
		"States.JsonMerge($.json1, $.json2, false)",
		"States.MathRandom($.start, $.end)",
		"States.MathRandom(1, 999, 1234)",
		"States.MathAdd($.value1, $.step)",
		"States.MathAdd(111, -1.5e2)",
		"States.StringSplit($.inputString, $.splitter)",
		"States.StringSplit('1,2,3,4,5', ',')",
		"States.UUID()",
		"  States.Array( 1 , true,false ,null )  ",
		"States.Array($['a,b)'], $.c[0], $.d[?(@.x == 'y, z')])",
	} {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			c, err := ParseIntrinsic(in)
			require.NoError(t, err)
			again, err := ParseIntrinsic(c.String())
			require.NoError(t, err)
			require.Equal(t, c, again)
		})
	}
}

func TestParseIntrinsicTree(t *testing.T) {
	t.Parallel()

	c, err := ParseIntrinsic(`States.Format('{} costs \{{}\}', $.item, States.MathAdd($.price, -1.50))`)
	require.NoError(t, err)
	require.Equal(t, Call{
		Name: "States.Format",
		Args: []Arg{
			{Kind: ArgString, String: "{} costs {{}}", Raw: `{} costs \{{}\}`},
			{Kind: ArgPath, Path: Path{Root: RootInput, Segments: []Segment{{Kind: SegmentField, Name: "item"}}}},
			{Kind: ArgCall, Call: &Call{
				Name: "States.MathAdd",
				Args: []Arg{
					{Kind: ArgPath, Path: Path{Root: RootInput, Segments: []Segment{{Kind: SegmentField, Name: "price"}}}},
					{Kind: ArgNumber, Number: "-1.50"},
				},
			}},
		},
	}, c)
	require.Equal(t, 2, FormatPlaceholders(c.Args[0].Raw))
	require.Equal(t, `States.Format('{} costs \{{}\}', $.item, States.MathAdd($.price, -1.50))`, c.String())
}

func TestParseIntrinsicRejects(t *testing.T) {
	t.Parallel()

	tests := []struct{ in, want string }{
		{"", "expected a function name starting with States."},
		{"Format('x')", "expected a function name starting with States."},
		{"States.Foo()", `unknown function "States.Foo"`},
		{"States.format('x')", `unknown function "States.format"`},
		{"States.Format()", "States.Format takes at least 1 argument, got 0"},
		{"States.Hash($.a)", "States.Hash takes 2 arguments, got 1"},
		{"States.UUID(1)", "States.UUID takes 0 arguments, got 1"},
		{"States.MathRandom(1)", "States.MathRandom takes 2 or 3 arguments, got 1"},
		{"States.JsonToString($.a, $.b)", "States.JsonToString takes 1 argument, got 2"},
		{"States.Hash($.a, 'SHA-3')", "argument 2 must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512"},
		{"States.JsonMerge($.a, $.b, true)", "argument 3 must be false"},
		{"States.Format(1)", "argument 1 must be a string template, not a number"},
		{"States.ArrayPartition($.a, 0)", "chunk size) must be a positive integer"},
		{"States.ArrayPartition('abc', 2)", "argument 1 must be an array, not a string"},
		{"States.ArrayGetItem($.a, -1)", "(the index) must be a non-negative integer"},
		{"States.ArrayGetItem($.a, 1.5)", "(the index) must be a non-negative integer"},
		{"States.StringSplit($.a, 5)", "argument 2 must be a string, not a number"},
		{"States.MathAdd('1', 2)", "argument 1 must be a number, not a string"},
		{"States.ArrayRange(1, 9, true)", "argument 3 must be a number, not a boolean"},
		{"States.JsonToString('x')", "argument 1 must be a path, not a string"},
		{"States.Format('x'", "missing ')' at the end"},
		{"States.Format('x)", "unclosed string"},
		{`States.Format('\n')`, `invalid escape in a string`},
		{`States.Format('abc\`, `invalid escape in a string`},
		{"States.Array(01)", "numbers do not start with 0"},
		{"States.Array(1.)", "expected digits after '.'"},
		{"States.Array(1e)", "expected digits in the exponent"},
		{"States.Array(-)", "expected digits"},
		{"States.Array(12abc)", `unexpected 'a' in a number`},
		{"States.Array(nul)", `unexpected 'n'`},
		{"States.Array(nullx)", `unexpected 'x' after null`},
		{"States.Array($.a b)", `expected ',' or ')', found 'b'`},
		{"States.Array($.a.)", "expected a member name at the end"},
		{"States.Array(,)", `unexpected ','`},
		{"States.Array(1,)", `unexpected ')'`},
		{"States.Array(1) extra", `unexpected "extra" after the call`},
		{"States.Array 1", "expected '(' after States.Array"},
		{"States.Array(\"x\")", `unexpected '"'`},
		{"States.Array(" + strings.Repeat("States.Array(", 10) + strings.Repeat(")", 11), "more than 10 intrinsic functions in one field"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			_, err := ParseIntrinsic(tt.in)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestFormatPlaceholders(t *testing.T) {
	t.Parallel()

	for raw, want := range map[string]int{
		"":              0,
		"{}":            1,
		"{}{}":          2,
		`\{}`:           0,
		`\\{}`:          1,
		"{ }":           0,
		"a {} b {} c {": 2,
	} {
		require.Equal(t, want, FormatPlaceholders(raw), raw)
	}
}
