package steps_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/awssfn"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/sfnapi"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/steps/stepstest"
	"github.com/aiflow/aiflow/internal/workflow"
)

// local is the local engine in memory with an ai-steps queue (and its
// dead-letter queue) whose messages the step runtime handles.
type local struct {
	eng     *engine.Engine
	queues  *queue.Broker
	aiURL   string
	dlqURL  string
	details *steps.MemoryDetails
	stream  *steps.Broker
}

// startLocal starts the engine and a runtime whose ai handler calls
// provider as "fake".
func startLocal(t testing.TB, provider ai.Provider, tweak func(*steps.AIConfig)) *local {
	t.Helper()
	return startLocalWith(t, provider, tweak, nil)
}

// startLocalWith is startLocal with the runtime's configuration tweaked too.
func startLocalWith(t testing.TB, provider ai.Provider, tweak func(*steps.AIConfig), rtTweak func(*local, *steps.RuntimeConfig)) *local {
	t.Helper()
	ctx := context.Background()
	l := &local{queues: queue.New(queue.Config{}), details: &steps.MemoryDetails{}, stream: &steps.Broker{}}
	t.Cleanup(func() { _ = l.queues.Close() })
	eng, err := engine.New(engine.Config{Store: engine.NewMemoryStore(), Queues: l.queues})
	require.NoError(t, err)
	require.NoError(t, eng.Start(ctx))
	t.Cleanup(func() { _ = eng.Close() })
	l.eng = eng

	l.dlqURL, err = l.queues.CreateQueue(queue.QueueConfig{Name: "ai-steps-dlq"})
	require.NoError(t, err)
	l.aiURL, err = l.queues.CreateQueue(queue.QueueConfig{Name: "ai-steps", MaxReceiveCount: 3, DeadLetterURL: l.dlqURL})
	require.NoError(t, err)
	cfg := steps.AIConfig{
		Providers: map[string]ai.Provider{"fake": provider},
		Retrier:   ai.Retrier{MaxAttempts: 2, BaseDelay: time.Millisecond},
		Broker:    l.stream,
		Details:   l.details,
		Prices:    steps.PriceTable{"fake/small": {InputPerMillion: 1, OutputPerMillion: 4}},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	rtCfg := steps.RuntimeConfig{Callbacks: eng, Handlers: map[string]steps.Handler{"ai": steps.NewAI(cfg)}}
	if rtTweak != nil {
		rtTweak(l, &rtCfg)
	}
	rt, err := steps.NewRuntime(rtCfg)
	require.NoError(t, err)
	stop, err := l.queues.Subscribe(l.aiURL, rt.Handle, queue.MappingConfig{ReportBatchItemFailures: true, MaxConcurrency: 10})
	require.NoError(t, err)
	t.Cleanup(stop)
	return l
}

// run compiles a workflow, runs it with input, and returns the closed
// execution.
func (l *local) run(t testing.TB, file string, src []byte, input string) sfn.Execution {
	t.Helper()
	ctx := context.Background()
	checked, err := workflow.Load(file, src, nil)
	require.NoError(t, err)
	m, err := workflow.Compile(checked)
	require.NoError(t, err)
	def, err := m.MarshalJSON()
	require.NoError(t, err)
	definition := strings.ReplaceAll(string(def), workflow.AIQueueSubstitution, l.aiURL)
	sm, err := l.eng.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: checked.Workflow.Name, Definition: definition})
	require.NoError(t, err, "creating it again with the same definition returns it")
	started, err := l.eng.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Input: input})
	require.NoError(t, err)
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	require.NoError(t, l.eng.Wait(waitCtx, started.ExecutionARN))
	d, err := l.eng.DescribeExecution(ctx, started.ExecutionARN)
	require.NoError(t, err)
	return d
}

// byStep answers each call by the step its system prompt belongs to.
func byStep(answers map[string]func(req ai.Request) ai.Response) *stepstest.Provider {
	return &stepstest.Provider{StreamFunc: func(ctx context.Context, req ai.Request, onDelta func(ai.Delta) error) (ai.Response, error) {
		for prefix, answer := range answers {
			if strings.HasPrefix(req.System, prefix) {
				return stepstest.Stream(answer(req), onDelta)
			}
		}
		return ai.Response{}, &ai.Error{Code: ai.CodeInvalidRequest, Message: "no answer for the system prompt " + req.System}
	}}
}

