package asl

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// The fuzz targets check that the parsers never panic, and that whatever
// they accept survives a trip through its canonical form unchanged.

func FuzzParsePath(f *testing.F) {
	for _, seed := range []string{
		"$", "$$", "$.a.b", "$['a b']", "$.a[0]", "$$.Execution.Id", "$var.x[1]",
		"$..a", "$.a[*]", "$.a[1:3:2]", "$['a','b']", "$[0,1]", "$.a[?(@.b == 'c')]", "$.a[(@.length-1)]",
		`$["q\"x"]`, "$.a.", "$[", "$[?(", "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			return
		}
		_ = p.IsReference()
		again, err := ParsePath(p.String())
		require.NoError(t, err, "String() of %q gave %q", s, p.String())
		require.Equal(t, p, again)
	})
}

func FuzzParseIntrinsic(f *testing.F) {
	for _, seed := range []string{
		"States.Format('Hello, {}', $.name)",
		`States.Format('It\'s \{x\} \\', $$.Execution.Id)`,
		"States.Array(1, -2.5e3, true, false, null, $v, States.UUID())",
		"States.Hash($.a, 'SHA-256')",
		"States.JsonMerge($.a, $.b, false)",
		"States.ArrayGetItem(States.StringSplit($.a, ','), 0)",
		"States.Array($['a,b'], $.c[?(@.d == ')')])",
		"States.Array(", "States.Foo()", "States.Format('", "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseIntrinsic(s)
		if err != nil {
			return
		}
		again, err := ParseIntrinsic(c.String())
		require.NoError(t, err, "String() of %q gave %q", s, c.String())
		require.Equal(t, c, again)
	})
}

func FuzzParse(f *testing.F) {
	golden, err := os.ReadFile(goldenPath)
	require.NoError(f, err)
	f.Add(golden)
	for _, seed := range []string{
		`{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}`,
		`{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "r", "Retry": [{"ErrorEquals": ["States.ALL"], "BackoffRate": 1.5}], "End": true}}}`,
		`{"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.a", "NumericEquals": 1e400}, "Next": "C"}]}}}`,
		`{"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"a.$": "States.Array(1)", "b": [1.0, {"z": 1, "a": 2}]}, "InputPath": null, "End": true}}}`,
		`{"States": {"A": {"Type": "Map", "ItemProcessor": {"StartAt": "B", "States": {}}}}}`,
		`{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "A", "Next": "B"}}}`,
		`{"a": [[[[[[]]]]]]}`,
		`[]`, `null`, `{`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		_ = Validate(m)
		out, err := m.MarshalIndent()
		require.NoError(t, err)
		again, err := Parse(out)
		require.NoError(t, err, "reparsing:\n%s", out)
		out2, err := again.MarshalIndent()
		require.NoError(t, err)
		require.Equal(t, string(out), string(out2))
		// Parse keeps a template's members in the order of the document,
		// MarshalIndent sorts them: from there on the round trip is exact.
		third, err := Parse(out2)
		require.NoError(t, err)
		require.Equal(t, again, third)
	})
}
