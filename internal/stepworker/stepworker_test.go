package stepworker_test

import (
	"context"
	"maps"
	"net/http"
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
	"github.com/aiflow/aiflow/internal/mcpclient/mcpclienttest"
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
	d := runAIStep(t, aiStepRun{workflow: greetWorkflow, script: greetScript, input: `{"name": "Ada"}`})
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
	require.Contains(t, d.Output, `"hello":{"output":"Hello, Ada!"`)
}

const agentWorkflow = `name: agent
input:
  type: object
  required: [id]
  properties:
    id: {type: integer}
steps:
  - id: answer
    ai:
      model: scripted/agent
      prompt: "Who is customer {{ input.id }}?"
      tools: [desk/lookup]
      max_turns: 3
    timeout: 1m
`

const agentScript = `turns:
  - repeat: true
    match:
      prompt: "Who is customer"
      turn: 1
    reply:
      tool_calls:
        - name: lookup
          arguments: {id: 7}
      usage: {input_tokens: 5, output_tokens: 3}
  - repeat: true
    match:
      prompt: "Who is customer"
    reply:
      text: It is customer 7.
      usage: {input_tokens: 9, output_tokens: 4}
`

// TestAIStepWorkerRunsAgentToolsOnTheMCPServers: the ai worker built from
// the mcp worker's variables (AIFLOW_MCP_SERVERS, AIFLOW_MCP_SECRETS) calls
// an agent's tool on a Streamable HTTP server with the server's token.
func TestAIStepWorkerRunsAgentToolsOnTheMCPServers(t *testing.T) {
	t.Parallel()
	desk := mcpclienttest.New(mcpclienttest.Options{Name: "desk"})
	mcpHandler := desk.HTTPHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer desk-token-value" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		mcpHandler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	d := runAIStep(t, aiStepRun{workflow: agentWorkflow, script: agentScript, input: `{"id": 7}`, vars: map[string]string{
		"AIFLOW_MCP_SERVERS": `{"desk": {"urls": ["` + srv.URL + `"], "token_secret": "desk-token"}}`,
		"AIFLOW_MCP_SECRETS": "env",
	}, secrets: map[string]string{"DESK_TOKEN": "desk-token-value"}})
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
	require.Contains(t, d.Output, "It is customer 7.")
	require.Equal(t, 1, desk.Calls("lookup"))

	// Without servers, the same step fails as it names tools no one serves.
	d = runAIStep(t, aiStepRun{workflow: agentWorkflow, script: agentScript, input: `{"id": 7}`})
	require.Equal(t, sfn.StatusFailed, d.Status)
	require.Equal(t, "AI.ToolUnavailable", d.Error)
}

// aiStepRun is one execution of a one-workflow state machine whose ai
// steps the ai step worker runs.
type aiStepRun struct {
	workflow, script, input string
	// vars are the worker's variables beyond the provider, the script and
	// the Step Functions endpoint; secrets the env secret store's.
	vars, secrets map[string]string
}

// runAIStep builds the aistep worker exactly as its Lambda does, from
// variables, runs r's workflow on an engine whose ai-steps queue feeds the
// worker (callbacks over the Step Functions API with the sfn client), and
// returns the finished execution.
func runAIStep(t *testing.T, r aiStepRun) sfn.Execution {
	t.Helper()
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
	require.NoError(t, os.WriteFile(script, []byte(r.script), 0o600))
	vars := map[string]string{"AIFLOW_AI_PROVIDERS": "scripted", "AIFLOW_AI_SCRIPT": script, "AIFLOW_SFN_ENDPOINT": api.URL}
	maps.Copy(vars, r.vars)
	cfg, err := config.LoadAIStep(lookupOf(vars))
	require.NoError(t, err)
	w, err := aiworker.New(ctx, cfg, stepworker.Options{SecretsLookupFunc: lookupOf(r.secrets)})
	require.NoError(t, err)
	t.Cleanup(w.Close)
	stop, err := broker.Subscribe(url, w.Runtime.Handle, queue.MappingConfig{ReportBatchItemFailures: true, FunctionTimeout: 20 * time.Second})
	require.NoError(t, err)
	t.Cleanup(stop)

	checked, err := workflow.Load("workflow.yaml", []byte(r.workflow), nil)
	require.NoError(t, err)
	m, err := workflow.Compile(checked)
	require.NoError(t, err)
	raw, err := m.MarshalJSON()
	require.NoError(t, err)
	def := strings.ReplaceAll(string(raw), workflow.AIQueueSubstitution, url)
	sm, err := eng.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "run", Definition: def})
	require.NoError(t, err)
	st, err := eng.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Input: r.input})
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, eng.Wait(wctx, st.ExecutionARN))
	d, err := eng.DescribeExecution(ctx, st.ExecutionARN)
	require.NoError(t, err)
	return d
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