func TestDocumentSummaryRunsOnTheLocalEngine(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../../examples/document-summary.yaml")
	require.NoError(t, err)
	input, err := os.ReadFile("../../examples/mocks/document-summary.input.json")
	require.NoError(t, err)
	// The example names anthropic models; here the fake serves them.
	src = []byte(strings.ReplaceAll(string(src), "model: anthropic/", "model: fake/"))

	p := byStep(map[string]func(ai.Request) ai.Response{
		"You summarize one part": func(req ai.Request) ai.Response {
			prompt := req.Messages[0].Content[0].Text
			return ai.Response{Text: "Summary of " + prompt[strings.LastIndex(prompt, "\n")+1:], StopReason: ai.StopEndTurn, Usage: ai.Usage{InputTokens: 100, OutputTokens: 20}}
		},
		"You are given the summaries": func(req ai.Request) ai.Response {
			return ai.Response{Text: "```json\n{\"summary\": \"Three parts.\", \"key_points\": [\"one\", \"two\"], \"missing_parts\": false}\n```", StopReason: ai.StopEndTurn, Usage: ai.Usage{InputTokens: 300, OutputTokens: 50}}
		},
	})
	l := startLocal(t, p, nil)
	d := l.run(t, "document-summary.yaml", src, string(input))
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
	require.JSONEq(t, `{
		"title": "A short document",
		"summary": "Three parts.",
		"key_points": ["one", "two"],
		"incomplete": false,
		"parts": [
			{"part": 0, "summary": "Summary of The first part."},
			{"part": 1, "summary": "Summary of The second part."},
			{"part": 2, "summary": "Summary of The third part."}
		]}`, d.Output)

	// The reduce step got the map's result as JSON, and asked for
	// structured output.
	var reduce ai.Request
	for _, r := range p.Requests() {
		if r.Model == "claude-sonnet-4" {
			reduce = r
		}
	}
	require.NotNil(t, reduce.Output)
	require.JSONEq(t, `[{"part":0,"summary":"Summary of The first part."},{"part":1,"summary":"Summary of The second part."},{"part":2,"summary":"Summary of The third part."}]`, reduce.Messages[0].Content[0].Text)

	// Four model calls, 600 input and 110 output tokens, all recorded.
	usage, err := l.details.ExecutionUsage(context.Background(), d.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, ai.Usage{InputTokens: 600, OutputTokens: 110}, usage)
	finished := 0
	for _, det := range l.details.Details(d.ExecutionARN) {
		if det.Type == steps.DetailStepFinished {
			finished++
			require.Equal(t, "succeeded", det.Data.(steps.StepSummary).Outcome)
		}
	}
	require.Equal(t, 4, finished)
}

const triage = `name: triage
input:
  type: object
  required: [message]
  properties:
    message: {type: string}
steps:
  - id: classify
    ai:
      model: fake/small
      system: You classify support messages.
      prompt: "Classify this message: {{ input.message }}"
      temperature: 0
      output_schema:
        type: object
        required: [category]
        additionalProperties: false
        properties:
          category: {type: string, enum: [billing, bug, other]}
    catch:
      - errors: [AI.OutputInvalid]
        next: unclassified
  - id: classified
    set:
      category: "{{ steps.classify.output.category }}"
    next: done
  - id: unclassified
    set:
      category: unknown
      why: "{{ steps.classify.error.Cause }}"
  - id: done
    succeed: {}
`

func TestAIStepOnTheLocalEngine(t *testing.T) {
	t.Parallel()
	answers := map[string]string{
		"The invoice is wrong": `{"category": "billing"}`,
		"Hello":                `{"category": "greeting"}`,
	}
	p := &stepstest.Provider{StreamFunc: func(ctx context.Context, req ai.Request, onDelta func(ai.Delta) error) (ai.Response, error) {
		msg := strings.TrimPrefix(req.Messages[0].Content[0].Text, "Classify this message: ")
		return stepstest.Stream(ai.Response{Text: answers[msg], StopReason: ai.StopEndTurn, Usage: ai.Usage{InputTokens: 250000, OutputTokens: 1000}}, onDelta)
	}}
	l := startLocal(t, p, nil)

	t.Run("success", func(t *testing.T) {
		t.Parallel()
		d := l.run(t, "triage.yaml", []byte(triage), `{"message": "The invoice is wrong"}`)
		require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
		var out struct {
			Steps map[string]json.RawMessage `json:"steps"`
		}
		require.NoError(t, json.Unmarshal([]byte(d.Output), &out))
		require.JSONEq(t, `{"output":{"category":"billing"},"usage":{"input_tokens":250000,"output_tokens":1000,"cost_usd":0.254,"calls":1,"turns":1}}`, string(out.Steps["classify"]))
		require.JSONEq(t, `{"output":{"category":"billing"}}`, string(out.Steps["classified"]))
	})
	t.Run("output invalid is caught", func(t *testing.T) {
		t.Parallel()
		d := l.run(t, "triage.yaml", []byte(triage), `{"message": "Hello"}`)
		require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
		var out struct {
			Steps struct {
				Classify struct {
					Error struct{ Error, Cause string }
				}
				Unclassified struct {
					Output struct{ Category, Why string }
				}
			}
		}
		require.NoError(t, json.Unmarshal([]byte(d.Output), &out))
		require.Equal(t, "AI.OutputInvalid", out.Steps.Classify.Error.Error)
		require.Equal(t, "unknown", out.Steps.Unclassified.Output.Category)
		require.Contains(t, out.Steps.Unclassified.Output.Why, "at /category: value must be one of")
		usage, err := l.details.ExecutionUsage(context.Background(), d.ExecutionARN)
		require.NoError(t, err)
		require.Equal(t, ai.Usage{InputTokens: 500000, OutputTokens: 2000}, usage, "both calls count")
	})
}

