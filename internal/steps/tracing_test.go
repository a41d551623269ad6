package steps_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/steps/stepstest"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// TestAStepIsTracedFromItsMessageToItsCallback: the message's
// AWSTraceHeader is the parent of its consumer span; the model calls
// (one per attempt, with the GenAI attributes) and the callback are its
// children.
func TestAStepIsTracedFromItsMessageToItsCallback(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	p := &stepstest.Provider{StreamFunc: stepstest.Replies(ai.Errorf(ai.CodeThrottled, "slow down"), ai.Response{Text: "A summary.", StopReason: ai.StopEndTurn, Usage: ai.Usage{InputTokens: 120, OutputTokens: 30}, Model: "claude-haiku-4-5-20251001"})}
	h := steps.NewAI(steps.AIConfig{Providers: map[string]ai.Provider{"anthropic": p}, Retrier: noWait, TracerProvider: tp})
	cb := &stepstest.Callbacks{}
	rt := newRuntime(t, cb, map[string]steps.Handler{"ai": h}, func(c *steps.RuntimeConfig) { c.TracerProvider = tp })

	msg := body(t, "tok", "ai", map[string]any{"model": "anthropic/claude-haiku-4-5", "max_tokens": 400}, map[string]any{"prompt": "Summarize: it rained."})
	resp, err := rt.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{
		MessageId: "m1", Body: msg, EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:ai-steps",
		Attributes: map[string]string{"AWSTraceHeader": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"},
	}}})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.Len(t, cb.Successes(), 1)

	byName := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		require.Equal(t, "5759e988bd862e3fe1be46a994272793", s.SpanContext().TraceID().String(), s.Name())
		byName[s.Name()] = append(byName[s.Name()], s)
	}
	process := byName["process ai-steps"]
	require.Len(t, process, 1)
	require.Equal(t, "53995c3f42cd8ad8", process[0].Parent().SpanID().String())
	require.Contains(t, process[0].Attributes(), attribute.String("aiflow.execution.arn", execID))
	require.Contains(t, process[0].Attributes(), attribute.String("messaging.system", "aws_sqs"))

	chats := byName["chat claude-haiku-4-5"]
	require.Len(t, chats, 2, "one span per attempt")
	for _, c := range chats {
		require.Equal(t, process[0].SpanContext().SpanID(), c.Parent().SpanID())
		require.Contains(t, c.Attributes(), attribute.String("gen_ai.operation.name", "chat"))
		require.Contains(t, c.Attributes(), attribute.String("gen_ai.provider.name", "anthropic"))
		require.Contains(t, c.Attributes(), attribute.String("gen_ai.request.model", "claude-haiku-4-5"))
		require.Contains(t, c.Attributes(), attribute.Int("gen_ai.request.max_tokens", 400))
	}
	require.Equal(t, codes.Error, chats[0].Status().Code)
	require.Contains(t, chats[0].Attributes(), attribute.String("error.type", "AI.Throttled"))
	require.Contains(t, chats[1].Attributes(), attribute.Int("gen_ai.usage.input_tokens", 120))
	require.Contains(t, chats[1].Attributes(), attribute.Int("gen_ai.usage.output_tokens", 30))
	require.Contains(t, chats[1].Attributes(), attribute.StringSlice("gen_ai.response.finish_reasons", []string{"stop"}))
	require.Contains(t, chats[1].Attributes(), attribute.String("gen_ai.response.model", "claude-haiku-4-5-20251001"))

	success := byName["StepFunctions.SendTaskSuccess"]
	require.Len(t, success, 1)
	require.Equal(t, process[0].SpanContext().SpanID(), success[0].Parent().SpanID())
}

// TestAFailedStepIsAFailedSpan: the handler's error names the span's
// status, and SendTaskFailure is a span of its own.
func TestAFailedStepIsAFailedSpan(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	cb := &stepstest.Callbacks{}
	rt := newRuntime(t, cb, map[string]steps.Handler{"x": steps.HandlerFunc(func(context.Context, steps.Message) (steps.Result, error) {
		return steps.Result{}, steps.Failf("Custom.Broken", "it broke")
	})}, func(c *steps.RuntimeConfig) { c.TracerProvider = tp })
	_, err := rt.Handle(context.Background(), event(body(t, "tok", "x", map[string]any{}, map[string]any{})))
	require.NoError(t, err)
	require.Len(t, cb.Failures(), 1)
	spans := rec.Ended()
	require.Len(t, spans, 2)
	require.Equal(t, "StepFunctions.SendTaskFailure", spans[0].Name())
	require.Contains(t, spans[0].Attributes(), attribute.String("aiflow.step.error", "Custom.Broken"))
	require.Equal(t, "process", spans[1].Name())
	require.Equal(t, codes.Error, spans[1].Status().Code)
	require.False(t, spans[1].Parent().IsValid(), "a message without a trace header starts a trace")
}

// TestTheRuntimesLogLinesJoinTheTrace: a line the runtime logs about a
// message carries the message span's IDs, the execution and the step.
func TestTheRuntimesLogLinesJoinTheTrace(t *testing.T) {
	t.Parallel()
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	var logs bytes.Buffer
	cb := &stepstest.Callbacks{SendTaskFailureFunc: func(context.Context, sfn.SendTaskFailureInput) error {
		return sfn.Errorf(sfn.CodeTaskTimedOut, "the task timed out")
	}}
	rt := newRuntime(t, cb, map[string]steps.Handler{"x": steps.HandlerFunc(func(context.Context, steps.Message) (steps.Result, error) {
		return steps.Result{}, steps.Failf("Custom.Broken", "it broke")
	})}, func(c *steps.RuntimeConfig) {
		c.TracerProvider = tp
		c.Logger = telemetry.NewLogger(telemetry.LoggerOptions{Format: telemetry.FormatJSON, Writer: &logs})
	})
	_, err := rt.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: body(t, "tok", "x", map[string]any{}, map[string]any{}),
		Attributes: map[string]string{"AWSTraceHeader": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"}}}})
	require.NoError(t, err)
	var line map[string]any
	require.NoError(t, json.Unmarshal(logs.Bytes(), &line), logs.String())
	require.Equal(t, "task closed before its failure arrived; the failure is dropped", line["msg"])
	require.Equal(t, "5759e988bd862e3fe1be46a994272793", line["trace_id"])
	require.NotEmpty(t, line["span_id"])
	require.Equal(t, execID, line["execution_id"])
	require.Equal(t, "summarize", line["step"])
}
