package steps_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/ai/scripted"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/workflow"
)

// stopwatch times each task from the engine's SendMessage (dispatch) to
// the worker's SendTaskSuccess (callback), by task token.
type stopwatch struct {
	queues sfn.QueueSender
	eng    *engine.Engine

	mu    sync.Mutex
	sent  map[string]time.Time
	spans []time.Duration
}

func (s *stopwatch) SendMessage(ctx context.Context, p sfn.SendMessageParams) (string, error) {
	var m struct {
		TaskToken string `json:"taskToken"`
	}
	if err := json.Unmarshal([]byte(p.Body), &m); err == nil {
		s.mu.Lock()
		s.sent[m.TaskToken] = time.Now()
		s.mu.Unlock()
	}
	return s.queues.SendMessage(ctx, p)
}

func (s *stopwatch) SendTaskSuccess(ctx context.Context, in sfn.SendTaskSuccessInput) error {
	s.mu.Lock()
	if t, ok := s.sent[in.TaskToken]; ok {
		s.spans = append(s.spans, time.Since(t))
		delete(s.sent, in.TaskToken)
	}
	s.mu.Unlock()
	return s.eng.SendTaskSuccess(ctx, in)
}

func (s *stopwatch) SendTaskFailure(ctx context.Context, in sfn.SendTaskFailureInput) error {
	return s.eng.SendTaskFailure(ctx, in)
}

func (s *stopwatch) SendTaskHeartbeat(ctx context.Context, token string) error {
	return s.eng.SendTaskHeartbeat(ctx, token)
}

// percentile returns the p-th percentile (0 to 100) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

const overheadWorkflow = `name: overhead
input:
  type: object
  required: [message]
  properties:
    message: {type: string}
steps:
  - id: answer
    ai:
      model: scripted/fast
      system: You answer briefly.
      prompt: "Answer: {{ input.message }}"
      max_tokens: 50
`

// BenchmarkAIStepOverhead measures what aiflow adds to a model call in an
// ai step: from the engine dispatching the task's message to the worker's
// SendTaskSuccess, through the in-process queue, the step runtime, the ai
// handler (retrier, streaming to the broker, usage, detail events in
// memory) and a scripted provider that answers at once. One execution at
// a time, so the numbers are latencies, not throughput.
func BenchmarkAIStepOverhead(b *testing.B) {
	ctx := context.Background()
	script, err := scripted.Parse([]byte("turns:\n  - repeat: true\n    reply: {text: Fine., usage: {input_tokens: 12, output_tokens: 2}}\n"))
	require.NoError(b, err)
	queues := queue.New(queue.Config{})
	defer queues.Close()
	sw := &stopwatch{queues: queues, sent: map[string]time.Time{}}
	eng, err := engine.New(engine.Config{Store: engine.NewMemoryStore(), Queues: sw})
	require.NoError(b, err)
	require.NoError(b, eng.Start(ctx))
	defer eng.Close()
	sw.eng = eng
	url, err := queues.CreateQueue(queue.QueueConfig{Name: "ai-steps"})
	require.NoError(b, err)
	h := steps.NewAI(steps.AIConfig{
		Providers: map[string]ai.Provider{"scripted": scripted.New(script, scripted.Options{})},
		Broker:    &steps.Broker{},
		Details:   &steps.MemoryDetails{},
		Prices:    steps.PriceTable{"scripted/fast": {InputPerMillion: 1, OutputPerMillion: 2}},
	})
	rt, err := steps.NewRuntime(steps.RuntimeConfig{Callbacks: sw, Handlers: map[string]steps.Handler{"ai": h}})
	require.NoError(b, err)
	stop, err := queues.Subscribe(url, rt.Handle, queue.MappingConfig{ReportBatchItemFailures: true, MaxConcurrency: 10})
	require.NoError(b, err)
	defer stop()

	checked, err := workflow.Load("overhead.yaml", []byte(overheadWorkflow), nil)
	require.NoError(b, err)
	m, err := workflow.Compile(checked)
	require.NoError(b, err)
	def, err := m.MarshalJSON()
	require.NoError(b, err)
	sm, err := eng.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "overhead", Definition: strings.ReplaceAll(string(def), workflow.AIQueueSubstitution, url)})
	require.NoError(b, err)

	var executions []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		st, err := eng.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Input: `{"message":"hi"}`})
		if err != nil {
			b.Fatal(err)
		}
		if err := eng.Wait(ctx, st.ExecutionARN); err != nil {
			b.Fatal(err)
		}
		executions = append(executions, time.Since(start))
	}
	b.StopTimer()
	sw.mu.Lock()
	spans := slices.Clone(sw.spans)
	sw.mu.Unlock()
	require.Len(b, spans, len(executions), "every task called back")
	slices.Sort(spans)
	slices.Sort(executions)
	b.ReportMetric(float64(percentile(spans, 50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(percentile(spans, 99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(percentile(executions, 50).Microseconds()), "exec-p50-µs")
}
