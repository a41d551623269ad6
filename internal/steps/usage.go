package steps

import (
	"context"
	"math"
	"sync"

	"github.com/aiflow/aiflow/internal/ai"
)

// StepUsage is what an ai step spent, reported beside its output at
// $.steps.<id>.usage: tokens over all its model calls, their cost in US
// dollars (0 when the price table has no price for the model), the model
// calls made (retries and the structured-output retry included) and the
// agent turns.
type StepUsage struct {
	InputTokens  int     `json:"input_tokens"`
	OutputTokens int     `json:"output_tokens"`
	CostUSD      float64 `json:"cost_usd"`
	Calls        int     `json:"calls"`
	Turns        int     `json:"turns"`
}

// Tokens returns the input and output tokens together.
func (u StepUsage) Tokens() int { return u.InputTokens + u.OutputTokens }

// Price is what a model costs, in US dollars per million tokens.
type Price struct {
	InputPerMillion  float64 `json:"input"`
	OutputPerMillion float64 `json:"output"`
}

// PriceTable holds the prices of models, keyed by the model as a workflow
// names it ("anthropic/claude-haiku-4-5") or by the bare model id
// ("claude-haiku-4-5"), the first winning.
type PriceTable map[string]Price

// Cost returns the cost of usage u of a model, and false when the table
// has no price for it.
func (t PriceTable) Cost(provider, model string, u ai.Usage) (float64, bool) {
	p, ok := t[provider+"/"+model]
	if !ok {
		p, ok = t[model]
	}
	if !ok {
		return 0, false
	}
	cost := (float64(u.InputTokens)*p.InputPerMillion + float64(u.OutputTokens)*p.OutputPerMillion) / 1e6
	return math.Round(cost*1e9) / 1e9, true
}

// Detail event types an ai step records on its execution's detail stream.
const (
	DetailModelCalled  = "AIModelCalled"
	DetailToolCalled   = "AIToolCalled"
	DetailStepFinished = "AIStepFinished"
)

// Detail is one detail event of an execution: Type is one of the Detail*
// constants and Data the matching ModelCall, ToolCall or StepSummary.
type Detail struct {
	ExecutionID string
	Type        string
	Data        any
}

// ModelCall is the data of an AIModelCalled event: one model call of a
// step, after the retries it took (Attempts counts them, from 1).
type ModelCall struct {
	Step         string  `json:"step"`
	StepAttempt  int     `json:"step_attempt"`
	Turn         int     `json:"turn"`
	Provider     string  `json:"provider"`
	Model        string  `json:"model"`
	InputTokens  int     `json:"input_tokens"`
	OutputTokens int     `json:"output_tokens"`
	CostUSD      float64 `json:"cost_usd"`
	LatencyMS    int64   `json:"latency_ms"`
	Attempts     int     `json:"attempts"`
	StopReason   string  `json:"stop_reason,omitempty"`
	ToolCalls    int     `json:"tool_calls,omitempty"`
	Error        string  `json:"error,omitempty"`
}

// ToolCall is the data of an AIToolCalled event: one tool call of an
// agent step's turn.
type ToolCall struct {
	Step        string `json:"step"`
	StepAttempt int    `json:"step_attempt"`
	Turn        int    `json:"turn"`
	Tool        string `json:"tool"`
	IsError     bool   `json:"is_error,omitempty"`
	LatencyMS   int64  `json:"latency_ms"`
	Error       string `json:"error,omitempty"`
}

// StepSummary is the data of an AIStepFinished event: what a step spent
// and how it ended ("succeeded", or the error name it failed with).
type StepSummary struct {
	Step        string `json:"step"`
	StepAttempt int    `json:"step_attempt"`
	Model       string `json:"model"`
	StepUsage
	Outcome   string `json:"outcome"`
	LatencyMS int64  `json:"latency_ms"`
}

// DetailRecorder keeps the detail events of executions: the event store's
// sibling stream of each execution on AWS and locally (package
// steps/detailstore), or memory (MemoryDetails). ExecutionUsage sums the
// tokens of an execution's recorded model calls, for its token budget.
type DetailRecorder interface {
	RecordDetail(ctx context.Context, d Detail) error
	ExecutionUsage(ctx context.Context, executionID string) (ai.Usage, error)
}

// MemoryDetails is a DetailRecorder in memory, for a single process (aiflow
// dev without a database, tests). It is safe for concurrent use.
type MemoryDetails struct {
	mu      sync.Mutex
	details map[string][]Detail
}

// RecordDetail keeps d. It never fails.
func (m *MemoryDetails) RecordDetail(_ context.Context, d Detail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.details == nil {
		m.details = map[string][]Detail{}
	}
	m.details[d.ExecutionID] = append(m.details[d.ExecutionID], d)
	return nil
}

// ExecutionUsage sums the tokens of the execution's model calls.
func (m *MemoryDetails) ExecutionUsage(_ context.Context, executionID string) (ai.Usage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var u ai.Usage
	for _, d := range m.details[executionID] {
		if c, ok := d.Data.(ModelCall); ok {
			u = u.Add(ai.Usage{InputTokens: c.InputTokens, OutputTokens: c.OutputTokens})
		}
	}
	return u, nil
}

// Details returns a copy of the execution's detail events, in the order
// they were recorded.
func (m *MemoryDetails) Details(executionID string) []Detail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Detail(nil), m.details[executionID]...)
}
