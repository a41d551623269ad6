package expr

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const absent = "%s may be absent, and reading an absent value fails the execution"

func TestCheck(t *testing.T) {
	t.Parallel()

	const valueHint = "compare it with a value, like %[1]s == ..., or test it with exists(%[1]s)"
	const notCondition = "put a path or a literal on each side; use a condition by itself, without comparing it"
	tests := []struct {
		name string
		src  string
		typ  Type
		want []TypeError
	}{
		// Conditions and logic.
		{"the example", `steps.classify.output.category == "refund" && input.amount > 100`, TypeOf(Boolean), nil},
		{"boolean path", `input.flag`, TypeOf(Boolean), nil},
		{"nullable boolean path", `input.maybe_flag && !input.maybe_flag`, TypeOf(Boolean), nil},
		{"unknown path as condition", `input.meta.ok || steps.raw.output`, TypeOf(Boolean), nil},
		{"string condition", `input.message`, TypeOf(String), []TypeError{
			{Start: 0, End: 13, Msg: "a condition must be boolean, got string (input.message)", Hint: sprintf(valueHint, "input.message")},
		}},
		{"string literal condition", `"abc"`, TypeOf(String), []TypeError{
			{Start: 0, End: 5, Msg: `a condition must be boolean, got string "abc"`},
		}},
		{"null literal condition", `(null)`, TypeOf(Null), []TypeError{
			{Start: 1, End: 5, Msg: `a condition must be boolean, got null`},
		}},
		{"and needs booleans", `input.message && input.flag`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 13, Msg: `"&&" needs booleans, got string (input.message)`, Hint: sprintf(valueHint, "input.message")},
		}},
		{"or needs booleans", `input.flag || input.amount`, TypeOf(Boolean), []TypeError{
			{Start: 14, End: 26, Msg: `"||" needs booleans, got number (input.amount)`, Hint: sprintf(valueHint, "input.amount")},
		}},
		{"not needs a boolean", `!input.message`, TypeOf(Boolean), []TypeError{
			{Start: 1, End: 14, Msg: `"!" needs a boolean, got string (input.message)`, Hint: sprintf(valueHint, "input.message")},
		}},
		{"literal operand", `input.amount > 1 && "x"`, TypeOf(Boolean), []TypeError{
			{Start: 20, End: 23, Msg: `"&&" needs booleans, got string "x"`},
		}},
		{"boolean literal warns", `true`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 4, Msg: "the condition is always true", Warning: true},
		}},
		{"boolean literal operand warns", `input.flag && !false`, TypeOf(Boolean), []TypeError{
			{Start: 15, End: 20, Msg: "the condition is always false", Warning: true},
		}},
		{"all errors at once", `input.message && input.nope == 1 || input.amount`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 13, Msg: `"&&" needs booleans, got string (input.message)`, Hint: sprintf(valueHint, "input.message")},
			{Start: 17, End: 27, Msg: "unknown path input.nope"},
			{Start: 36, End: 48, Msg: `"||" needs booleans, got number (input.amount)`, Hint: sprintf(valueHint, "input.amount")},
		}},

		// == and !=.
		{"string equals string", `input.message == 'x'`, TypeOf(Boolean), nil},
		{"number equals integer", `input.amount == input.count`, TypeOf(Boolean), nil},
		{"integer equals fraction", `input.count != 3.5`, TypeOf(Boolean), nil},
		{"boolean equals boolean", `input.flag == false`, TypeOf(Boolean), nil},
		{"nullable string equals string", `input.note == "x"`, TypeOf(Boolean), nil},
		{"nullable equals null", `input.note == null`, TypeOf(Boolean), nil},
		{"null on the left", `null != input.note`, TypeOf(Boolean), nil},
		{"unknown equals anything", `input.meta == 1 && steps.raw.output != "x" && input.meta.x == steps.raw.output`, TypeOf(Boolean), nil},
		{"context values", `context.execution.name == "x" && context.map.item.value.x == 1`, TypeOf(Boolean), nil},
		{"string with number", `steps.classify.output.category == 100`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 37, Msg: "cannot compare string (steps.classify.output.category) with number 100"},
		}},
		{"string or number with boolean", `input.mixed == true`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 19, Msg: "cannot compare string or number (input.mixed) with boolean true"},
		}},
		{"two paths of different kinds", `input.message != input.amount`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 29, Msg: "cannot compare string (input.message) with number (input.amount)"},
		}},
		{"never null", `input.message == null`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 21, Msg: "cannot compare string (input.message) with null", Hint: "input.message is never null"},
		}},
		{"never null on the right", `null == (input.message)`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 23, Msg: "cannot compare null with string (input.message)", Hint: "input.message is never null"},
		}},
		{"always null", `input.never == "x"`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 18, Msg: `cannot compare null (input.never) with string "x"`},
		}},
		{"object", `steps.obj.output == "x"`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 16, Msg: `"==" cannot compare object (steps.obj.output)`, Hint: "compare one of its fields"},
		}},
		{"array", `input.tags != null`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 10, Msg: `"!=" cannot compare array (input.tags)`, Hint: "compare one of its fields"},
		}},
		{"condition compared", `(input.amount == 1) == true`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 19, Msg: `"==" compares values, not conditions`, Hint: notCondition},
		}},
		{"call compared, with its own errors", `exists(input.a) != true`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 15, Msg: `"!=" compares values, not conditions`, Hint: notCondition},
			{Start: 7, End: 14, Msg: "unknown path input.a"},
		}},

		// Ordering.
		{"numbers", `steps.classify.output.score > 0.5 && input.count <= input.amount`, TypeOf(Boolean), nil},
		{"strings", `input.message >= "2024-01-01T00:00:00Z" && "a" < input.note`, TypeOf(Boolean), nil},
		{"timestamps as strings", `context.execution.start_time > "2024" && context.state.retry_count < 3`, TypeOf(Boolean), nil},
		{"string or number with number", `input.mixed < 3`, TypeOf(Boolean), nil},
		{"string with number", `input.message < 5`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 17, Msg: "cannot compare string (input.message) with number 5"},
		}},
		{"booleans", `input.flag < true`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 10, Msg: `"<" needs numbers or strings, got boolean (input.flag)`},
			{Start: 13, End: 17, Msg: `"<" needs numbers or strings, got boolean true`},
		}},
		{"null", `input.amount >= null`, TypeOf(Boolean), []TypeError{
			{Start: 16, End: 20, Msg: `">=" needs numbers or strings, got null`},
		}},
		{"object", `steps.obj.output > 1`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 16, Msg: `">" needs numbers or strings, got object (steps.obj.output)`},
		}},

		// Literals.
		{"two equal numbers", `1 == 1.0`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 8, Msg: "a comparison of two literals is always true", Hint: "compare a path with a value", Warning: true},
		}},
		{"two strings ordered", `"b" <= "a"`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 10, Msg: "a comparison of two literals is always false", Hint: "compare a path with a value", Warning: true},
		}},
		{"two nulls", `null != null`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 12, Msg: "a comparison of two literals is always false", Hint: "compare a path with a value", Warning: true},
		}},
		{"two booleans", `true != false`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 13, Msg: "a comparison of two literals is always true", Hint: "compare a path with a value", Warning: true},
		}},
		{"two literals of different kinds", `1 == "a"`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 8, Msg: `cannot compare number 1 with string "a"`},
		}},

		// Functions.
		{"exists of an optional value", `exists(input.opt)`, TypeOf(Boolean), nil},
		{"exists of an unknown path", `exists(input.nope)`, TypeOf(Boolean), []TypeError{
			{Start: 7, End: 17, Msg: "unknown path input.nope"},
		}},
		{"type tests", `is_null(input.note) || is_string(input.mixed) || is_number(input.count) || is_boolean(input.meta) || is_timestamp(input.message)`, TypeOf(Boolean), nil},
		{"is_string of a number", `is_string(input.amount)`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 23, Msg: "is_string(input.amount) is always false: input.amount is number", Warning: true},
		}},
		{"is_null of a string", `is_null(input.message)`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 22, Msg: "is_null(input.message) is always false: input.message is string", Warning: true},
		}},
		{"is_number of a string", `is_number(input.message)`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 24, Msg: "is_number(input.message) is always false: input.message is string", Warning: true},
		}},
		{"is_boolean of an object", `is_boolean(steps.obj.output)`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 28, Msg: "is_boolean(steps.obj.output) is always false: steps.obj.output is object", Warning: true},
		}},
		{"is_timestamp of a number", `is_timestamp(input.count)`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 25, Msg: "is_timestamp(input.count) is always false: input.count is integer", Warning: true},
		}},
		{"matches a string", `matches(input.message, "x*") && matches(input.note, "*") && matches(input.meta, "*")`, TypeOf(Boolean), nil},
		{"matches a number", `matches(input.amount, "x*")`, TypeOf(Boolean), []TypeError{
			{Start: 8, End: 20, Msg: "matches needs a string, got number (input.amount)"},
		}},

		// Lookup errors.
		{"each occurrence", `input.nope == 1 || input.nope == 2`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 10, Msg: "unknown path input.nope"},
			{Start: 19, End: 29, Msg: "unknown path input.nope"},
		}},
		{"lookup error with a hint", `steps.clasify.output == "x"`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 20, Msg: `step "clasify" does not exist`, Hint: `did you mean "classify"?`},
		}},
		{"other env errors", `steps.broken.output == 1`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 19, Msg: "looking up steps.broken.output: schema unavailable"},
		}},

		// Optional values and guards.
		{"unguarded", `input.opt > 1`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 9, Msg: sprintf(absent, "input.opt"), Hint: "test it first: exists(input.opt) && ..."},
		}},
		{"unguarded bare condition", `steps.late.output`, Type{Optional: true}, []TypeError{
			{Start: 0, End: 17, Msg: sprintf(absent, "steps.late.output"), Hint: "test it first: exists(steps.late.output) && ..."},
		}},
		{"unguarded matches", `matches(steps.maybe.output, "a*")`, TypeOf(Boolean), []TypeError{
			{Start: 8, End: 26, Msg: sprintf(absent, "steps.maybe.output"), Hint: "test it first: exists(steps.maybe.output) && ..."},
		}},
		{"unguarded type test", `is_string(steps.maybe.output)`, TypeOf(Boolean), []TypeError{
			{Start: 10, End: 28, Msg: sprintf(absent, "steps.maybe.output"), Hint: "test it first: exists(steps.maybe.output) && ..."},
		}},
		{"guarded by and", `exists(input.opt) && input.opt > 1`, TypeOf(Boolean), nil},
		{"guarded by or not", `!exists(input.opt) || input.opt > 1`, TypeOf(Boolean), nil},
		{"guarded by a nested and", `(exists(input.opt) && input.flag) && input.opt > 1`, TypeOf(Boolean), nil},
		{"guarded by both sides of an or", `(exists(input.opt) || exists(input.opt)) && input.opt > 1`, TypeOf(Boolean), nil},
		{"guarded through a negated and", `!(exists(input.opt) && input.flag) || input.opt > 1`, TypeOf(Boolean), nil},
		{"guarded through a negated or", `!(!exists(input.opt) || input.flag) && input.opt > 1`, TypeOf(Boolean), nil},
		{"guarded by a deeper exists", `exists(steps.maybe2.output.name) && steps.maybe2.output.name == "x" && exists(steps.maybe2.output)`, TypeOf(Boolean), nil},
		{"guard on one side of an or", `(exists(input.opt) || input.flag) && input.opt > 1`, TypeOf(Boolean), []TypeError{
			{Start: 37, End: 46, Msg: sprintf(absent, "input.opt"), Hint: "test it first: exists(input.opt) && ..."},
		}},
		{"or does not guard", `exists(input.opt) || input.opt > 1`, TypeOf(Boolean), []TypeError{
			{Start: 21, End: 30, Msg: sprintf(absent, "input.opt"), Hint: "test it first: exists(input.opt) && ..."},
		}},
		{"guard after the read", `input.opt > 1 && exists(input.opt)`, TypeOf(Boolean), []TypeError{
			{Start: 0, End: 9, Msg: sprintf(absent, "input.opt"), Hint: "test it first: exists(input.opt) && ..."},
		}},
		{"a parent's guard is not enough", `exists(steps.maybe2.output) && steps.maybe2.output.name == "x"`, TypeOf(Boolean), []TypeError{
			{Start: 31, End: 55, Msg: sprintf(absent, "steps.maybe2.output.name"), Hint: "test it first: exists(steps.maybe2.output.name) && ..."},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, err := Parse(tt.src)
			require.NoError(t, err)
			typ, errs := Check(n, testEnv)
			require.Equal(t, tt.typ, typ)
			require.Equal(t, tt.want, deref(errs))
		})
	}
}

