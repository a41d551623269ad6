package enginetest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/sfn"
)

const casesDir = "../testdata/conformance"

// TestCasesParse checks every conformance case without running it: the
// files parse, the definition is one Step Functions accepts (or refuses,
// when the case says so), and the comment says where the expected result
// comes from. Definitions that must be refused are left to the suite.
func TestCasesParse(t *testing.T) {
	t.Parallel()
	cases, err := LoadCases(casesDir)
	require.NoError(t, err)
	require.NotEmpty(t, cases)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, c.Comment, "https://docs.aws.amazon.com/", "the comment cites the documentation")
			if c.Want.Validation == ValidationFail {
				// Whether the service refuses it is what the suite checks.
				return
			}
			m, err := asl.Parse([]byte(c.Definition))
			require.NoError(t, err)
			require.Empty(t, asl.Validate(m))
			require.True(t, json.Valid([]byte(c.Input)), "input.json")
			for name, replies := range c.Functions {
				require.Contains(t, c.Definition, "function:"+name, "function %s is used by the definition", name)
				require.NotEmpty(t, replies)
			}
			for url := range c.Queues {
				require.Contains(t, c.Definition, url, "queue %s is used by the definition", url)
			}
		})
	}
}

func TestParseCaseRefuses(t *testing.T) {
	t.Parallel()
	const def = "-- definition.asl.json --\n{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}\n"
	tests := []struct {
		name, text, msg string
	}{
		{"NoComment", def + "-- input.json --\n{}\n-- want.json --\n{\"status\":\"SUCCEEDED\",\"output\":{}}\n", "no comment"},
		{"UnknownFile", "c\n" + def + "-- extra.json --\n{}\n", `unknown file "extra.json"`},
		{"BadJSON", "c\n" + def + "-- input.json --\n{\n", "input.json"},
		{"NoWant", "c\n" + def + "-- input.json --\n{}\n", "want.json is missing"},
		{"UnknownWantField", "c\n" + def + "-- input.json --\n{}\n-- want.json --\n{\"status\":\"SUCCEEDED\",\"output\":{},\"outptu\":1}\n", "unknown field"},
		{"SucceededWithoutOutput", "c\n" + def + "-- input.json --\n{}\n-- want.json --\n{\"status\":\"SUCCEEDED\"}\n", "needs an output"},
		{"FailedWithoutError", "c\n" + def + "-- input.json --\n{}\n-- want.json --\n{\"status\":\"FAILED\"}\n", "needs an error"},
		{"BadStatus", "c\n" + def + "-- input.json --\n{}\n-- want.json --\n{\"status\":\"DONE\",\"output\":1}\n", "status must be"},
		{"NoInput", "c\n" + def + "-- want.json --\n{\"status\":\"SUCCEEDED\",\"output\":{}}\n", "input.json is missing"},
		{"EmptyReplies", "c\n" + def + "-- input.json --\n{}\n-- functions.json --\n{\"F\":[]}\n-- want.json --\n{\"status\":\"SUCCEEDED\",\"output\":{}}\n", "no replies"},
		{"AmbiguousQueueReply", "c\n" + def + "-- input.json --\n{}\n-- queues.json --\n{\"q\":[{\"ignore\":true,\"success\":1}]}\n-- want.json --\n{\"status\":\"SUCCEEDED\",\"output\":{}}\n", "exactly one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseCase(tt.name, []byte(tt.text))
			require.ErrorContains(t, err, tt.msg)
		})
	}
}

func TestParseCase(t *testing.T) {
	t.Parallel()
	text := `What it checks: https://docs.aws.amazon.com/step-functions/latest/dg/state-pass.html
-- definition.asl.json --
{"StartAt":"P","States":{"P":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:F","End":true}}}
-- input.json --
{"a": 1}
-- functions.json --
{"F": [{"error": "E", "cause": "c"}, {"return": "$input", "sleepSeconds": 0.5}]}
-- want.json --
{"status": "FAILED", "error": "E", "cause": "c", "events": ["ExecutionStarted"]}
`
	c, err := ParseCase("example", []byte(text))
	require.NoError(t, err)
	require.Equal(t, "example", c.Name)
	require.True(t, strings.HasPrefix(c.Comment, "What it checks"))
	require.JSONEq(t, `{"a": 1}`, c.Input)
	require.Equal(t, []FunctionReply{{Error: "E", Cause: "c"}, {Return: json.RawMessage(`"$input"`), SleepSeconds: 0.5}}, c.Functions["F"])
	require.Equal(t, sfn.StatusFailed, c.Want.Status)
	require.Equal(t, "c", *c.Want.Cause)
	require.Equal(t, []string{"ExecutionStarted"}, c.Want.Events)
}

func TestSubstitute(t *testing.T) {
	t.Parallel()
	out, err := substitute(json.RawMessage(`{"echo":"$input","list":["$input",1],"other":"$inputs"}`), "$input", json.RawMessage(`{"a":[1,2]}`))
	require.NoError(t, err)
	require.JSONEq(t, `{"echo":{"a":[1,2]},"list":[{"a":[1,2]},1],"other":"$inputs"}`, string(out))
	out, err = substitute(json.RawMessage(`"$body"`), "$body", json.RawMessage(`plain text`))
	require.NoError(t, err)
	require.JSONEq(t, `"plain text"`, string(out))
}

func TestUniqueName(t *testing.T) {
	t.Parallel()
	a, b := uniqueName("a case/with:odd chars"), uniqueName("a case/with:odd chars")
	require.NotEqual(t, a, b)
	require.Regexp(t, `^a-case-with-odd-chars-[0-9a-f]{8}$`, a)
	require.LessOrEqual(t, len(uniqueName(strings.Repeat("x", 200))), 80)
}
