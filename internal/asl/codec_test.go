package asl

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/every_state.json in canonical form")

const goldenPath = "testdata/every_state.json"

// loadGolden parses the machine that uses every state type.
func loadGolden(t *testing.T) (*StateMachine, []byte) {
	t.Helper()
	data, err := os.ReadFile(goldenPath)
	require.NoError(t, err)
	m, err := Parse(data)
	require.NoError(t, err)
	return m, data
}

func TestGoldenRoundTrip(t *testing.T) {
	t.Parallel()

	m, data := loadGolden(t)
	require.Empty(t, Validate(m))

	out, err := m.MarshalIndent()
	require.NoError(t, err)
	if *update {
		require.NoError(t, os.WriteFile(goldenPath, out, 0o644))
		return
	}
	require.Equal(t, string(data), string(out), "Parse then MarshalIndent must reproduce the file; run go test -update to rewrite it")

	types := map[StateType]bool{}
	var walk func(states map[string]*State)
	walk = func(states map[string]*State) {
		for _, s := range states {
			types[s.Type] = true
			for _, b := range s.Branches {
				walk(b.States)
			}
			if s.ItemProcessor != nil {
				walk(s.ItemProcessor.States)
			}
		}
	}
	walk(m.States)
	require.Len(t, types, 8, "the golden machine must use every state type")
}

func TestMarshalIndentIsStable(t *testing.T) {
	t.Parallel()

	build := func(params, assignValue string) *StateMachine {
		return &StateMachine{
			StartAt: "A",
			States: map[string]*State{
				"B": {Type: TypeSucceed},
				"A": {
					Type:       TypePass,
					Parameters: json.RawMessage(params),
					Assign:     map[string]json.RawMessage{"z": json.RawMessage(`1`), "a": json.RawMessage(assignValue)},
					End:        false,
					Next:       "B",
				},
			},
		}
	}
	first := build(`{"b": 1, "a": {"d": [3, {"y": 1, "x": 2}], "c": 2}, "e.$": "$.e"}`, `{"q": 1, "p": 2}`)
	second := build(`{"e.$":"$.e","a":{"c":2,"d":[3,{"x":2,"y":1}]},"b":1}`, `{"p":2,"q":1}`)

	out1, err := first.MarshalIndent()
	require.NoError(t, err)
	again, err := first.MarshalIndent()
	require.NoError(t, err)
	out2, err := second.MarshalIndent()
	require.NoError(t, err)
	require.Equal(t, string(out1), string(again))
	require.Equal(t, string(out1), string(out2))

	want := `{
  "StartAt": "A",
  "States": {
    "A": {
      "Type": "Pass",
      "Parameters": {
        "a": {
          "c": 2,
          "d": [
            3,
            {
              "x": 2,
              "y": 1
            }
          ]
        },
        "b": 1,
        "e.$": "$.e"
      },
      "Assign": {
        "a": {
          "p": 2,
          "q": 1
        },
        "z": 1
      },
      "Next": "B"
    },
    "B": {
      "Type": "Succeed"
    }
  }
}
`
	require.Equal(t, want, string(out1))
}

func TestMarshalKeepsTextAndNumbers(t *testing.T) {
	t.Parallel()

	m := &StateMachine{
		Comment: `a <b> & "c"`,
		StartAt: "A",
		States: map[string]*State{"A": {
			Type:   TypePass,
			Result: json.RawMessage(`{"n": [1.0, 1e3, -0, 12345678901234567890], "s": "<&>\u2028"}`),
			End:    true,
		}},
	}
	out, err := m.MarshalIndent()
	require.NoError(t, err)
	s := string(out)
	require.Contains(t, s, `"Comment": "a <b> & \"c\""`)
	require.Contains(t, s, "1.0,\n")
	require.Contains(t, s, "1e3,\n")
	require.Contains(t, s, "-0,\n")
	require.Contains(t, s, "12345678901234567890\n")
	require.Contains(t, s, `"s": "<&>\u2028"`)
	require.True(t, strings.HasSuffix(s, "}\n"))

	parsed, err := Parse(out)
	require.NoError(t, err)
	again, err := parsed.MarshalIndent()
	require.NoError(t, err)
	require.Equal(t, s, string(again))
}

func TestMarshalErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		state *State
		want  string
	}{
		{
			name:  "InvalidTemplate",
			state: &State{Type: TypePass, Parameters: json.RawMessage(`{"a": }`), End: true},
			want:  "States.A.Parameters",
		},
		{
			name:  "DuplicateTemplateKey",
			state: &State{Type: TypePass, Parameters: json.RawMessage(`{"a": 1, "a": 2}`), End: true},
			want:  `duplicate key "a"`,
		},
		{
			name:  "NaN",
			state: &State{Type: TypeTask, Resource: "r", Retry: []Retrier{{ErrorEquals: []string{"X"}, BackoffRate: new(math.NaN())}}, End: true},
			want:  "States.A.Retry[0].BackoffRate",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := &StateMachine{StartAt: "A", States: map[string]*State{"A": tt.state}}
			_, err := m.MarshalIndent()
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		json string
		want string
	}{
		{
			name: "InvalidJSON",
			json: `{"StartAt": }`,
			want: "invalid JSON",
		},
		{
			name: "TrailingData",
			json: `{"StartAt": "A", "States": {}} {}`,
			want: "unexpected data after the top-level value",
		},
		{
			name: "UnknownTopLevelField",
			json: `{"StartAt": "A", "Stats": {}}`,
			want: `unknown top-level field "Stats"`,
		},
		{
			name: "UnknownStateField",
			json: `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Retries": [], "End": true}}}`,
			want: `States.A: unknown field "Retries"`,
		},
		{
			name: "UnknownFieldInNestedState",
			json: `{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed", "Foo": 1}}}]}}}`,
			want: `States.P.Branches[0].States.B: unknown field "Foo"`,
		},
		{
			name: "UnknownRetrierField",
			json: `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "r", "End": true, "Retry": [{"ErrorEquals": ["X"], "Backoff": 2}]}}}`,
			want: `States.A.Retry[0]: unknown field "Backoff"`,
		},
		{
			name: "DuplicateStateName",
			json: `{"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "A": {"Type": "Succeed"}}}`,
			want: `States: duplicate key "A"`,
		},
		{
			name: "DuplicateStateField",
			json: `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B", "Next": "C"}}}`,
			want: `States.A: duplicate key "Next"`,
		},
		{
			name: "DuplicateKeyInTemplate",
			json: `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x": {"k": 1, "k": 2}}, "End": true}}}`,
			want: `States.A.Parameters.x: duplicate key "k"`,
		},
		{
			name: "WrongType",
			json: `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "r", "TimeoutSeconds": true, "End": true}}}`,
			want: "States.A.TimeoutSeconds: must be an integer",
		},
		{
			name: "FractionalInteger",
			json: `{"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 1.5, "End": true}}}`,
			want: "States.A.Seconds: must be an integer, not 1.5",
		},
		{
			name: "StateNotObject",
			json: `{"StartAt": "A", "States": {"A": null}}`,
			want: "States.A: must be a JSON object",
		},
		{
			name: "PathNotString",
			json: `{"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": 1, "End": true}}}`,
			want: "States.A.InputPath: must be a path string or null",
		},
		{
			name: "StateNameWithSpace",
			json: `{"StartAt": "A", "States": {"A b": {"Type": "Pass", "Foo": 1}}}`,
			want: `States["A b"]: unknown field "Foo"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Parse([]byte(tt.json))
			require.Nil(t, m)
			require.ErrorContains(t, err, tt.want)
			var verrs ValidationErrors
			require.ErrorAs(t, err, &verrs)
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	t.Parallel()

	_, err := Parse([]byte(`{"StartAt": 1, "Foo": 2, "States": {"A": {"Type": "Pass", "End": "yes", "Bar": 3}}}`))
	var verrs ValidationErrors
	require.ErrorAs(t, err, &verrs)
	require.Equal(t, ValidationErrors{
		{Path: "StartAt", Message: "must be a string"},
		{Path: "", Message: `unknown top-level field "Foo"`},
		{Path: "States.A.End", Message: "must be true or false"},
		{Path: "States.A", Message: `unknown field "Bar"`},
	}, verrs)
}

func TestParseNullPaths(t *testing.T) {
	t.Parallel()

	m, err := Parse([]byte(`{"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": null, "ResultPath": null, "OutputPath": "$.x", "End": true}}}`))
	require.NoError(t, err)
	a := m.States["A"]
	require.Equal(t, Discard(), a.InputPath)
	require.Equal(t, Discard(), a.ResultPath)
	require.Equal(t, Ref("$.x"), a.OutputPath)
}

func TestJSONInterfaces(t *testing.T) {
	t.Parallel()

	m, data := loadGolden(t)

	var viaUnmarshal StateMachine
	require.NoError(t, json.Unmarshal(data, &viaUnmarshal))
	require.Equal(t, m, &viaUnmarshal)

	// json.Marshal goes through MarshalJSON, values and pointers alike.
	compact, err := json.Marshal(m)
	require.NoError(t, err)
	compactValue, err := json.Marshal(*m)
	require.NoError(t, err)
	require.Equal(t, compact, compactValue)
	reparsed, err := Parse(compact)
	require.NoError(t, err)
	require.Equal(t, m, reparsed)

	state, err := json.Marshal(m.States["Classify"])
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(state), `{"Type":"Task","Resource":`), string(state))
	var s State
	require.NoError(t, json.Unmarshal(state, &s))
	require.Equal(t, m.States["Classify"], &s)

	require.ErrorContains(t, json.Unmarshal([]byte(`{"Type": "Pass", "Nxt": "A"}`), &s), `unknown field "Nxt"`)
}

func TestWriteString(t *testing.T) {
	t.Parallel()

	for _, s := range []string{"", "plain", `quote " backslash \`, "\n\r\t\b\f\x00\x1f\x7f", "<&>", "é日本\u2028\u2029", "bad \xff utf8"} {
		var buf bytes.Buffer
		writeString(&buf, s)
		require.True(t, json.Valid(buf.Bytes()), buf.String())
		var back string
		require.NoError(t, json.Unmarshal(buf.Bytes(), &back))
		require.Equal(t, strings.ToValidUTF8(s, "\ufffd"), back)
	}
	var buf bytes.Buffer
	writeString(&buf, "a\x01\n<")
	require.Equal(t, `"a\u0001\n<"`, buf.String())
}

