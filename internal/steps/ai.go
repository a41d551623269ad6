package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/ai"
)

// AISpec is the spec of an ai step's message, fixed when the workflow was
// compiled.
type AISpec struct {
	// Model is "provider/model", such as "anthropic/claude-haiku-4-5".
	Model          string          `json:"model"`
	Temperature    *float64        `json:"temperature,omitempty"`
	MaxTokens      int             `json:"max_tokens,omitempty"`
	TopP           *float64        `json:"top_p,omitempty"`
	Stop           []string        `json:"stop,omitempty"`
	OutputSchema   json.RawMessage `json:"output_schema,omitempty"`
	Tools          []string        `json:"tools,omitempty"`
	MaxTurns       int             `json:"max_turns,omitempty"`
	TimeoutSeconds int             `json:"timeout_seconds,omitempty"`
}

// AIData is the data of an ai step's message, rendered by the state
// machine: the system prompt and the prompt. Each is a text, or any JSON
// value (a template that is one {{ path }}), which the model gets as JSON.
type AIData struct {
	System json.RawMessage `json:"system,omitempty"`
	Prompt json.RawMessage `json:"prompt,omitempty"`
}

// AIConfig configures NewAI.
type AIConfig struct {
	// Providers are the model APIs by the name a workflow's model starts
	// with: "anthropic", "openai", "bedrock", "scripted".
	Providers map[string]ai.Provider
	// DefaultProvider serves a model named without "provider/"; empty
	// makes such a model an AI.InvalidRequest.
	DefaultProvider string
	// Retrier retries retryable failures of each model call inside the
	// step's deadline.
	Retrier ai.Retrier
	// Broker, if set, receives the streamed text of every call.
	Broker *Broker
	// Tools runs the tools of agent steps; nil fails a step with tools as
	// AI.ToolUnavailable.
	Tools ToolRunner
	// Prices turns tokens into cost.
	Prices PriceTable
	// StepTokenBudget and ExecutionTokenBudget, when over 0, stop a step
	// with AI.BudgetExceeded once its own tokens, or its execution's
	// (every ai step recorded in Details, this one included), are over
	// them. The execution's budget needs Details.
	StepTokenBudget      int
	ExecutionTokenBudget int
	// Details, if set, records the detail events of every call, tool call
	// and step.
	Details DetailRecorder
	// NowFunc is the clock of latencies; nil means time.Now.
	NowFunc func() time.Time
	// Logger receives detail events that could not be recorded; nil
	// discards.
	Logger *slog.Logger
	// TracerProvider makes a span per model call (GenAI semantic
	// conventions) and per tool call; nil means the OpenTelemetry global
	// (no-op until tracing is set up).
	TracerProvider trace.TracerProvider
}

// AI is the Handler of ai steps.
type AI struct {
	cfg     AIConfig
	now     func() time.Time
	log     *slog.Logger
	schemas schemaCache
	tracer  trace.Tracer
}

var _ Handler = (*AI)(nil)

// NewAI returns the ai step handler.
func NewAI(cfg AIConfig) *AI {
	h := &AI{cfg: cfg, now: cfg.NowFunc, log: cfg.Logger, tracer: tracerOf(cfg.TracerProvider)}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h
}

// aiRun is the state of one step's run.
type aiRun struct {
	h         *AI
	m         Message
	provider  ai.Provider
	pname     string
	model     string
	usage     StepUsage
	execStart ai.Usage // the execution's tokens before this step
	started   time.Time
	// unrecorded holds the details the store failed to take, appended
	// again before the step reports (see details.go).
	unrecorded []Detail
}

// Run runs an ai step: one model call, or an agent loop when the step has
// tools, with one more call when the answer does not fit the output
// schema. Its errors are *ai.Error (the AI.* codes, AI.MaxTurnsExceeded and
// AI.ToolUnavailable of this package) or a *Failure for a malformed
// message.
func (h *AI) Run(ctx context.Context, m Message) (Result, error) {
	var spec AISpec
	if err := json.Unmarshal(m.Spec, &spec); err != nil {
		return Result{}, Failf(CodeMalformedMessage, "reading the spec of ai step %q: %v", m.Step.ID, err)
	}
	var data AIData
	if len(m.Data) > 0 {
		if err := json.Unmarshal(m.Data, &data); err != nil {
			return Result{}, Failf(CodeMalformedMessage, "reading the data of ai step %q: %v", m.Step.ID, err)
		}
	}
	r := &aiRun{h: h, m: m, started: h.now()}
	res, err := r.run(ctx, spec, data)
	r.finish(ctx, err)
	return r.withDetails(ctx, res, err)
}