// researchTools serves the research example's tools in process.
func researchTools(t testing.TB) *steps.InProcessTools {
	t.Helper()
	tools := &steps.InProcessTools{}
	require.NoError(t, tools.Add(steps.ToolInfo{Name: "research/web_search", Description: "Search the web.",
		InputSchema: json.RawMessage(`{"type":"object","required":["query"],"properties":{"query":{"type":"string"}}}`)},
		func(ctx context.Context, args json.RawMessage) (string, error) {
			return `[{"title":"Quotas","url":"https://docs.example.com/sfn/quotas"}]`, nil
		}))
	require.NoError(t, tools.Add(steps.ToolInfo{Name: "research/fetch_page", Description: "Fetch a page as text.",
		InputSchema: json.RawMessage(`{"type":"object","required":["url"],"properties":{"url":{"type":"string"}}}`)},
		func(ctx context.Context, args json.RawMessage) (string, error) {
			var in struct{ URL string }
			if err := json.Unmarshal(args, &in); err != nil {
				return "", err
			}
			return "Execution history is kept for 90 days after the execution closes. (" + in.URL + ")", nil
		}))
	return tools
}

// researcher plays the research example's model: search, fetch, answer.
func researcher() *stepstest.Provider {
	return &stepstest.Provider{StreamFunc: func(ctx context.Context, req ai.Request, onDelta func(ai.Delta) error) (ai.Response, error) {
		usage := ai.Usage{InputTokens: 1000, OutputTokens: 100}
		switch len(req.Messages) {
		case 1:
			return stepstest.Stream(ai.Response{Text: "Let me search.", StopReason: ai.StopToolUse, Usage: usage, ToolCalls: []ai.ToolCall{
				{ID: "s1", Name: "research__web_search", Arguments: json.RawMessage(`{"query":"step functions history retention"}`)}}}, onDelta)
		case 3:
			return stepstest.Stream(ai.Response{StopReason: ai.StopToolUse, Usage: usage, ToolCalls: []ai.ToolCall{
				{ID: "f1", Name: "research__fetch_page", Arguments: json.RawMessage(`{"url":"https://docs.example.com/sfn/quotas"}`)}}}, onDelta)
		}
		last := req.Messages[len(req.Messages)-1].Content[0].ToolResult
		answer, _ := json.Marshal(map[string]any{
			"answer":     "90 days after it closes. The page said: " + last.Content,
			"sources":    []any{map[string]any{"title": "Quotas", "url": "https://docs.example.com/sfn/quotas"}},
			"confidence": "high",
		})
		return stepstest.Stream(ai.Response{Text: string(answer), StopReason: ai.StopEndTurn, Usage: usage}, onDelta)
	}}
}

func TestResearchAgentRunsOnTheLocalEngine(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../../examples/research-agent.yaml")
	require.NoError(t, err)
	src = []byte(strings.ReplaceAll(string(src), "model: anthropic/", "model: fake/"))
	input := `{"question": "How long does AWS Step Functions keep the history of a Standard workflow execution?"}`

	t.Run("answers", func(t *testing.T) {
		t.Parallel()
		l := startLocal(t, researcher(), func(c *steps.AIConfig) { c.Tools = researchTools(t) })
		d := l.run(t, "research-agent.yaml", src, input)
		require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
		var out struct {
			Answer     string
			Confidence string
			Sources    []struct{ Title, URL string }
		}
		require.NoError(t, json.Unmarshal([]byte(d.Output), &out))
		require.Contains(t, out.Answer, "Execution history is kept for 90 days")
		require.Equal(t, "high", out.Confidence)
		require.Len(t, out.Sources, 1)

		var turns []string
		for _, det := range l.details.Details(d.ExecutionARN) {
			switch v := det.Data.(type) {
			case steps.ModelCall:
				turns = append(turns, "model")
			case steps.ToolCall:
				turns = append(turns, v.Tool)
			case steps.StepSummary:
				require.Equal(t, steps.StepUsage{InputTokens: 3000, OutputTokens: 300, Calls: 3, Turns: 3}, v.StepUsage)
			}
		}
		require.Equal(t, []string{"model", "research/web_search", "model", "research/fetch_page", "model"}, turns)
	})
	t.Run("over budget", func(t *testing.T) {
		t.Parallel()
		l := startLocal(t, researcher(), func(c *steps.AIConfig) {
			c.Tools = researchTools(t)
			c.StepTokenBudget = 2000
		})
		d := l.run(t, "research-agent.yaml", src, input)
		require.Equal(t, sfn.StatusFailed, d.Status)
		require.Equal(t, "Research.OverBudget", d.Error, "AI.BudgetExceeded was caught")
	})
}

