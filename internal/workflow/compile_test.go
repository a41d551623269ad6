package workflow

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/asl"
)

func compileFile(t *testing.T, path string) []byte {
	t.Helper()
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	wf, err := Parse(path, src)
	require.NoError(t, err)
	c, err := Check(wf, nil)
	require.NoError(t, err)
	m, err := Compile(c)
	require.NoError(t, err)
	require.Empty(t, asl.Validate(m))
	out, err := m.MarshalIndent()
	require.NoError(t, err)
	return out
}

func TestCompileTriage(t *testing.T) {
	t.Parallel()
	out := compileFile(t, "testdata/triage.yaml")
	t.Log(string(out))
	require.Contains(t, string(out), `"Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken"`)
	require.Contains(t, string(out), `"prompt.$": "States.Format('Classify: {}', $.input.message)"`)
	require.Equal(t, out, compileFile(t, "testdata/triage.yaml"), "compiling twice gives the same bytes")
}

func compileSrc(t *testing.T, src string) (*asl.StateMachine, string) {
	t.Helper()
	wf, err := Parse("c.yaml", []byte(src))
	require.NoError(t, err)
	c, err := Check(wf, nil)
	require.NoError(t, err)
	m, err := Compile(c)
	require.NoError(t, err)
	require.Empty(t, asl.Validate(m))
	out, err := m.MarshalIndent()
	require.NoError(t, err)
	return m, string(out)
}

func TestCompileParallelMergesBranchSteps(t *testing.T) {
	t.Parallel()
	m, _ := compileSrc(t, `name: par
input: {type: object}
steps:
  - id: p
    parallel:
      branches:
        - steps:
            - id: b1
              set: {x: 1}
        - steps:
            - id: b2
              set: {y: "two"}
  - id: after
    set: {both: "{{ steps.b1.output.x }} and {{ steps.b2.output.y }}"}
`)
	p := m.States["p"]
	require.Len(t, p.Branches, 2)
	require.JSONEq(t, `{"input.$": "$[0].input", "steps.$": "States.JsonMerge($[0].steps, $[1].steps, false)"}`, string(p.ResultSelector))
	require.Equal(t, "$", p.ResultPath.Path)
	require.JSONEq(t, `{"output": {"both.$": "States.Format('{} and {}', $.steps.b1.output.x, $.steps.b2.output.y)"}}`, string(m.States["after"].Parameters))
}

func TestCompileMapRunsTheSubFlowPerItem(t *testing.T) {
	t.Parallel()
	m, _ := compileSrc(t, `name: mapper
input:
  type: object
  required: [docs]
  properties:
    docs: {type: array, items: {type: object, required: [text], properties: {text: {type: string}}}}
steps:
  - id: each
    map:
      items: "{{ input.docs }}"
      max_concurrency: 4
      tolerated_failures: "10%"
      steps:
        - id: summarize
          ai: {model: m, prompt: "Summarize: {{ context.map.item.value.text }} (#{{ context.map.item.index }})"}
  - id: reduce
    ai: {model: m, prompt: "{{ steps.each.output }}"}
`)
	st := m.States["each"]
	require.Equal(t, "$.input.docs", st.ItemsPath)
	require.Equal(t, 4, *st.MaxConcurrency)
	require.Equal(t, 10.0, *st.ToleratedFailurePercentage)
	inner := st.ItemProcessor.States["summarize"]
	require.Contains(t, string(inner.Parameters), `States.Format('Summarize: {} (#{})', $.item.text, $.index)`)
	require.Equal(t, "aiflow-each-item", inner.Next)
	require.Contains(t, string(m.States["reduce"].Parameters), `"prompt.$":"$.steps.each.output"`)
}

func TestCompileCatchAndRetry(t *testing.T) {
	t.Parallel()
	m, _ := compileSrc(t, `name: careful
input: {type: object}
steps:
  - id: call
    mcp:
      server: support
      tool: find_customer
      arguments: {email: "a@b.c", ids: [1, 2]}
    timeout: 30s
    heartbeat: 10s
    retry:
      - errors: [MCP.Timeout, MCP.Unavailable]
        attempts: 5
        interval: 2s
        backoff: 1.5
        max_delay: 20s
    catch:
      - errors: [States.ALL]
        next: failed
  - id: ok
    succeed: {}
  - id: failed
    set: {why: "{{ steps.call.error.Cause }}"}
    next: stop
  - id: stop
    fail: {error: Support.Unavailable, cause: the support server failed}
`)
	call := m.States["call"]
	require.Equal(t, 30, *call.TimeoutSeconds)
	require.Equal(t, 10, *call.HeartbeatSeconds)
	require.Equal(t, "${McpStepQueueUrl}", mustField(t, call.Parameters, "QueueUrl"))
	require.Equal(t, []string{"MCP.Timeout", "MCP.Unavailable"}, call.Retry[0].ErrorEquals)
	require.Equal(t, 5, *call.Retry[0].MaxAttempts)
	require.Equal(t, 20, *call.Retry[0].MaxDelaySeconds)
	require.Equal(t, "FULL", call.Retry[0].JitterStrategy)
	require.Equal(t, "failed", call.Catch[0].Next)
	require.Equal(t, "$.steps.call.error", call.Catch[0].ResultPath.Path)
	require.Equal(t, asl.TypeFail, m.States["stop"].Type)
}

func mustField(t *testing.T, raw json.RawMessage, key string) any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m[key]
}