func (r *aiRun) run(ctx context.Context, spec AISpec, data AIData) (Result, error) {
	h := r.h
	var err error
	if r.provider, r.pname, r.model, err = h.resolve(spec.Model); err != nil {
		return Result{}, err
	}
	system, err := promptText(data.System)
	if err != nil {
		return Result{}, Failf(CodeMalformedMessage, "reading the system prompt of ai step %q: %v", r.m.Step.ID, err)
	}
	prompt, err := promptText(data.Prompt)
	if err != nil {
		return Result{}, Failf(CodeMalformedMessage, "reading the prompt of ai step %q: %v", r.m.Step.ID, err)
	}
	req := ai.Request{
		Model:         r.model,
		System:        system,
		Messages:      []ai.Message{{Role: ai.RoleUser, Content: []ai.Part{{Text: prompt}}}},
		Temperature:   spec.Temperature,
		TopP:          spec.TopP,
		MaxTokens:     spec.MaxTokens,
		StopSequences: spec.Stop,
	}
	schemaSet := len(spec.OutputSchema) > 0 && string(spec.OutputSchema) != "null"
	var schema *jsonschema.Schema
	if schemaSet {
		if schema, err = h.schemas.compile(spec.OutputSchema); err != nil {
			return Result{}, ai.Errorf(ai.CodeInvalidRequest, "step %q: %v", r.m.Step.ID, err)
		}
		req.Output = &ai.OutputSchema{Name: outputName(r.m.Step.ID), Schema: spec.OutputSchema}
	}
	var toolNames map[string]string
	if len(spec.Tools) > 0 {
		if req.Tools, toolNames, err = stepTools(ctx, h.cfg.Tools, spec.Tools); err != nil {
			return Result{}, err
		}
	}
	if h.cfg.ExecutionTokenBudget > 0 && h.cfg.Details != nil {
		if r.execStart, err = h.cfg.Details.ExecutionUsage(ctx, r.m.Execution.ID); err != nil {
			return Result{}, ai.Errorf(ai.CodeUnavailable, "reading the token usage of the execution: %v", err)
		}
		if err := r.checkBudget(); err != nil {
			return Result{}, err
		}
	}
	maxTurns := 1
	if len(req.Tools) > 0 {
		maxTurns = max(spec.MaxTurns, 1)
	}
	askedAgain := false
	for turn := 1; turn <= maxTurns; {
		resp, err := r.call(ctx, turn, req)
		if err != nil {
			return Result{}, err
		}
		if resp.StopReason == ai.StopContentFiltered {
			return Result{}, ai.Errorf(ai.CodeContentFiltered, "the model %s stopped its answer to step %q: content filtered", spec.Model, r.m.Step.ID)
		}
		if len(resp.ToolCalls) > 0 && len(req.Tools) > 0 {
			req.Messages = append(req.Messages, assistantMessage(resp))
			results, err := r.runTools(ctx, turn, resp.ToolCalls, toolNames)
			if err != nil {
				return Result{}, err
			}
			req.Messages = append(req.Messages, ai.Message{Role: ai.RoleUser, Content: results})
			turn++
			continue
		}
		if schema == nil {
			return Result{Output: resp.Text, Usage: r.report()}, nil
		}
		out, ms := parseAnswer(resp.Text, schema)
		if ms == nil {
			return Result{Output: out, Usage: r.report()}, nil
		}
		if askedAgain {
			return Result{}, &ai.Error{Code: ai.CodeOutputInvalid, Provider: r.pname,
				Message: fmt.Sprintf("step %q: the answer does not match the output schema, even when asked again: %s", r.m.Step.ID, describeMismatches(ms))}
		}
		// Ask once more, showing the model its answer and what is wrong
		// with it. This call is not a turn of the agent loop.
		askedAgain = true
		again := "Your answer does not match the required JSON Schema: " + describeMismatches(ms) +
			". Answer again with only a JSON value that matches the schema, and nothing else."
		if strings.TrimSpace(resp.Text) == "" {
			// The model APIs refuse an empty assistant turn: say so in
			// the request instead.
			again = "Your answer was empty. " + again
		} else {
			req.Messages = append(req.Messages, ai.Message{Role: ai.RoleAssistant, Content: []ai.Part{{Text: resp.Text}}})
		}
		req.Messages = append(req.Messages, ai.Message{Role: ai.RoleUser, Content: []ai.Part{{Text: again}}})
	}
	return Result{}, &ai.Error{Code: CodeMaxTurnsExceeded, Provider: r.pname,
		Message: fmt.Sprintf("step %q: the model still asked for tools after %d turns (max_turns)", r.m.Step.ID, maxTurns)}
}

