package asl

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// evalTestEffects returns fixed effects: RandomFunc picks the middle of
// the range.
func evalTestEffects() IntrinsicEffects {
	return IntrinsicEffects{
		RandomFunc: func(start, end int64) int64 { return start + (end-start)/2 },
		UUIDFunc:   func() string { return "ca4c1140-dcc1-40cd-ad05-7b4aa23df4a8" },
	}
}

// evalIntrinsicString parses and evaluates expr against the input doc and
// returns the result as compact JSON.
func evalIntrinsicString(t *testing.T, expr, doc string, fx IntrinsicEffects) (string, error) {
	t.Helper()
	c, err := ParseIntrinsic(expr)
	require.NoError(t, err)
	v, err := EvalIntrinsic(c, evalTestResolver(t, doc), fx)
	if err != nil {
		return "", err
	}
	s, err := intrinsicMarshal(v)
	require.NoError(t, err)
	return s, nil
}

func TestEvalIntrinsic(t *testing.T) {
	t.Parallel()

	for _, tt := range []struct {
		name, expr, input, want string
	}{
		// The examples of the developer guide's "Intrinsic functions for
		// JSONPath states in Step Functions" page, section by section.
		{"guide Format", "States.Format('Hello, my name is {}.', $.name)", `{"name": "Arnav"}`, `"Hello, my name is Arnav."`},
		{"guide StringToJson", "States.StringToJson($.escapedJsonString)", `{"escapedJsonString": "{\"foo\": \"bar\"}"}`, `{"foo":"bar"}`},
		{"guide JsonToString", "States.JsonToString($.unescapedJson)", `{"unescapedJson": {"foo": "bar"}}`, `"{\"foo\":\"bar\"}"`},
		{"guide Array", "States.Array($.Id)", `{"Id": 123456}`, `[123456]`},
		{"guide ArrayPartition", "States.ArrayPartition($.inputArray, 4)", `{"inputArray": [1,2,3,4,5,6,7,8,9]}`, `[[1,2,3,4],[5,6,7,8],[9]]`},
		{"guide ArrayContains", "States.ArrayContains($.inputArray, $.lookingFor)", `{"inputArray": [1,2,3,4,5,6,7,8,9], "lookingFor": 5}`, `true`},
		{"guide ArrayRange", "States.ArrayRange(1, 9, 2)", `{}`, `[1,3,5,7,9]`},
		{"guide ArrayGetItem", "States.ArrayGetItem($.inputArray, $.index)", `{"inputArray": [1,2,3,4,5,6,7,8,9], "index": 5}`, `6`},
		{"guide ArrayLength", "States.ArrayLength($.inputArray)", `{"inputArray": [1,2,3,4,5,6,7,8,9]}`, `9`},
		{"guide ArrayUnique", "States.ArrayUnique($.inputArray)", `{"inputArray": [1,2,3,3,3,3,3,3,4]}`, `[1,2,3,4]`},
		{"guide Base64Encode", "States.Base64Encode($.input)", `{"input": "Data to encode"}`, `"RGF0YSB0byBlbmNvZGU="`},
		{"guide Base64Decode", "States.Base64Decode($.base64)", `{"base64": "RGF0YSB0byBlbmNvZGU="}`, `"Data to encode"`},
		{"guide Hash", "States.Hash($.Data, $.Algorithm)", `{"Data": "input data", "Algorithm": "SHA-1"}`, `"aaff4a450a104cd177d28d18d74485e8cae074b7"`},
		{"guide JsonMerge", "States.JsonMerge($.json1, $.json2, false)", `{"json1": {"a": {"a1": 1, "a2": 2}, "b": 2}, "json2": {"a": {"a3": 1, "a4": 2}, "c": 3}}`, `{"a":{"a3":1,"a4":2},"b":2,"c":3}`},
		{"guide MathAdd", "States.MathAdd($.value1, $.step)", `{"value1": 111, "step": -1}`, `110`},
		{"guide StringSplit", "States.StringSplit($.inputString, $.splitter)", `{"inputString": "1,2,3,4,5", "splitter": ","}`, `["1","2","3","4","5"]`},
		{"guide StringSplit many splitters", "States.StringSplit($.inputString, $.splitter)", `{"inputString": "This.is+a,test=string", "splitter": ".+,="}`, `["This","is","a","test","string"]`},
		{"guide UUID", "States.UUID()", `{}`, `"ca4c1140-dcc1-40cd-ad05-7b4aa23df4a8"`},
		{"guide nested myArn", "States.Format('{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 1))", `{"ImageRecipe": {"Arn": "arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/my.recipe/1.0.0"}}`, `"1.0"`},

		// States.Format.
		{"Format escapes", `States.Format('It\'s \{literal\} {} with a \\ backslash', $.x)`, `{"x": "v"}`, `"It's {literal} v with a \\ backslash"`},
		{"Format unicode", "States.Format('héllo {} 😀 {}', $.name, 'wörld')", `{"name": "日本"}`, `"héllo 日本 😀 wörld"`},
		{"Format non-string values", "States.Format('{} {} {} {} {} {}', 1.50, true, null, $.arr, $.obj, $.big)", `{"arr": [1, "a"], "obj": {"k": "<v>"}, "big": 123456789012345678901234567890}`, `"1.50 true null [1,\"a\"] {\"k\":\"<v>\"} 123456789012345678901234567890"`},
		{"Format no placeholders", "States.Format('plain')", `{}`, `"plain"`},
		{"Format lone brace is literal", "States.Format('{ {} }', 'x')", `{}`, `"{ x }"`},
		{"Format template from a path", "States.Format($.tpl, 'x')", `{"tpl": "a\\b {}"}`, `"a\\b x"`},

		// JSON conversions.
		{"StringToJson keeps numbers", "States.StringToJson('[1.0, 12345678901234567890]')", `{}`, `[1.0,12345678901234567890]`},
		{"StringToJson scalar", "States.StringToJson($.s)", `{"s": "\"text\""}`, `"text"`},
		{"JsonToString keeps HTML characters", "States.JsonToString($.o)", `{"o": {"a": "<&>", "n": 1.50}}`, `"{\"a\":\"<&>\",\"n\":1.50}"`},
		{"JsonToString of a number", "States.JsonToString($.n)", `{"n": 1e3}`, `"1e3"`},
		{"JsonToString nested call", "States.JsonToString(States.Array(1, 'a'))", `{}`, `"[1,\"a\"]"`},

		// Arrays.
		{"Array empty", "States.Array()", `{}`, `[]`},
		{"Array literals", "States.Array('Foo', 2020, $.someJson, null, true)", `{"someJson": {"random": "abcdefg"}}`, `["Foo",2020,{"random":"abcdefg"},null,true]`},
		{"ArrayPartition empty", "States.ArrayPartition($.a, 2)", `{"a": []}`, `[]`},
		{"ArrayPartition exact", "States.ArrayPartition(States.Array(1, 2, 3, 4), 2)", `{}`, `[[1,2],[3,4]]`},
		{"ArrayPartition bigger chunk", "States.ArrayPartition($.a, 10)", `{"a": [1, 2]}`, `[[1,2]]`},
		{"ArrayContains 1.0 is 1", "States.ArrayContains($.a, 1)", `{"a": [1.0, 2]}`, `true`},
		{"ArrayContains object", "States.ArrayContains($.a, $.o)", `{"a": [1, {"k": [1, 2]}], "o": {"k": [1.0, 2]}}`, `true`},
		{"ArrayContains string is not number", "States.ArrayContains($.a, '1')", `{"a": [1]}`, `false`},
		{"ArrayContains null", "States.ArrayContains($.a, null)", `{"a": [1, null]}`, `true`},
		{"ArrayContains compares arrays by element", "States.ArrayContains($.a, $.b)", `{"a": [[1, 2], [1], {"k": 1}, {"j": 1}, "[1]", {"k": 1, "j": 2}], "b": [1, 3]}`, `false`},
		{"ArrayContains compares objects by member", "States.ArrayContains($.a, $.b)", `{"a": [[1], {"k": 2}, {"j": 1}, {"k": 1, "j": 2}], "b": {"k": 1}}`, `false`},
		{"ArrayContains empty", "States.ArrayContains($.a, 1)", `{"a": []}`, `false`},
		{"ArrayContains big numbers", "States.ArrayContains($.a, 12345678901234567891)", `{"a": [12345678901234567890]}`, `false`},
		{"ArrayRange one item", "States.ArrayRange(5, 5, 3)", `{}`, `[5]`},
		{"ArrayRange descending", "States.ArrayRange(5, 1, -2)", `{}`, `[5,3,1]`},
		{"ArrayRange wrong direction", "States.ArrayRange(1, 5, -1)", `{}`, `[]`},
		{"ArrayRange integral decimals", "States.ArrayRange(1.0, 3, 1)", `{}`, `[1,2,3]`},
		{"ArrayRange 1000 items", "States.ArrayLength(States.ArrayRange(1, 1000, 1))", `{}`, `1000`},
		{"ArrayGetItem first", "States.ArrayGetItem($.a, 0)", `{"a": [{"x": 1}]}`, `{"x":1}`},
		{"ArrayLength empty", "States.ArrayLength($.a)", `{"a": []}`, `0`},
		{"ArrayUnique 1.0 and 1", "States.ArrayUnique($.a)", `{"a": [1, 1.0, "1", 2, {"a": 1}, {"a": 1.00}, null, null]}`, `[1,"1",2,{"a":1},null]`},
		{"ArrayUnique huge exponents", "States.ArrayUnique(States.Array(1e999999, 10e999998, 1E+1000, 10e999, 1e1001, 10e1000, 1e-999999))", `{}`, `[1e999999,1E+1000,1e1001,1e-999999]`},
		{"ArrayUnique empty", "States.ArrayUnique($.a)", `{"a": []}`, `[]`},

		// Encoding and hashing.
		{"Base64 unicode round trip", "States.Base64Decode(States.Base64Encode('日本語 😀'))", `{}`, `"日本語 😀"`},
		{"Base64Encode unicode", "States.Base64Encode('é')", `{}`, `"w6k="`},
		{"Base64Encode empty", "States.Base64Encode('')", `{}`, `""`},
		{"Hash MD5", "States.Hash('input data', 'MD5')", `{}`, `"812f45842bc6d66ee14572ce20db8e86"`},
		{"Hash SHA-256", "States.Hash('', 'SHA-256')", `{}`, `"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"`},
		{"Hash SHA-384", "States.Hash('', 'SHA-384')", `{}`, `"38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"`},
		{"Hash SHA-512", "States.Hash('', 'SHA-512')", `{}`, `"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"`},

		// Math.
		{"MathAdd negative", "States.MathAdd(-5, 3)", `{}`, `-2`},
		{"MathAdd int32 extremes", "States.MathAdd(2147483647, -2147483648)", `{}`, `-1`},
		{"MathAdd int32 sum beyond int32", "States.MathAdd(2147483647, 2147483647)", `{}`, `4294967294`},
		{"MathAdd rounds halves up", "States.MathAdd(1.5, -2.5)", `{}`, `0`},
		{"MathAdd rounds to nearest", "States.MathAdd(1.4, 2.6)", `{}`, `4`},
		{"ArrayRange rounds", "States.ArrayRange(0.6, 9.5, 2.4)", `{}`, `[1,3,5,7,9]`},
		{"ArrayPartition rounds the chunk size", "States.ArrayPartition($.a, 1.5)", `{"a": [1, 2, 3]}`, `[[1,2],[3]]`},
		{"MathAdd integral decimal", "States.MathAdd(1.0, 2)", `{}`, `3`},
		{"MathRandom uses RandomFunc", "States.MathRandom($.start, $.end)", `{"start": 1, "end": 999}`, `500`},

		// Strings.
		{"StringSplit drops empty pieces", "States.StringSplit(',a,,b,', ',')", `{}`, `["a","b"]`},
		{"StringSplit unicode splitter", "States.StringSplit('a→b→c', '→')", `{}`, `["a","b","c"]`},
		{"StringSplit empty", "States.StringSplit('', ',')", `{}`, `[]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := evalIntrinsicString(t, tt.expr, tt.input, evalTestEffects())
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestEvalIntrinsicMathRandomSeed(t *testing.T) {
	t.Parallel()

	c, err := ParseIntrinsic("States.MathRandom(1, 10, $.seed)")
	require.NoError(t, err)
	fx := IntrinsicEffects{} // a seeded call needs no random source
	seen := map[any]bool{}
	for seed := range 50 {
		resolve := func(string) (any, bool, error) { return json.Number(strconv.Itoa(seed * 7919)), true, nil }
		a, err := EvalIntrinsic(c, resolve, fx)
		require.NoError(t, err)
		b, err := EvalIntrinsic(c, resolve, fx)
		require.NoError(t, err)
		require.Equal(t, a, b, "the same seed gives the same number")
		n, err := a.(json.Number).Int64()
		require.NoError(t, err)
		require.GreaterOrEqual(t, n, int64(1))
		require.Less(t, n, int64(10))
		seen[a] = true
	}
	require.Greater(t, len(seen), 1, "different seeds give different numbers")

	var gotStart, gotEnd int64
	fx.RandomFunc = func(start, end int64) int64 { gotStart, gotEnd = start, end; return start }
	v, err := EvalIntrinsic(mustParseIntrinsic(t, "States.MathRandom(-3, 7)"), nil, fx)
	require.NoError(t, err)
	require.Equal(t, json.Number("-3"), v)
	require.Equal(t, [2]int64{-3, 7}, [2]int64{gotStart, gotEnd})
}

func mustParseIntrinsic(t *testing.T, s string) Call {
	t.Helper()
	c, err := ParseIntrinsic(s)
	require.NoError(t, err)
	return c
}

func TestEvalIntrinsicErrors(t *testing.T) {
	t.Parallel()

	const input = `{"s": "text", "n": 1, "a": [1, 2], "o": {"k": 1}, "deep": true, "zero": 0, "tiny": 0.4, "t": "{}{}", "long": "` + "%s" + `"}`
	doc := strings.Replace(input, "%s", strings.Repeat("é", maxIntrinsicInputLength+1), 1)
	for _, tt := range []struct {
		name, expr, errName string
	}{
		{"missing path", "States.Format('{}', $.missing)", ErrorRuntime},
		{"missing path in a nested call", "States.Array(States.ArrayLength($.missing))", ErrorRuntime},
		{"Format too few values", "States.Format('{} and {}', 'one')", ErrorIntrinsicFailure},
		{"Format too many values", "States.Format('{}', 'one', 'two')", ErrorIntrinsicFailure},
		{"Format too many values for escaped braces", `States.Format('\{\}', 'one')`, ErrorIntrinsicFailure},
		{"Format template from a path must be a string", "States.Format($.n)", ErrorIntrinsicFailure},
		{"Format placeholders in a path template count", "States.Format($.t, 1)", ErrorIntrinsicFailure},
		{"StringToJson invalid", "States.StringToJson('{oops')", ErrorIntrinsicFailure},
		{"StringToJson trailing data", "States.StringToJson('1 2')", ErrorIntrinsicFailure},
		{"StringToJson not a string", "States.StringToJson($.n)", ErrorIntrinsicFailure},
		{"ArrayPartition not an array", "States.ArrayPartition($.s, 2)", ErrorIntrinsicFailure},
		{"ArrayPartition zero chunk from a path", "States.ArrayPartition($.a, $.zero)", ErrorIntrinsicFailure},
		{"ArrayPartition chunk not integer", "States.ArrayPartition($.a, $.s)", ErrorIntrinsicFailure},
		{"ArrayContains not an array", "States.ArrayContains($.o, 1)", ErrorIntrinsicFailure},
		{"ArrayRange zero step", "States.ArrayRange(1, 9, 0)", ErrorIntrinsicFailure},
		{"ArrayRange step rounds to zero", "States.ArrayRange(1, 9, 0.4)", ErrorIntrinsicFailure},
		{"ArrayRange too many items", "States.ArrayRange(1, 1001, 1)", ErrorIntrinsicFailure},
		{"ArrayRange int64 extremes", "States.ArrayRange(-9223372036854775808, 9223372036854775807, 1)", ErrorIntrinsicFailure},
		{"ArrayRange beyond int64", "States.ArrayRange(1, 9223372036854775808, 1)", ErrorIntrinsicFailure},
		{"ArrayGetItem not an array", "States.ArrayGetItem($.o, 0)", ErrorIntrinsicFailure},
		{"ArrayGetItem index not an integer", "States.ArrayGetItem($.a, $.s)", ErrorIntrinsicFailure},
		{"ArrayGetItem out of bounds", "States.ArrayGetItem($.a, 2)", ErrorIntrinsicFailure},
		{"ArrayGetItem negative from a path", "States.ArrayGetItem($.a, States.MathAdd(0, -1))", ErrorIntrinsicFailure},
		{"ArrayLength not an array", "States.ArrayLength($.o)", ErrorIntrinsicFailure},
		{"ArrayUnique not an array", "States.ArrayUnique($.n)", ErrorIntrinsicFailure},
		{"Base64Encode not a string", "States.Base64Encode($.n)", ErrorIntrinsicFailure},
		{"Base64Encode too long", "States.Base64Encode($.long)", ErrorIntrinsicFailure},
		{"Base64Decode invalid", "States.Base64Decode('not base64!')", ErrorIntrinsicFailure},
		{"Base64Decode not UTF-8", "States.Base64Decode('/w==')", ErrorIntrinsicFailure},
		{"Hash unknown algorithm from a path", "States.Hash('x', $.s)", ErrorIntrinsicFailure},
		{"Hash too long", "States.Hash($.long, 'MD5')", ErrorIntrinsicFailure},
		{"Hash not a string", "States.Hash($.a, 'MD5')", ErrorIntrinsicFailure},
		{"JsonMerge deep from a path", "States.JsonMerge($.o, $.o, $.deep)", ErrorIntrinsicFailure},
		{"JsonMerge not objects", "States.JsonMerge($.o, $.a, false)", ErrorIntrinsicFailure},
		{"MathRandom start not below end", "States.MathRandom(5, 5)", ErrorIntrinsicFailure},
		{"MathRandom rounds to an empty range", "States.MathRandom(4.5, 5.4)", ErrorIntrinsicFailure},
		{"MathRandom seed not integer", "States.MathRandom(1, 5, $.s)", ErrorIntrinsicFailure},
		{"MathAdd beyond int32", "States.MathAdd(2147483648, 1)", ErrorIntrinsicFailure},
		{"MathAdd below int32", "States.MathAdd(1, -2147483649)", ErrorIntrinsicFailure},
		{"MathAdd beyond int64", "States.MathAdd(9223372036854775807, 1)", ErrorIntrinsicFailure},
		{"ArrayPartition chunk rounds to zero", "States.ArrayPartition($.a, $.tiny)", ErrorIntrinsicFailure},
		{"MathAdd second not integer", "States.MathAdd(1, $.s)", ErrorIntrinsicFailure},
		{"MathRandom end not integer", "States.MathRandom(1, $.s)", ErrorIntrinsicFailure},
		{"MathAdd string", "States.MathAdd($.s, 1)", ErrorIntrinsicFailure},
		{"StringSplit not strings", "States.StringSplit($.n, ',')", ErrorIntrinsicFailure},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := evalIntrinsicString(t, tt.expr, doc, evalTestEffects())
			require.Empty(t, got)
			requireEvalError(t, err, tt.errName)
		})
	}

	t.Run("missing effects", func(t *testing.T) {
		t.Parallel()
		for _, expr := range []string{"States.UUID()", "States.MathRandom(1, 2)"} {
			_, err := EvalIntrinsic(mustParseIntrinsic(t, expr), nil, IntrinsicEffects{})
			requireEvalError(t, err, ErrorIntrinsicFailure)
		}
	})

	t.Run("malformed calls", func(t *testing.T) {
		t.Parallel()
		for _, c := range []Call{
			{Name: "States.Nope"},
			{Name: "States.ArrayLength"},
			{Name: "States.Array", Args: []Arg{{Kind: ArgCall}}},
			{Name: "States.Array", Args: []Arg{{Kind: 99}}},
		} {
			_, err := EvalIntrinsic(c, nil, IntrinsicEffects{})
			requireEvalError(t, err, ErrorIntrinsicFailure)
		}
	})

	t.Run("resolve error is wrapped", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("boom")
		_, err := EvalIntrinsic(mustParseIntrinsic(t, "States.Array($.x)"), func(string) (any, bool, error) { return nil, false, boom }, IntrinsicEffects{})
		require.ErrorIs(t, err, boom)
	})

	t.Run("JsonToString of an unencodable Go value", func(t *testing.T) {
		t.Parallel()
		_, err := EvalIntrinsic(mustParseIntrinsic(t, "States.JsonToString($.x)"), func(string) (any, bool, error) { return make(chan int), true, nil }, IntrinsicEffects{})
		requireEvalError(t, err, ErrorIntrinsicFailure)
		_, err = EvalIntrinsic(mustParseIntrinsic(t, "States.Format('{}', $.x)"), func(string) (any, bool, error) { return make(chan int), true, nil }, IntrinsicEffects{})
		requireEvalError(t, err, ErrorIntrinsicFailure)
	})
}

func FuzzEvalIntrinsic(f *testing.F) {
	for _, s := range []string{
		"States.Format('Hello, my name is {}.', $.name)",
		`States.Format('It\'s \{literal\} {} {}', $.a, $.o)`,
		"States.StringToJson($.s)",
		"States.JsonToString($.o)",
		"States.Array('Foo', 2020, $.o, null, true)",
		"States.ArrayPartition($.a, 4)",
		"States.ArrayContains($.a, 1.0)",
		"States.ArrayRange(1, 9, 2)",
		"States.ArrayRange(-9223372036854775808, 9223372036854775807, 9223372036854775807)",
		"States.ArrayGetItem($.a, 1)",
		"States.ArrayLength(States.ArrayUnique($.a))",
		"States.Base64Decode(States.Base64Encode($.s))",
		"States.Hash($.s, 'SHA-384')",
		"States.JsonMerge($.o, $.o, false)",
		"States.MathRandom(1, 999, 7)",
		"States.MathRandom(-9223372036854775808, 9223372036854775807)",
		"States.MathAdd(1e400, 1)",
		"States.StringSplit($.s, ',')",
		"States.UUID()",
	} {
		f.Add(s)
	}
	resolve := evalTestResolver(f, `{"name": "x", "s": "{\"a\": [1, 2.0]}", "a": [1, 1.0, "1", {"k": null}], "o": {"k": [1]}, "n": 1e999}`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseIntrinsic(s)
		if err != nil {
			return
		}
		v, err := EvalIntrinsic(c, resolve, evalTestEffects())
		if err != nil {
			var ee *EvalError
			if !errors.As(err, &ee) {
				// Only the test resolver's own errors (unsupported paths)
				// are not *EvalErrors.
				require.Contains(t, err.Error(), "resolving")
			}
			return
		}
		_, err = intrinsicMarshal(v)
		require.NoError(t, err, "every result is JSON")
	})
}
