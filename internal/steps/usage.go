package steps

import (
	"context"
	"math"
	"sync"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/steps/stepevent"
)

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

// The vocabulary of what a step reports beside its result lives in
// package stepevent, apart from this package's handlers and their SDKs,
// so that readers of detail events and token streams (the API, the detail
// store) link none of them. These names are the same types.
type (
	// StepUsage is stepevent.StepUsage.
	StepUsage = stepevent.StepUsage
	// Detail is stepevent.Detail.
	Detail = stepevent.Detail
	// ModelCall is stepevent.ModelCall.
	ModelCall = stepevent.ModelCall
	// ToolCall is stepevent.ToolCall.
	ToolCall = stepevent.ToolCall
	// StepSummary is stepevent.StepSummary.
	StepSummary = stepevent.StepSummary
)

// Detail event types an ai step records on its execution's detail stream:
// stepevent's.
const (
	DetailModelCalled  = stepevent.DetailModelCalled
	DetailToolCalled   = stepevent.DetailToolCalled
	DetailStepFinished = stepevent.DetailStepFinished
)

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