// TestStoppingTheExecutionCancelsTheModelCall stops an execution while its
// ai step waits for the model: the worker's next heartbeat learns that the
// task closed and cancels the call.
func TestStoppingTheExecutionCancelsTheModelCall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	calling := make(chan struct{})
	cancelled := make(chan error, 1)
	p := &stepstest.Provider{StreamFunc: func(ctx context.Context, req ai.Request, onDelta func(ai.Delta) error) (ai.Response, error) {
		close(calling)
		<-ctx.Done()
		cancelled <- ctx.Err()
		return ai.Response{}, ctx.Err()
	}}
	l := startLocalWith(t, p, nil, func(_ *local, c *steps.RuntimeConfig) { c.HeartbeatInterval = 10 * time.Millisecond })
	checked, err := workflow.Load("triage.yaml", []byte(triage), nil)
	require.NoError(t, err)
	m, err := workflow.Compile(checked)
	require.NoError(t, err)
	def, err := m.MarshalJSON()
	require.NoError(t, err)
	sm, err := l.eng.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "stopped", Definition: strings.ReplaceAll(string(def), workflow.AIQueueSubstitution, l.aiURL)})
	require.NoError(t, err)
	started, err := l.eng.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Input: `{"message": "Hello"}`})
	require.NoError(t, err)
	<-calling
	_, err = l.eng.StopExecution(ctx, sfn.StopExecutionInput{ExecutionARN: started.ExecutionARN, Error: "User.Stopped", Cause: "no longer needed"})
	require.NoError(t, err)
	require.ErrorIs(t, <-cancelled, context.Canceled)
	d, err := l.eng.DescribeExecution(ctx, started.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusAborted, d.Status)
}

// TestCallbacksOverTheStepFunctionsAPI runs the worker with the callbacks
// of functions/aistep, the sfn client of package awssfn, against the
// engine's Step Functions API over HTTP: answers, heartbeats and the
// errors of a closed task travel the AWS wire format.
func TestCallbacksOverTheStepFunctionsAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var beats atomic.Int32
	p := &stepstest.Provider{StreamFunc: func(ctx context.Context, req ai.Request, onDelta func(ai.Delta) error) (ai.Response, error) {
		// Answer once two heartbeats went through.
		for beats.Load() < 2 {
			if err := ai.Sleep(ctx, time.Millisecond); err != nil {
				return ai.Response{}, err
			}
		}
		return stepstest.Stream(ai.Response{Text: `{"category": "bug"}`, StopReason: ai.StopEndTurn, Usage: ai.Usage{InputTokens: 20, OutputTokens: 5}}, onDelta)
	}}
	l := startLocalWith(t, p, nil, func(l *local, c *steps.RuntimeConfig) {
		srv := httptest.NewServer(sfnapi.NewHandler(l.eng, sfnapi.Options{}))
		t.Cleanup(srv.Close)
		client, err := awssfn.NewClient(ctx, srv.URL, "")
		require.NoError(t, err)
		c.Callbacks = countingHeartbeats{Client: awssfn.New(client), n: &beats}
		c.HeartbeatInterval = 10 * time.Millisecond
	})
	d := l.run(t, "triage.yaml", []byte(triage), `{"message": "The app crashes"}`)
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
	require.Contains(t, d.Output, `"classify":{"output":{"category":"bug"}`)
	require.GreaterOrEqual(t, beats.Load(), int32(2))

	// A task that is gone answers TaskTimedOut over the wire too.
	err := awssfnClient(t, l).SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: strings.Repeat("x", 20), Output: "{}"})
	require.Error(t, err)
	require.True(t, sfn.TaskGone(err), "%v", err)
}

// countingHeartbeats counts the heartbeats that reach the API.
type countingHeartbeats struct {
	*awssfn.Client
	n *atomic.Int32
}

func (c countingHeartbeats) SendTaskHeartbeat(ctx context.Context, token string) error {
	err := c.Client.SendTaskHeartbeat(ctx, token)
	if err == nil {
		c.n.Add(1)
	}
	return err
}

func awssfnClient(t *testing.T, l *local) *awssfn.Client {
	t.Helper()
	srv := httptest.NewServer(sfnapi.NewHandler(l.eng, sfnapi.Options{}))
	t.Cleanup(srv.Close)
	client, err := awssfn.NewClient(context.Background(), srv.URL, "")
	require.NoError(t, err)
	return awssfn.New(client)
}
