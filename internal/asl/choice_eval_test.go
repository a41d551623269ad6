package asl

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// evalTestResolver resolves Reference Paths ($.a.b, $.a[0], $['a b'])
// against doc, decoded with UseNumber as the engine decodes.
func evalTestResolver(t testing.TB, doc string) func(string) (any, bool, error) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var root any
	require.NoError(t, dec.Decode(&root))
	return func(path string) (any, bool, error) {
		p, err := ParsePath(path)
		if err != nil {
			return nil, false, err
		}
		if p.Root != RootInput || !p.IsReference() {
			return nil, false, fmt.Errorf("test resolver: unsupported path %s", path)
		}
		v := root
		for _, s := range p.Segments {
			switch s.Kind {
			case SegmentField:
				m, ok := v.(map[string]any)
				if !ok {
					return nil, false, nil
				}
				if v, ok = m[s.Name]; !ok {
					return nil, false, nil
				}
			default:
				a, ok := v.([]any)
				if !ok || s.Index < 0 || s.Index >= len(a) {
					return nil, false, nil
				}
				v = a[s.Index]
			}
		}
		return v, true, nil
	}
}

// choiceRuleFromJSON reads one choice rule as a Choice state's Choices
// element, so that tests can spell rules as the developer guide does.
func choiceRuleFromJSON(t *testing.T, rule string) ChoiceRule {
	t.Helper()
	var s State
	require.NoError(t, json.Unmarshal([]byte(`{"Type":"Choice","Default":"D","Choices":[`+rule+`]}`), &s))
	require.Len(t, s.Choices, 1)
	return s.Choices[0]
}

func requireEvalError(t *testing.T, err error, name string) {
	t.Helper()
	var ee *EvalError
	require.True(t, errors.As(err, &ee), "error %v is not an *EvalError", err)
	require.Equal(t, name, ee.Name)
	require.True(t, strings.HasPrefix(ee.Error(), name+": "))
}