func TestMarshalJSONOfParts(t *testing.T) {
	t.Parallel()

	tests := []struct {
		v    any
		want string
	}{
		{Retrier{ErrorEquals: []string{"X"}, JitterStrategy: JitterNone, Comment: "c"}, `{"Comment":"c","ErrorEquals":["X"],"JitterStrategy":"NONE"}`},
		{Catcher{Next: "N", ErrorEquals: []string{ErrorAll}, ResultPath: Discard()}, `{"ErrorEquals":["States.ALL"],"ResultPath":null,"Next":"N"}`},
		{Branch{StartAt: "A", States: map[string]*State{"A": {Type: TypeSucceed}}}, `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`},
		{ItemProcessor{StartAt: "A", ProcessorConfig: &ProcessorConfig{Mode: ModeInline}}, `{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"A"}`},
		{ProcessorConfig{ExecutionType: ExecutionExpress, Mode: ModeDistributed}, `{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"}`},
		{ChoiceRule{Next: "N", Not: &ChoiceRule{Variable: "$.a", IsNull: new(true)}}, `{"Not":{"Variable":"$.a","IsNull":true},"Next":"N"}`},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.v)
		require.NoError(t, err)
		require.Equal(t, tt.want, string(got))
	}
}

func TestMarshalIndentNil(t *testing.T) {
	t.Parallel()

	var m *StateMachine
	_, err := m.MarshalIndent()
	require.Error(t, err)
	_, err = (&StateMachine{StartAt: "A", States: map[string]*State{"A": nil}}).MarshalIndent()
	require.ErrorContains(t, err, "States.A: state is nil")
}