// outputName is the name of a step's structured output: model APIs take
// letters, digits, "_" and "-".
func outputName(step string) string {
	return "step_" + step
}

// resolve finds the provider of "provider/model".
func (h *AI) resolve(model string) (ai.Provider, string, string, error) {
	name, id, ok := strings.Cut(model, "/")
	if !ok {
		name, id = h.cfg.DefaultProvider, model
		if name == "" {
			return nil, "", "", ai.Errorf(ai.CodeInvalidRequest, "the model %q names no provider: write provider/model, such as anthropic/claude-haiku-4-5", model)
		}
	}
	p := h.cfg.Providers[name]
	if p == nil {
		names := slices.Sorted(maps.Keys(h.cfg.Providers))
		return nil, "", "", ai.Errorf(ai.CodeInvalidRequest, "the model %q needs the provider %q, which this worker does not have (it has: %s)", model, name, strings.Join(names, ", "))
	}
	if id == "" {
		return nil, "", "", ai.Errorf(ai.CodeInvalidRequest, "the model %q has no model id after %q", model, name+"/")
	}
	return p, name, id, nil
}

// promptText turns a rendered prompt into text: a JSON string as it is,
// any other value as JSON.
func promptText(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	}
	if !json.Valid(raw) {
		return "", errors.New("not JSON")
	}
	return string(raw), nil
}

// call makes one model call, streamed and retried, and accounts for it.
func (r *aiRun) call(ctx context.Context, turn int, req ai.Request) (ai.Response, error) {
	h := r.h
	onDelta := func(ai.Delta) error { return nil }
	if h.cfg.Broker != nil {
		onDelta = func(d ai.Delta) error {
			h.cfg.Broker.Publish(StreamEvent{ExecutionID: r.m.Execution.ID, StepID: r.m.Step.ID, Attempt: r.m.Step.Attempt, Turn: turn, Text: d.Text})
			return nil
		}
	}
	start := h.now()
	res, err := h.cfg.Retrier.DoResult(ctx, func(ctx context.Context) (ai.Response, error) {
		ctx, span := r.startModelCall(ctx, turn, req)
		resp, err := r.provider.Stream(ctx, req, onDelta)
		endModelCall(span, resp, err)
		return resp, err
	})
	latency := h.now().Sub(start)
	resp := res.Response
	r.usage.Calls += res.Attempts
	r.usage.Turns = max(r.usage.Turns, turn)
	r.usage.InputTokens += resp.Usage.InputTokens
	r.usage.OutputTokens += resp.Usage.OutputTokens
	cost, _ := h.cfg.Prices.Cost(r.pname, r.model, resp.Usage)
	r.usage.CostUSD += cost
	call := ModelCall{
		Step: r.m.Step.ID, StepAttempt: r.m.Step.Attempt, Turn: turn,
		Provider: r.pname, Model: r.model,
		InputTokens: resp.Usage.InputTokens, OutputTokens: resp.Usage.OutputTokens, CostUSD: cost,
		LatencyMS: latency.Milliseconds(), Attempts: res.Attempts,
		StopReason: string(resp.StopReason), ToolCalls: len(resp.ToolCalls),
	}
	if err != nil {
		call.Error = string(ai.CodeOf(err))
	}
	r.record(ctx, DetailModelCalled, call)
	if err != nil {
		return ai.Response{}, err
	}
	if err := r.checkBudget(); err != nil {
		return ai.Response{}, err
	}
	return resp, nil
}

// checkBudget fails with AI.BudgetExceeded when the step or its execution
// is over its token budget.
func (r *aiRun) checkBudget() error {
	cfg := r.h.cfg
	spent := r.usage.Tokens()
	if cfg.StepTokenBudget > 0 && spent > cfg.StepTokenBudget {
		return ai.Errorf(ai.CodeBudgetExceeded, "step %q used %d tokens, over its budget of %d", r.m.Step.ID, spent, cfg.StepTokenBudget)
	}
	if cfg.ExecutionTokenBudget > 0 && cfg.Details != nil {
		total := r.execStart.InputTokens + r.execStart.OutputTokens + spent
		if total > cfg.ExecutionTokenBudget {
			return ai.Errorf(ai.CodeBudgetExceeded, "the execution used %d tokens with step %q, over its budget of %d", total, r.m.Step.ID, cfg.ExecutionTokenBudget)
		}
	}
	return nil
}