func TestEvalChoice(t *testing.T) {
	t.Parallel()

	const input = `{
		"foo": 1, "one": 1.0, "two": 2, "half": 0.5, "tenth": 0.1,
		"big": 12345678901234567890123, "bigger": 12345678901234567891000,
		"huge": 1e2000000, "huge2": 10e1999999, "s": "MyString", "abc": "MyStringABC", "file": "log-2024.txt",
		"star": "a*b", "backslash": "a\\b", "t": true, "f": false, "null": null,
		"ts": "2001-01-01T12:00:00Z", "tsOffset": "2001-01-01T13:00:00+01:00",
		"tsFrac": "2001-01-01T12:00:00.5Z", "tsLower": "2001-01-01t12:00:00z",
		"date": "2001-01-01", "emoji": "😀", "private": "\uE000",
		"arr": [1, 2], "obj": {"a": 1}, "numStr": "1"
	}`
	resolve := evalTestResolver(t, input)

	for _, tt := range []struct {
		name string
		rule string
		want bool
	}{
		// Examples of the developer guide's "Choice workflow state" page
		// (Choice Rules (JSONPath)).
		{"guide NumericEquals", `{"Variable": "$.foo", "NumericEquals": 1, "Next": "N"}`, true},
		{"guide StringEquals", `{"Variable": "$.s", "StringEquals": "MyString", "Next": "N"}`, true},
		{"guide StringGreaterThan", `{"Variable": "$.s", "StringGreaterThan": "MyStringABC", "Next": "N"}`, false},
		{"guide IsNull", `{"Variable": "$.null", "IsNull": true, "Next": "N"}`, true},
		{"guide IsPresent guard", `{"And": [{"Variable": "$.keyThatMightNotExist", "IsPresent": true}, {"Variable": "$.keyThatMightNotExist", "StringEquals": "foo"}], "Next": "N"}`, false},
		{"guide StringMatches", `{"Variable": "$.file", "StringMatches": "log-*.txt", "Next": "N"}`, true},
		{"guide TimestampEquals", `{"Variable": "$.ts", "TimestampEquals": "2001-01-01T12:00:00Z", "Next": "N"}`, true},
		{"guide StringEqualsPath", `{"Variable": "$.s", "StringEqualsPath": "$.s", "Next": "N"}`, true},
		{"guide Not StringEquals", `{"Not": {"Variable": "$.s", "StringEquals": "MyString"}, "Next": "N"}`, false},
		{"guide Or numeric range", `{"Or": [{"Variable": "$.foo", "NumericLessThan": 1}, {"Variable": "$.foo", "NumericGreaterThanEquals": 20}], "Next": "N"}`, false},
		{"guide And numeric range", `{"And": [{"Variable": "$.foo", "NumericGreaterThanEquals": 1}, {"Variable": "$.foo", "NumericLessThan": 20}], "Next": "N"}`, true},

		// Strings.
		{"StringLessThan", `{"Variable": "$.s", "StringLessThan": "MyStringABC", "Next": "N"}`, true},
		{"StringLessThanEquals equal", `{"Variable": "$.s", "StringLessThanEquals": "MyString", "Next": "N"}`, true},
		{"StringGreaterThanEquals", `{"Variable": "$.abc", "StringGreaterThanEquals": "MyString", "Next": "N"}`, true},
		{"StringLessThanPath", `{"Variable": "$.s", "StringLessThanPath": "$.abc", "Next": "N"}`, true},
		{"StringGreaterThanPath", `{"Variable": "$.s", "StringGreaterThanPath": "$.abc", "Next": "N"}`, false},
		{"StringLessThanEqualsPath", `{"Variable": "$.abc", "StringLessThanEqualsPath": "$.s", "Next": "N"}`, false},
		{"StringGreaterThanEqualsPath", `{"Variable": "$.abc", "StringGreaterThanEqualsPath": "$.abc", "Next": "N"}`, true},
		{"StringEquals on a number is false", `{"Variable": "$.foo", "StringEquals": "1", "Next": "N"}`, false},
		{"StringEqualsPath to a number is false", `{"Variable": "$.numStr", "StringEqualsPath": "$.foo", "Next": "N"}`, false},
		{"UTF-16 order: emoji before U+E000", `{"Variable": "$.emoji", "StringLessThanPath": "$.private", "Next": "N"}`, true},

		// StringMatches.
		{"StringMatches star matches empty", `{"Variable": "$.s", "StringMatches": "MyString*", "Next": "N"}`, true},
		{"StringMatches several stars", `{"Variable": "$.file", "StringMatches": "*-*.*", "Next": "N"}`, true},
		{"StringMatches no match", `{"Variable": "$.file", "StringMatches": "log-*.csv", "Next": "N"}`, false},
		{"StringMatches escaped star", `{"Variable": "$.star", "StringMatches": "a\\*b", "Next": "N"}`, true},
		{"StringMatches escaped star is literal", `{"Variable": "$.file", "StringMatches": "log-\\*.txt", "Next": "N"}`, false},
		{"StringMatches escaped backslash", `{"Variable": "$.backslash", "StringMatches": "a\\\\b", "Next": "N"}`, true},
		{"StringMatches only star", `{"Variable": "$.s", "StringMatches": "*", "Next": "N"}`, true},
		{"StringMatches on a number is false", `{"Variable": "$.foo", "StringMatches": "*", "Next": "N"}`, false},

		// Numbers, compared exactly.
		{"NumericEquals 1.0 and 1", `{"Variable": "$.one", "NumericEquals": 1, "Next": "N"}`, true},
		{"NumericEquals 0.1 exactly", `{"Variable": "$.tenth", "NumericEquals": 0.1, "Next": "N"}`, true},
		{"NumericLessThan", `{"Variable": "$.half", "NumericLessThan": 1, "Next": "N"}`, true},
		{"NumericGreaterThan", `{"Variable": "$.half", "NumericGreaterThan": 0.5, "Next": "N"}`, false},
		{"NumericLessThanEquals", `{"Variable": "$.half", "NumericLessThanEquals": 0.5, "Next": "N"}`, true},
		{"NumericGreaterThanEquals", `{"Variable": "$.two", "NumericGreaterThanEquals": 2.5, "Next": "N"}`, false},
		{"NumericEqualsPath 1 and 1.0", `{"Variable": "$.foo", "NumericEqualsPath": "$.one", "Next": "N"}`, true},
		{"NumericLessThanPath big numbers beyond float64", `{"Variable": "$.big", "NumericLessThanPath": "$.bigger", "Next": "N"}`, true},
		{"NumericEqualsPath big numbers differ", `{"Variable": "$.big", "NumericEqualsPath": "$.bigger", "Next": "N"}`, false},
		{"NumericGreaterThanPath huge exponent", `{"Variable": "$.huge", "NumericGreaterThanPath": "$.bigger", "Next": "N"}`, true},
		{"NumericEqualsPath huge exponents", `{"Variable": "$.huge", "NumericEqualsPath": "$.huge2", "Next": "N"}`, true},
		{"NumericEquals huge exponent and a literal", `{"Variable": "$.huge", "NumericEquals": 1e300, "Next": "N"}`, false},
		{"NumericLessThanEqualsPath", `{"Variable": "$.two", "NumericLessThanEqualsPath": "$.foo", "Next": "N"}`, false},
		{"NumericGreaterThanEqualsPath", `{"Variable": "$.two", "NumericGreaterThanEqualsPath": "$.foo", "Next": "N"}`, true},
		{"NumericEquals on a string is false", `{"Variable": "$.numStr", "NumericEquals": 1, "Next": "N"}`, false},
		{"NumericEqualsPath to a string is false", `{"Variable": "$.foo", "NumericEqualsPath": "$.numStr", "Next": "N"}`, false},

		// Booleans.
		{"BooleanEquals", `{"Variable": "$.t", "BooleanEquals": true, "Next": "N"}`, true},
		{"BooleanEquals false", `{"Variable": "$.t", "BooleanEquals": false, "Next": "N"}`, false},
		{"BooleanEqualsPath", `{"Variable": "$.f", "BooleanEqualsPath": "$.t", "Next": "N"}`, false},
		{"BooleanEquals on a string is false", `{"Variable": "$.s", "BooleanEquals": true, "Next": "N"}`, false},

		// Timestamps, compared as instants.
		{"TimestampEquals across offsets", `{"Variable": "$.tsOffset", "TimestampEquals": "2001-01-01T12:00:00Z", "Next": "N"}`, true},
		{"TimestampLessThan", `{"Variable": "$.ts", "TimestampLessThan": "2001-01-01T12:00:00.1Z", "Next": "N"}`, true},
		{"TimestampGreaterThan fraction", `{"Variable": "$.tsFrac", "TimestampGreaterThan": "2001-01-01T12:00:00Z", "Next": "N"}`, true},
		{"TimestampLessThanEquals", `{"Variable": "$.ts", "TimestampLessThanEquals": "2001-01-01T12:00:00Z", "Next": "N"}`, true},
		{"TimestampGreaterThanEquals", `{"Variable": "$.ts", "TimestampGreaterThanEquals": "2001-01-02T00:00:00Z", "Next": "N"}`, false},
		{"TimestampEqualsPath", `{"Variable": "$.ts", "TimestampEqualsPath": "$.tsOffset", "Next": "N"}`, true},
		{"TimestampLessThanPath", `{"Variable": "$.ts", "TimestampLessThanPath": "$.tsFrac", "Next": "N"}`, true},
		{"TimestampGreaterThanPath", `{"Variable": "$.ts", "TimestampGreaterThanPath": "$.tsFrac", "Next": "N"}`, false},
		{"TimestampLessThanEqualsPath", `{"Variable": "$.tsFrac", "TimestampLessThanEqualsPath": "$.ts", "Next": "N"}`, false},
		{"TimestampGreaterThanEqualsPath", `{"Variable": "$.tsFrac", "TimestampGreaterThanEqualsPath": "$.ts", "Next": "N"}`, true},
		{"Timestamp on a non-timestamp string is false", `{"Variable": "$.s", "TimestampEquals": "2001-01-01T12:00:00Z", "Next": "N"}`, false},
		{"Timestamp lowercase t and z is false", `{"Variable": "$.tsLower", "TimestampEquals": "2001-01-01T12:00:00Z", "Next": "N"}`, false},
		{"Timestamp on a date is false", `{"Variable": "$.date", "TimestampLessThan": "2001-01-02T12:00:00Z", "Next": "N"}`, false},
		{"Timestamp on a number is false", `{"Variable": "$.foo", "TimestampLessThan": "2001-01-02T12:00:00Z", "Next": "N"}`, false},
		{"TimestampEqualsPath to a non-timestamp is false", `{"Variable": "$.ts", "TimestampEqualsPath": "$.s", "Next": "N"}`, false},

		// Type tests.
		{"IsNull false on a value", `{"Variable": "$.s", "IsNull": true, "Next": "N"}`, false},
		{"IsNull false on null", `{"Variable": "$.null", "IsNull": false, "Next": "N"}`, false},
		{"IsPresent true", `{"Variable": "$.s", "IsPresent": true, "Next": "N"}`, true},
		{"IsPresent on null", `{"Variable": "$.null", "IsPresent": true, "Next": "N"}`, true},
		{"IsPresent false on a missing field", `{"Variable": "$.missing", "IsPresent": false, "Next": "N"}`, true},
		{"IsPresent true on a missing index", `{"Variable": "$.arr[5]", "IsPresent": true, "Next": "N"}`, false},
		{"IsNumeric", `{"Variable": "$.big", "IsNumeric": true, "Next": "N"}`, true},
		{"IsNumeric on a numeric string", `{"Variable": "$.numStr", "IsNumeric": true, "Next": "N"}`, false},
		{"IsNumeric false", `{"Variable": "$.numStr", "IsNumeric": false, "Next": "N"}`, true},
		{"IsString", `{"Variable": "$.s", "IsString": true, "Next": "N"}`, true},
		{"IsString on an object", `{"Variable": "$.obj", "IsString": true, "Next": "N"}`, false},
		{"IsBoolean", `{"Variable": "$.f", "IsBoolean": true, "Next": "N"}`, true},
		{"IsBoolean on an array", `{"Variable": "$.arr", "IsBoolean": false, "Next": "N"}`, true},
		{"IsTimestamp", `{"Variable": "$.tsOffset", "IsTimestamp": true, "Next": "N"}`, true},
		{"IsTimestamp on a date", `{"Variable": "$.date", "IsTimestamp": true, "Next": "N"}`, false},

		// Combinators.
		{"And all true", `{"And": [{"Variable": "$.t", "BooleanEquals": true}, {"Variable": "$.foo", "NumericEquals": 1}], "Next": "N"}`, true},
		{"And short-circuits before a missing variable", `{"And": [{"Variable": "$.f", "BooleanEquals": true}, {"Variable": "$.missing", "StringEquals": "x"}], "Next": "N"}`, false},
		{"Or short-circuits before a missing variable", `{"Or": [{"Variable": "$.t", "BooleanEquals": true}, {"Variable": "$.missing", "StringEquals": "x"}], "Next": "N"}`, true},
		{"Or none true", `{"Or": [{"Variable": "$.t", "BooleanEquals": false}, {"Variable": "$.f", "BooleanEquals": true}], "Next": "N"}`, false},
		{"Not IsPresent", `{"Not": {"Variable": "$.missing", "IsPresent": true}, "Next": "N"}`, true},
		{"nested", `{"And": [{"Not": {"Variable": "$.s", "StringEquals": "x"}}, {"Or": [{"Variable": "$.foo", "NumericEquals": 2}, {"Variable": "$.abc", "StringMatches": "*ABC"}]}], "Next": "N"}`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := EvalChoice(choiceRuleFromJSON(t, tt.rule), resolve)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestEvalChoiceErrors(t *testing.T) {
	t.Parallel()

	resolve := evalTestResolver(t, `{"s": "x", "n": 1}`)
	for _, tt := range []struct {
		name string
		rule ChoiceRule
	}{
		// Step Functions fails the execution with States.Runtime ("Invalid
		// path ...: The choice state's condition path references an
		// invalid value") unless IsPresent guards the comparison.
		{"missing variable", choiceRuleFromJSON(t, `{"Variable": "$.missing", "StringEquals": "x", "Next": "N"}`)},
		{"missing variable in a type test", choiceRuleFromJSON(t, `{"Variable": "$.missing", "IsNull": true, "Next": "N"}`)},
		{"missing operand path", choiceRuleFromJSON(t, `{"Variable": "$.s", "StringEqualsPath": "$.missing", "Next": "N"}`)},
		{"missing variable inside Not", choiceRuleFromJSON(t, `{"Not": {"Variable": "$.missing", "NumericEquals": 1}, "Next": "N"}`)},
		{"missing variable after a true And member", choiceRuleFromJSON(t, `{"And": [{"Variable": "$.n", "NumericEquals": 1}, {"Variable": "$.missing", "NumericEquals": 1}], "Next": "N"}`)},
		{"invalid timestamp literal", choiceRuleFromJSON(t, `{"Variable": "$.s", "TimestampEquals": "yesterday", "Next": "N"}`)},
		{"no operator", ChoiceRule{Variable: "$.s"}},
		{"two operators", ChoiceRule{Variable: "$.s", StringEquals: new("x"), IsString: new(true)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := EvalChoice(tt.rule, resolve)
			requireEvalError(t, err, ErrorRuntime)
		})
	}

	t.Run("resolve error is wrapped", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("boom")
		failing := func(string) (any, bool, error) { return nil, false, boom }
		_, err := EvalChoice(ChoiceRule{Variable: "$.a", IsPresent: new(true)}, failing)
		require.ErrorIs(t, err, boom)
		_, err = EvalChoice(ChoiceRule{Variable: "$.s", StringEqualsPath: new("$.a")}, func(p string) (any, bool, error) {
			if p == "$.s" {
				return "x", true, nil
			}
			return nil, false, boom
		})
		require.ErrorIs(t, err, boom)
	})
}

func TestEvalChoices(t *testing.T) {
	t.Parallel()

	resolve := evalTestResolver(t, `{"type": "Private", "value": 30}`)
	var s State
	// The developer guide's example of a Choice state, with its Default.
	require.NoError(t, json.Unmarshal([]byte(`{
		"Type": "Choice",
		"Choices": [
			{"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
			{"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
			{"And": [
				{"Variable": "$.value", "NumericGreaterThanEquals": 20},
				{"Variable": "$.value", "NumericLessThan": 30}
			], "Next": "ValueInTwenties"}
		],
		"Default": "DefaultState"
	}`), &s))

	next, err := EvalChoices(s.Choices, s.Default, resolve)
	require.NoError(t, err)
	require.Equal(t, "DefaultState", next)

	next, err = EvalChoices(s.Choices, s.Default, evalTestResolver(t, `{"type": "Private", "value": 25}`))
	require.NoError(t, err)
	require.Equal(t, "ValueInTwenties", next)

	next, err = EvalChoices(s.Choices, s.Default, evalTestResolver(t, `{"type": "Public", "value": 0}`))
	require.NoError(t, err)
	require.Equal(t, "Public", next, "the first matching rule wins")

	_, err = EvalChoices(s.Choices, "", resolve)
	requireEvalError(t, err, ErrorNoChoiceMatched)

	_, err = EvalChoices(s.Choices, s.Default, evalTestResolver(t, `{"value": 0}`))
	requireEvalError(t, err, ErrorRuntime)
}

func TestChoiceNumber(t *testing.T) {
	t.Parallel()

	// The engine decodes with UseNumber, but callers that build values in
	// Go get the same comparisons.
	one, ok := choiceNumber(json.Number("1.0"))
	require.True(t, ok)
	for _, v := range []any{1.0, 1, int64(1), json.Number("1e0"), json.Number("10E-1")} {
		n, ok := choiceNumber(v)
		require.True(t, ok, "%#v", v)
		require.Zero(t, one.cmp(n), "%#v", v)
	}
	for _, v := range []any{json.Number("1/2"), json.Number("Inf"), json.Number("0x1"), json.Number(""), json.Number("-"), json.Number(" 1"), "1", true, nil, float32(1)} {
		_, ok := choiceNumber(v)
		require.False(t, ok, "%#v", v)
	}
}
