package stepevent

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