// assistantMessage is the model's turn as the conversation keeps it.
func assistantMessage(resp ai.Response) ai.Message {
	msg := ai.Message{Role: ai.RoleAssistant}
	if resp.Text != "" {
		msg.Content = append(msg.Content, ai.Part{Text: resp.Text})
	}
	for _, c := range resp.ToolCalls {
		msg.Content = append(msg.Content, ai.Part{ToolCall: &c})
	}
	return msg
}

// runTools runs the tool calls of a turn, in order, and returns their
// results for the model.
func (r *aiRun) runTools(ctx context.Context, turn int, calls []ai.ToolCall, names map[string]string) ([]ai.Part, error) {
	h := r.h
	parts := make([]ai.Part, 0, len(calls))
	for _, c := range calls {
		name, ok := names[c.Name]
		var (
			out     string
			isError bool
			err     error
		)
		start := h.now()
		if !ok {
			out, isError = fmt.Sprintf("there is no tool %q; the tools are: %s", c.Name, strings.Join(slices.Sorted(maps.Keys(names)), ", ")), true
			name = c.Name
		} else {
			args := c.Arguments
			if len(args) == 0 {
				args = json.RawMessage(`{}`)
			}
			tctx, span := r.startToolCall(ctx, c, name)
			out, isError, err = h.cfg.Tools.CallTool(tctx, name, args)
			endSpan(span, err)
		}
		tc := ToolCall{Step: r.m.Step.ID, StepAttempt: r.m.Step.Attempt, Turn: turn, Tool: name, IsError: isError, LatencyMS: h.now().Sub(start).Milliseconds()}
		if err != nil {
			tc.Error = err.Error()
		}
		r.record(ctx, DetailToolCalled, tc)
		if err != nil {
			if ctx.Err() != nil {
				return nil, &ai.Error{Code: ai.CodeOf(ctx.Err()), Message: fmt.Sprintf("calling the tool %s: %v", name, err), Err: errors.Join(ctx.Err(), err)}
			}
			return nil, &ai.Error{Code: CodeToolUnavailable, Message: fmt.Sprintf("calling the tool %s: %v", name, err), Err: err}
		}
		parts = append(parts, ai.Part{ToolResult: &ai.ToolResult{CallID: c.ID, Content: out, IsError: isError}})
	}
	return parts, nil
}

// report returns the step's usage for its result.
func (r *aiRun) report() *StepUsage {
	u := r.usage
	return &u
}

// finish records the step's summary.
func (r *aiRun) finish(ctx context.Context, err error) {
	outcome := "succeeded"
	if err != nil {
		outcome = failureOf(err).Name
	}
	model := r.model
	if r.pname != "" {
		model = r.pname + "/" + r.model
	}
	r.record(ctx, DetailStepFinished, StepSummary{
		Step: r.m.Step.ID, StepAttempt: r.m.Step.Attempt, Model: model,
		StepUsage: r.usage, Outcome: outcome, LatencyMS: r.h.now().Sub(r.started).Milliseconds(),
	})
}

// detailTimeout bounds the recording of one detail event.
const detailTimeout = 5 * time.Second

// record appends a detail event. A detail that cannot be recorded now is
// kept and appended again before the step reports (see withDetails).
func (r *aiRun) record(ctx context.Context, typ string, data any) {
	if r.h.cfg.Details == nil {
		return
	}
	// A step that ran out of time still records what it spent, within a
	// bound of its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), detailTimeout)
	defer cancel()
	d := Detail{ExecutionID: r.m.Execution.ID, Type: typ, Data: data}
	if len(r.unrecorded) > 0 {
		r.unrecorded = append(r.unrecorded, d) // in order, after those waiting
		return
	}
	if err := r.h.cfg.Details.RecordDetail(ctx, d); err != nil {
		r.h.log.WarnContext(ctx, "recording a detail event; it is tried again before the step reports", "type", typ, "error", err)
		r.unrecorded = append(r.unrecorded, d)
	}
}
