package asl

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func jsonataTestEnv(t *testing.T, input string) JSONataEnv {
	t.Helper()
	in, err := decodeTemplate([]byte(input))
	require.NoError(t, err)
	return JSONataEnv{
		States: map[string]any{"input": in, "context": map[string]any{"Execution": map[string]any{"Name": "run-1"}}},
		Vars:   map[string]any{"customerName": "Ana", "nothing": nil},
		Effects: JSONataEffects{
			NowFunc:    func() time.Time { return time.Date(2024, 11, 22, 10, 0, 0, 0, time.UTC) },
			RandomFunc: func(start, end int64) int64 { return start + (end-start)/4 },
			UUIDFunc:   func() string { return "6f9619ff-8b86-4011-b42d-00cf4fc964ff" },
		},
	}
}

func evalText(t *testing.T, env JSONataEnv, field, raw string) (string, error) {
	t.Helper()
	v, err := EvalJSONata(field, json.RawMessage(raw), env)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b), nil
}

func TestIsJSONataExpression(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"{% $x %}": true, "{%$x%}": true, "{%%}": true, " {% $x %}": false, "{% $x %} ": false,
		"$x": false, "{%": false, "%}": false, "{% x": false,
	} {
		require.Equal(t, want, IsJSONataExpression(s), s)
	}
}

