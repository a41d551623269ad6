package workflow_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/workflow"
)

// coverCompile parses, checks and compiles a definition and returns the
// state machine as JSON.
func coverCompile(t *testing.T, src string) *asl.StateMachine {
	t.Helper()
	wf, err := workflow.Parse("cover.yaml", []byte(src))
	require.NoError(t, err)
	c, err := workflow.Check(wf, nil)
	require.NoError(t, err)
	m, err := workflow.Compile(c)
	require.NoError(t, err)
	require.Empty(t, asl.Validate(m))
	return m
}

const coverConditions = `name: conditions
input:
  type: object
  required: [name, other, score, limit, count, ok, flag, at]
  properties:
    name: {type: string}
    other: {type: string}
    score: {type: number}
    limit: {type: number}
    count: {type: integer}
    ok: {type: boolean}
    flag: {type: boolean}
    at: {type: string}
    note: {type: ["string", "null"]}
steps:
  - id: route
    choice:
      cases:
        - when: 'input.name == "a"'
          next: done
        - when: '"b" != input.name'
          next: done
        - when: 'input.score >= 0.5'
          next: done
        - when: '10 < input.count'
          next: done
        - when: 'input.ok == false'
          next: done
        - when: 'input.score <= input.limit'
          next: done
        - when: 'input.name < input.other'
          next: done
        - when: 'input.ok != input.flag'
          next: done
        - when: 'exists(input.note) && input.note == null'
          next: done
        - when: '!(input.ok) && (exists(input.note) || is_string(input.name) || is_number(input.score))'
          next: done
        - when: 'is_boolean(input.ok) && is_timestamp(input.at) && matches(input.name, "*@example.com")'
          next: done
        - when: 'exists(input.note) && is_null(input.note)'
          next: done
        - when: '(input.ok)'
          next: done
      default: done
  - id: done
    succeed: {}
`

// TestCompileConditions: each kind of condition becomes the choice rule
// the language reference describes: the operator named after the values'
// kind, a literal on the left flipped to the right, != as a Not, two
// paths as a ...Path rule, && and || as And and Or lists (flattened), and
// the path tests as Is* rules.
func TestCompileConditions(t *testing.T) {
	t.Parallel()
	m := coverCompile(t, coverConditions)
	st := m.States["route"]
	require.NotNil(t, st)
	require.Equal(t, asl.TypeChoice, st.Type)
	got, err := json.Marshal(st.Choices)
	require.NoError(t, err)
	require.JSONEq(t, `[
	  {"Variable":"$.input.name","StringEquals":"a","Next":"done"},
	  {"Not":{"Variable":"$.input.name","StringEquals":"b"},"Next":"done"},
	  {"Variable":"$.input.score","NumericGreaterThanEquals":0.5,"Next":"done"},
	  {"Variable":"$.input.count","NumericGreaterThan":10,"Next":"done"},
	  {"Variable":"$.input.ok","BooleanEquals":false,"Next":"done"},
	  {"Variable":"$.input.score","NumericLessThanEqualsPath":"$.input.limit","Next":"done"},
	  {"Variable":"$.input.name","StringLessThanPath":"$.input.other","Next":"done"},
	  {"Not":{"Variable":"$.input.ok","BooleanEqualsPath":"$.input.flag"},"Next":"done"},
	  {"And":[{"Variable":"$.input.note","IsPresent":true},{"Variable":"$.input.note","IsNull":true}],"Next":"done"},
	  {"And":[{"Not":{"Variable":"$.input.ok","BooleanEquals":true}},{"Or":[{"Variable":"$.input.note","IsPresent":true},{"Variable":"$.input.name","IsString":true},{"Variable":"$.input.score","IsNumeric":true}]}],"Next":"done"},
	  {"And":[{"Variable":"$.input.ok","IsBoolean":true},{"Variable":"$.input.at","IsTimestamp":true},{"Variable":"$.input.name","StringMatches":"*@example.com"}],"Next":"done"},
	  {"And":[{"Variable":"$.input.note","IsPresent":true},{"Variable":"$.input.note","IsNull":true}],"Next":"done"},
	  {"Variable":"$.input.ok","BooleanEquals":true,"Next":"done"}
	]`, string(got))
	require.Equal(t, "done", st.Default)
}