func TestCheckTemplate(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		src  string
		want []TypeError
	}{
		{"scalars in text", `Hi {{ input.message }} {{ input.amount }} {{ input.count }} {{ input.flag }} {{ input.note }} {{ input.never }}`, nil},
		{"unknown kinds in text", `{{ input.meta }} {{ steps.raw.output.x }} {{ context.map.item.value }}`, nil},
		{"object alone", `{{ steps.obj.output }}`, nil},
		{"array alone", `{{input.tags}}`, nil},
		{"object in text", `x {{ steps.obj.output }}`, []TypeError{
			{Start: 5, End: 21, Msg: "cannot embed object (steps.obj.output) in text",
				Hint: `use "{{ steps.obj.output }}" alone to pass the value through, or pick a field, like steps.obj.output.name`},
		}},
		{"array in text", `{{ input.tags }}!`, []TypeError{
			{Start: 3, End: 13, Msg: "cannot embed array (input.tags) in text",
				Hint: `use "{{ input.tags }}" alone to pass the value through`},
		}},
		{"optional alone", `{{ steps.maybe.output }}`, []TypeError{
			{Start: 3, End: 21, Msg: sprintf(absent, "steps.maybe.output"),
				Hint: "make it required in its schema, or read it only where it is surely set (a condition may guard it with exists(...) && ...)"},
		}},
		{"unknown paths", `{{ input.nope }} and {{ steps.clasify.output }}`, []TypeError{
			{Start: 3, End: 13, Msg: "unknown path input.nope"},
			{Start: 24, End: 44, Msg: `step "clasify" does not exist`, Hint: `did you mean "classify"?`},
		}},
		{"no paths", `plain text`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tpl, err := ParseTemplate(tt.src)
			require.NoError(t, err)
			require.Equal(t, tt.want, deref(CheckTemplate(tpl, testEnv)))
		})
	}
}

