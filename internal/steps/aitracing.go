package steps

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// genAIProviders maps aiflow's provider names to the GenAI semantic
// conventions' gen_ai.provider.name values; a provider not listed keeps
// its own name.
var genAIProviders = map[string]string{
	"anthropic": "anthropic",
	"openai":    "openai",
	"bedrock":   "aws.bedrock",
}

// genAIFinishReasons maps ai.StopReason to the finish reasons the GenAI
// conventions use.
var genAIFinishReasons = map[ai.StopReason]string{
	ai.StopEndTurn:         "stop",
	ai.StopSequence:        "stop",
	ai.StopMaxTokens:       "length",
	ai.StopToolUse:         "tool_calls",
	ai.StopContentFiltered: "content_filter",
}

// startModelCall begins the client span of one model call (one attempt:
// a retried call has a span per attempt), as the OpenTelemetry GenAI
// semantic conventions describe an inference: "chat {model}". It is made
// here, around ai.Provider, so that every provider's calls have one.
func (r *aiRun) startModelCall(ctx context.Context, turn int, req ai.Request) (context.Context, trace.Span) {
	ctx, span := r.h.tracer.Start(ctx, "chat "+r.model, telemetry.ClientSpan)
	if !span.IsRecording() {
		return ctx, span
	}
	provider := genAIProviders[r.pname]
	if provider == "" {
		provider = r.pname
	}
	attrs := []attribute.KeyValue{
		attribute.String("gen_ai.operation.name", "chat"),
		attribute.String("gen_ai.provider.name", provider),
		attribute.String("gen_ai.system", provider),
		attribute.String("gen_ai.request.model", r.model),
		attribute.Int("aiflow.ai.turn", turn),
		attribute.String(attrStep, r.m.Step.ID),
	}
	if req.MaxTokens > 0 {
		attrs = append(attrs, attribute.Int("gen_ai.request.max_tokens", req.MaxTokens))
	}
	if req.Temperature != nil {
		attrs = append(attrs, attribute.Float64("gen_ai.request.temperature", *req.Temperature))
	}
	if req.TopP != nil {
		attrs = append(attrs, attribute.Float64("gen_ai.request.top_p", *req.TopP))
	}
	if len(req.StopSequences) > 0 {
		attrs = append(attrs, attribute.StringSlice("gen_ai.request.stop_sequences", req.StopSequences))
	}
	span.SetAttributes(attrs...)
	return ctx, span
}

// endModelCall records the call's answer (tokens, finish reason, the
// model that answered) or its error (error.type, the AI.* code).
func endModelCall(span trace.Span, resp ai.Response, err error) {
	defer span.End()
	if !span.IsRecording() {
		return
	}
	if err != nil {
		code := string(ai.CodeOf(err))
		if code == "" {
			code = "_OTHER"
		}
		span.SetAttributes(attribute.String("error.type", code))
		span.RecordError(err)
		span.SetStatus(codes.Error, code)
		return
	}
	reason := genAIFinishReasons[resp.StopReason]
	if reason == "" {
		reason = string(resp.StopReason)
	}
	attrs := []attribute.KeyValue{
		attribute.Int("gen_ai.usage.input_tokens", resp.Usage.InputTokens),
		attribute.Int("gen_ai.usage.output_tokens", resp.Usage.OutputTokens),
		attribute.StringSlice("gen_ai.response.finish_reasons", []string{reason}),
	}
	if resp.Model != "" {
		attrs = append(attrs, attribute.String("gen_ai.response.model", resp.Model))
	}
	span.SetAttributes(attrs...)
}

// startToolCall begins the span of one tool call of an agent step (the
// GenAI conventions' execute_tool); the MCP call it makes is its child.
func (r *aiRun) startToolCall(ctx context.Context, call ai.ToolCall, tool string) (context.Context, trace.Span) {
	return r.h.tracer.Start(ctx, "execute_tool "+tool, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attribute.String("gen_ai.operation.name", "execute_tool"), attribute.String("gen_ai.tool.name", tool),
			attribute.String("gen_ai.tool.call.id", call.ID), attribute.String(attrStep, r.m.Step.ID)))
}
