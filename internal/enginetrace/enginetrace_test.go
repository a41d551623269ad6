package enginetrace_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/enginetrace"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
)

// TestTheEnginesHistoryBecomesSpans runs an execution on the in-memory
// engine through the decorated store and finds its execution and state
// spans in the trace it was started with.
func TestTheEnginesHistoryBecomesSpans(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	p, err := tracing.New(tracing.Params{ServiceName: "enginetrace-test", Exporter: exp})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	states := tracing.NewStateSpans(tracing.StateSpansParams{Provider: p})
	eng, err := engine.New(engine.Config{Store: enginetrace.Store(engine.NewMemoryStore(), states, nil)})
	require.NoError(t, err)
	require.NoError(t, eng.Start(t.Context()))
	t.Cleanup(func() { _ = eng.Close() })
	sm, err := eng.CreateStateMachine(t.Context(), sfn.CreateStateMachineInput{Name: "two",
		Definition: `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}}}`})
	require.NoError(t, err)
	out, err := eng.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Input: `{}`,
		TraceHeader: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"})
	require.NoError(t, err)
	require.NoError(t, eng.Wait(t.Context(), out.ExecutionARN))
	require.Eventually(t, func() bool {
		return states.Open() == 0 && p.ForceFlush(t.Context()) == nil && len(exp.GetSpans()) == 3
	}, 10*time.Second, 10*time.Millisecond)

	byName := map[string]tracetest.SpanStub{}
	for _, s := range exp.GetSpans() {
		byName[s.Name] = s
		require.Equal(t, "5759e988bd862e3fe1be46a994272793", s.SpanContext.TraceID().String())
	}
	require.Equal(t, "53995c3f42cd8ad8", byName["execution two"].Parent.SpanID().String())
	require.Equal(t, byName["execution two"].SpanContext.SpanID(), byName["state A"].Parent.SpanID())
	require.Equal(t, byName["execution two"].SpanContext.SpanID(), byName["state B"].Parent.SpanID())
}

func TestWithoutStatesTheStoreIsItself(t *testing.T) {
	t.Parallel()
	s := engine.NewMemoryStore()
	require.Same(t, s, enginetrace.Store(s, nil, nil))
}
