package stepworker_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/sfnapi"
	"github.com/aiflow/aiflow/internal/stepworker"
	"github.com/aiflow/aiflow/internal/stepworker/aiworker"
	"github.com/aiflow/aiflow/internal/stepworker/mcpworker"
	"github.com/aiflow/aiflow/internal/workflow"
)

func lookupOf(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

const greetWorkflow = `name: greet
input:
  type: object
  required: [name]
  properties:
    name: {type: string}
steps:
  - id: hello
    ai:
      model: scripted/greeter
      prompt: "Say hello to {{ input.name }}"
    timeout: 1m
`

const greetScript = `turns:
  - repeat: true
    match:
      prompt: "Say hello to Ada"
    reply:
      text: Hello, Ada!
      usage: {input_tokens: 5, output_tokens: 3}
`

// TestAIStepWorkerOverTheStepFunctionsAPI builds the aistep worker exactly
// as its Lambda does, from variables, and runs a step of a compiled
// workflow: the engine sends the message to a queue feeding the worker,
// which calls back over the Step Functions API with the sfn client.
func TestAIStepWorkerOverTheStepFunctionsAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	broker := queue.New(queue.Config{})
	t.Cleanup(func() { _ = broker.Close() })
	url, err := broker.CreateQueue(queue.QueueConfig{Name: "ai-steps"})
	require.NoError(t, err)
	eng, err := engine.New(engine.Config{Store: engine.NewMemoryStore(), Queues: broker})
	require.NoError(t, err)
	require.NoError(t, eng.Start(ctx))
	t.Cleanup(func() { _ = eng.Close() })
	api := httptest.NewServer(sfnapi.NewHandler(eng, sfnapi.Options{}))
	t.Cleanup(api.Close)

	script := filepath.Join(t.TempDir(), "script.yaml")
	require.NoError(t, os.WriteFile(script, []byte(greetScript), 0o600))
	cfg, err := config.LoadAIStep(lookupOf(map[string]string{
		"AIFLOW_AI_PROVIDERS": "scripted", "AIFLOW_AI_SCRIPT": script, "AIFLOW_SFN_ENDPOINT": api.URL,
	}))
	require.NoError(t, err)
	w, err := aiworker.New(ctx, cfg, stepworker.Options{})
	require.NoError(t, err)
	t.Cleanup(w.Close)
	stop, err := broker.Subscribe(url, w.Runtime.Handle, queue.MappingConfig{ReportBatchItemFailures: true, FunctionTimeout: 20 * time.Second})
	require.NoError(t, err)
	t.Cleanup(stop)

	checked, err := workflow.Load("greet.yaml", []byte(greetWorkflow), nil)
	require.NoError(t, err)
	m, err := workflow.Compile(checked)
	require.NoError(t, err)
	raw, err := m.MarshalJSON()
	require.NoError(t, err)
	def := strings.ReplaceAll(string(raw), workflow.AIQueueSubstitution, url)
	sm, err := eng.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "greet", Definition: def})
	require.NoError(t, err)
	st, err := eng.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Input: `{"name": "Ada"}`})
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, eng.Wait(wctx, st.ExecutionARN))
	d, err := eng.DescribeExecution(ctx, st.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
	require.Contains(t, d.Output, `"hello":{"output":"Hello, Ada!"`)
}

func TestWorkersReportConfigurationProblems(t *testing.T) {
	t.Parallel()
	_, err := config.LoadAIStep(lookupOf(map[string]string{"AIFLOW_AI_PROVIDERS": "scripted"}))
	require.Error(t, err)
	msg := stepworker.ErrorOf("functions/aistep", err)
	require.Contains(t, msg, "AIFLOW_AI_SCRIPT")
	require.Contains(t, msg, "functions/aistep")

	_, err = config.LoadAIStep(lookupOf(map[string]string{"AIFLOW_AI_PROVIDERS": "openai", "AIFLOW_AI_SECRETS": "vault"}))
	require.ErrorContains(t, err, `AIFLOW_AI_SECRETS: "vault" is neither env nor secretsmanager`)

	_, err = config.LoadMCPStep(lookupOf(map[string]string{"AIFLOW_MCP_SERVERS": `{"x": {"bogus": 1}}`}))
	require.ErrorContains(t, err, "AIFLOW_MCP_SERVERS")
	require.Equal(t, err.Error(), stepworker.ErrorOf("functions/mcpstep", err))
	require.Contains(t, err.Error(), "functions/mcpstep: 1 configuration problem")
}

// TestMCPStepWorkerClosesItsPool builds the mcp step worker from
// variables as its Lambda does, with no server configured.
func TestMCPStepWorkerClosesItsPool(t *testing.T) {
	t.Parallel()
	cfg, err := config.LoadMCPStep(lookupOf(map[string]string{"AIFLOW_SFN_ENDPOINT": "http://127.0.0.1:1"}))
	require.NoError(t, err)
	w, err := mcpworker.New(context.Background(), cfg, stepworker.Options{})
	require.NoError(t, err)
	require.NotNil(t, w.Runtime)
	w.Close()
}