// TestEvalJSONata runs the examples of the Step Functions guide
// "Transforming data with JSONata" and of its JSONata functions.
func TestEvalJSONata(t *testing.T) {
	t.Parallel()
	input := `{"title": "Doctor", "order": {"items": [{"price": 10, "quantity": 3}, {"price": 0.5, "quantity": 10}]},
		"a": null, "nums": [1, 2, 3], "seed": 42, "content": "hello", "json": "{\"a\": [1, 2.5]}"}`
	cases := []struct{ name, raw, want string }{
		// The guide's conversion of Parameters to Arguments.
		{"Arguments", `{"static": "Hello", "title": "{% $states.input.title %}", "name": "{% $customerName %}", "not-evaluated": "$customerName"}`,
			`{"name":"Ana","not-evaluated":"$customerName","static":"Hello","title":"Doctor"}`},
		{"WholeInput", `"{% $states.input.nums %}"`, `[1,2,3]`},
		{"Sum", `"{% $sum($states.input.order.items.(price * quantity)) %}"`, `35`},
		{"Context", `"{% $states.context.Execution.Name %}"`, `"run-1"`},
		{"NullKept", `{"a": "{% $states.input.a %}", "v": "{% $nothing %}"}`, `{"a":null,"v":null}`},
		{"Nested", `{"list": ["{% 1 + 1 %}", {"deep": "{% $uppercase($states.input.title) %}"}], "n": 3}`, `{"list":[2,{"deep":"DOCTOR"}],"n":3}`},
		{"Literal", `"{% $x"`, `"{% $x"`},
		{"Division", `"{% 1 / 3 %}"`, `0.3333333333333333`},
		{"StringNumber", `"{% $string(0.1 + 0.2) %}"`, `"0.3"`},
		{"StringObject", `"{% $string({'a': 1/3, 'b': '<&>'}) %}"`, `"{\"a\":0.333333333333333,\"b\":\"<&>\"}"`},
		{"Singleton", `"{% $states.input.nums[0] %}"`, `1`},
		{"Filter", `"{% $states.input.nums[$ > 1] %}"`, `[2,3]`},
		{"Regex", `"{% $replace('hello', /l+/, 'L') %}"`, `"heLo"`},
		{"Now", `"{% $now() %}"`, `"2024-11-22T10:00:00.000Z"`},
		{"Millis", `"{% $millis() %}"`, `1732269600000`},
		// The functions Step Functions adds.
		{"Partition", `"{% $partition([1, 2, 3, 4, 5, 6, 7, 8, 9], 3) %}"`, `[[1,2,3],[4,5,6],[7,8,9]]`},
		{"PartitionShortLast", `"{% $partition([1, 2, 3, 4, 5], 2) %}"`, `[[1,2],[3,4],[5]]`},
		{"Range", `"{% $range(0, 10, 2) %}"`, `[0,2,4,6,8,10]`},
		{"RangeDown", `"{% $range(5, 1, -2) %}"`, `[5,3,1]`},
		{"Hash", `"{% $hash($states.input.content, 'SHA-256') %}"`, `"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"`},
		{"HashMD5", `"{% $hash('hello', 'MD5') %}"`, `"5d41402abc4b2a76b9719d911017c592"`},
		{"RandomNoSeed", `"{% $random() %}"`, `0.25`},
		{"UUID", `"{% $uuid() %}"`, `"6f9619ff-8b86-4011-b42d-00cf4fc964ff"`},
		{"Parse", `"{% $parse($states.input.json) %}"`, `{"a":[1,2.5]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := evalText(t, jsonataTestEnv(t, input), "Output", c.raw)
			require.NoError(t, err)
			require.JSONEq(t, c.want, got)
		})
	}
	t.Run("RandomSeeded", func(t *testing.T) {
		t.Parallel()
		env := jsonataTestEnv(t, input)
		a, err := evalText(t, env, "Assign/r", `"{% $random($states.input.seed) %}"`)
		require.NoError(t, err)
		b, err := evalText(t, env, "Assign/r", `"{% $random(42) %}"`)
		require.NoError(t, err)
		c, err := evalText(t, env, "Assign/r", `"{% $random(43) %}"`)
		require.NoError(t, err)
		require.Equal(t, a, b)
		require.NotEqual(t, a, c)
	})
}

func TestEvalJSONataErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, field, raw, want string }{
		{"Undefined", "Output", `"{% $states.input.missing %}"`,
			"The JSONata expression '$states.input.missing' specified for the field 'Output' returned nothing (undefined)."},
		{"UndefinedNested", "Output", `{"a": {"b": "{% $states.input.missing %}"}}`,
			"The JSONata expression '$states.input.missing' specified for the field 'Output/a/b' returned nothing (undefined)."},
		{"UndefinedInArray", "Arguments", `{"l": [1, "{% $nope %}"]}`,
			"The JSONata expression '$nope' specified for the field 'Arguments/l[1]' returned nothing (undefined)."},
		{"ArgumentType", "Output", `{"r": "{% $abs('x') %}"}`,
			`The JSONata expression '$abs('x')' specified for the field 'Output/r' threw an error during evaluation. T0410: Argument 1 of function "abs" does not match function signature`},
		{"Eval", "Output", `"{% $eval('1+1') %}"`,
			"The JSONata expression '$eval('1+1')' specified for the field 'Output' threw an error during evaluation. T1006: Attempted to invoke a non-function"},
		{"Arithmetic", "Output", `"{% 'a' + 1 %}"`,
			`The JSONata expression ''a' + 1' specified for the field 'Output' threw an error during evaluation. T2001: The left side of the "+" operator must evaluate to a number`},
		{"ContextIsUndefined", "Output", `"{% $$ %}"`,
			"The JSONata expression '$$' specified for the field 'Output' returned nothing (undefined)."},
		{"HashAlgorithm", "Output", `"{% $hash('a', 'SHA-3') %}"`,
			`The JSONata expression '$hash('a', 'SHA-3')' specified for the field 'Output' threw an error during evaluation: the algorithm of $hash must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512, not "SHA-3"`},
		{"Parse", "Output", `"{% $parse('{') %}"`,
			"The JSONata expression '$parse('{')' specified for the field 'Output' threw an error during evaluation: the argument of $parse is not valid JSON: invalid JSON: unexpected end of JSON input"},
		{"Function", "Output", `"{% $uppercase %}"`,
			"The JSONata expression '$uppercase' specified for the field 'Output' threw an error during evaluation: the expression returned a function, which is not a JSON value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := evalText(t, jsonataTestEnv(t, `{}`), c.field, c.raw)
			var je *JSONataError
			require.ErrorAs(t, err, &je)
			require.Equal(t, c.want, err.Error())
		})
	}
}

func TestEvalJSONataAssign(t *testing.T) {
	t.Parallel()
	env := jsonataTestEnv(t, `{"x": 1}`)
	env.Vars["x"] = 10
	got, err := EvalJSONataAssign("Assign", map[string]json.RawMessage{
		"x": json.RawMessage(`"{% $states.input.x %}"`),
		"y": json.RawMessage(`"{% $x + 1 %}"`), // the old $x, not the one assigned beside it
	}, env)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"x": json.Number("1"), "y": json.Number("11")}, got)
}

func TestEvalJSONataFunctions20(t *testing.T) {
	t.Parallel()
	env := jsonataTestEnv(t, `{"items": [{"n": "a", "p": 1}, {"n": "b", "p": 2}]}`)
	for raw, want := range map[string]string{
		`"{% $single([7]) %}"`: `7`,
		`"{% $single($states.input.items, function($v) { $v.p = 2 }).n %}"`: `"b"`,
		`"{% $assert(1 = 1, 'fine') %}"`:                                    `true`,
		`"{% $encodeUrlComponent('a b?x=1&y=é') %}"`:                        `"a%20b%3Fx%3D1%26y%3D%C3%A9"`,
		`"{% $formatBase(10, 2) %}"`:                                        `"1010"`,
	} {
		got, err := evalText(t, env, "Output", raw)
		require.NoError(t, err, raw)
		require.JSONEq(t, want, got, raw)
	}
	for raw, want := range map[string]string{
		`"{% $single($states.input.items) %}"`: "D3138: The $single() function expected exactly 1 matching result.  Instead it matched more.",
		`"{% $single([]) %}"`:                  "D3139",
		`"{% $assert(false, 'bad input') %}"`:  "D3141: bad input",
	} {
		_, err := evalText(t, env, "Output", raw)
		require.ErrorContains(t, err, want, raw)
	}
}

func TestCheckJSONata(t *testing.T) {
	t.Parallel()
	require.NoError(t, CheckJSONata("not an expression {% 1 +"))
	require.NoError(t, CheckJSONata(`{% 'a#b' & "@c" & $x.`+"`#d`"+` /* # comment */ %}`))
	got, err := evalText(t, jsonataTestEnv(t, `{}`), "Output", `"{% /* one */ 1 + /* 'two' */ 1 %}"`)
	require.NoError(t, err)
	require.Equal(t, "2", got)
	require.ErrorContains(t, CheckJSONata(`{% 1 + %}`), "the JSONata expression '1 +' is not valid")
	require.ErrorContains(t, CheckJSONata(`{% $states.input.items#$i.{'i': $i} %}`), "the positional variable binding (#$name) of JSONata 2.0 is not supported")
	require.ErrorContains(t, CheckJSONata(`{% items@$x.$x %}`), "the context variable binding (@$name)")
	require.ErrorContains(t, CheckJSONata(`{%   %}`), "is empty")
}

func TestEvalJSONataRecursion(t *testing.T) {
	t.Parallel()
	env := jsonataTestEnv(t, `{}`)
	got, err := evalText(t, env, "Output", `"{% ($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(500)) %}"`)
	require.NoError(t, err)
	require.Equal(t, "500", got)
	got, err = evalText(t, env, "Output", `"{% [1, 2, 3] ~> $map(function($v, $i) { {'v': $v, 'i': $i} }) %}"`)
	require.NoError(t, err)
	require.JSONEq(t, `[{"v":1,"i":0},{"v":2,"i":1},{"v":3,"i":2}]`, got)
	got, err = evalText(t, env, "Output", `"{% $sort([3, 1, 2], function($a, $b) { $a > $b }) %}"`)
	require.NoError(t, err)
	require.Equal(t, "[1,2,3]", got)
	// A function whose body returns nothing, many times over: the depth
	// comes back down each time.
	got, err = evalText(t, env, "Output", `"{% $count($map([1..3000], function($v) { $v.missing })) %}"`)
	require.NoError(t, err)
	require.Equal(t, "0", got)
	_, err = evalText(t, env, "Output", `"{% ($f := function() { $f() }; $f()) %}"`)
	require.ErrorContains(t, err, "threw an error during evaluation: Stack overflow error: Check for non-terminating recursive function.")
}

// TestEvalJSONataTwice evaluates compiled expressions again and at once:
// the library must not change them as it evaluates them.
func TestEvalJSONataTwice(t *testing.T) {
	t.Parallel()
	env := jsonataTestEnv(t, `{"nums": [1, 2, 3]}`)
	exprs := map[string]string{
		`"{% $states.input.nums ~> $count() %}"`:                      `3`,
		`"{% $states.input.nums ~> $map(function($v) { $v * 2 }) %}"`: `[2,4,6]`,
		`"{% $states.input.nums ~> $sum() ~> $string() %}"`:           `"6"`,
		`"{% ($double := function($v) { $v * 2 }; 5 ~> $double) %}"`:  `10`,
	}
	done := make(chan struct{})
	for i := 0; i < 4; i++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for raw, want := range exprs {
				for n := 0; n < 3; n++ {
					got, err := evalText(t, env, "Output", raw)
					if !assert.NoError(t, err, raw) || !assert.JSONEq(t, want, got, raw) {
						return
					}
				}
			}
		}()
	}
	for i := 0; i < 4; i++ {
		<-done
	}
}

// TestEvalJSONataInsideObjects: functions and calls inside object
// constructors are seen too (the syntax tree keeps their pairs in
// arrays).
func TestEvalJSONataInsideObjects(t *testing.T) {
	t.Parallel()
	env := jsonataTestEnv(t, `{"nums": [1, 2]}`)
	for raw, want := range map[string]string{
		`"{% {'r': $random(7) = $random(7)} %}"`:                                           `{"r":true}`,
		`"{% {'n': $states.input.nums ~> $count()} %}"`:                                    `{"n":2}`,
		`"{% {'f': ($g := function() { $g() }; 1)} %}"`:                                    `{"f":1}`,
		`"{% {'d': $map($states.input.nums, function($v) { {'x': $v ~> $string()} })} %}"`: `{"d":[{"x":"1"},{"x":"2"}]}`,
	} {
		for range 2 {
			got, err := evalText(t, env, "Output", raw)
			require.NoError(t, err, raw)
			require.JSONEq(t, want, got, raw)
		}
	}
	_, err := evalText(t, env, "Output", `"{% {'f': ($g := function() { $g() }; $g())} %}"`)
	require.ErrorContains(t, err, "Stack overflow error")
}

// TestEvalJSONataRewriteKeepsMeaning: an expression with a function in it
// is compiled from the rewritten syntax tree's text (see rewriteTree);
// every construct gives the same value either way.
func TestEvalJSONataRewriteKeepsMeaning(t *testing.T) {
	t.Parallel()
	env := jsonataTestEnv(t, `{"a": {"b": [{"c": 1, "d": "x\"y"}, {"c": 2, "d": "z"}]}, "s": "a.b-c", "n": -3}`)
	for _, src := range []string{
		`$replace($states.input.s, /[.-]/, '_')`,
		`$states.input.a.b[c > 1].d`,
		`$states.input.a.**.c`,
		`$states.input.a.*`,
		`$states.input.a.b^(>c).d`,
		`$states.input.a ~> |b|{'e': true}|`,
		`$states.input.n < 0 ? -$states.input.n : $states.input.n`,
		`"q\"uote" & '\u00e9' & "\t"`,
		`$states.input.a.b.{` + "`d`" + `: c}`,
		`[1..3].($ * 2)`,
		`$substring('hello', 1, 3)`,
		`($add := function($x, $y){$x + $y}; $inc := $add(?, 1); $inc(4))`,
		`$states.input.a.b{d: c}`,
		`$states.input.a.b[0]`,
		`$states.input.a.b[-1].c`,
		`true and (false or $not(false))`,
		`"a" in ["a", "b"]`,
		`$states.input.a.b.d[$contains($, "x")]`,
	} {
		plain, err := evalText(t, env, "Output", `"{% `+escape(src)+` %}"`)
		require.NoError(t, err, src)
		withLambda, err := evalText(t, env, "Output", `"{% (`+escape(src)+`) ~> (function($v){$v}) %}"`)
		require.NoError(t, err, src)
		require.Equal(t, plain, withLambda, src)
	}
}

// escape writes s as the inside of a JSON string.
func escape(s string) string {
	out := ""
	for _, r := range s {
		switch r {
		case '"':
			out += `\"`
		case '\\':
			out += `\\`
		case '\t':
			out += `\t`
		default:
			out += string(r)
		}
	}
	return out
}