func TestTypeErrorError(t *testing.T) {
	t.Parallel()

	e := &TypeError{Start: 3, End: 9, Msg: "input.opt may be absent", Hint: "test it first"}
	require.EqualError(t, e, "offset 3: input.opt may be absent; test it first")
	e = &TypeError{Start: 0, End: 4, Msg: "the condition is always true", Warning: true}
	require.EqualError(t, e, "offset 0: warning: the condition is always true")
}

func TestLookupErrorError(t *testing.T) {
	t.Parallel()

	p := Path{Root: RootInput, Segments: []Segment{{Name: "x"}}}
	require.EqualError(t, &LookupError{Path: p}, "unknown path input.x")
	require.EqualError(t, &LookupError{Path: p, Msg: "no x", Hint: "add x"}, "no x; add x")
}

func deref(errs []*TypeError) []TypeError {
	var out []TypeError
	for _, e := range errs {
		out = append(out, *e)
	}
	return out
}

func TestCheckLongChains(t *testing.T) {
	t.Parallel()

	src := "exists(input.opt)" + strings.Repeat(" && input.opt > 1 && exists(input.meta.x)", 2000)
	n, err := Parse(src)
	require.NoError(t, err)
	_, errs := Check(n, testEnv)
	require.Empty(t, errs)

	src = "input.flag" + strings.Repeat(" || input.opt > 1", 3)
	n, err = Parse(src)
	require.NoError(t, err)
	_, errs = Check(n, testEnv)
	require.Len(t, errs, 3)
}

func TestCheckLiteralComparisons(t *testing.T) {
	t.Parallel()

	tests := []struct {
		src  string
		want bool
	}{
		{`1 < 2`, true}, {`2 < 1`, false}, {`1 <= 1`, true}, {`2 > 1`, true}, {`1 > 1`, false},
		{`1 >= 2`, false}, {`-1e2 == -100`, true}, {`"a" == "b"`, false}, {`"a" != "b"`, true},
		{`"b" > "a"`, true}, {`"a" >= "a"`, true}, {`true == true`, true}, {`false != false`, false},
		{`null == null`, true},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			n, err := Parse(tt.src)
			require.NoError(t, err)
			_, errs := Check(n, testEnv)
			require.Len(t, errs, 1)
			require.True(t, errs[0].Warning)
			require.Equal(t, sprintf("a comparison of two literals is always %t", tt.want), errs[0].Msg)
		})
	}
}
