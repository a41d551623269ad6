package detailstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/steps/detailstore"
	"github.com/aiflow/aiflow/internal/steps/stepstest"
)

// A Store is the steps.DetailRecorder of workers with a database.
var _ steps.DetailRecorder = (*detailstore.Store)(nil)

func TestMain(m *testing.M) { pgclustertest.Main(m) }

func setup(t *testing.T) (*detailstore.Store, *eventstore.Store) {
	t.Helper()
	events, err := eventstore.Open(context.Background(), pgclustertest.PackagePool(t), eventstore.Options{})
	require.NoError(t, err)
	return detailstore.New(events, "aistep"), events
}

func TestRecordAndSum(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, events := setup(t)
	arn := "arn:aws:states:us-east-1:123456789012:execution:sum:" + t.Name()

	// Two steps of one execution record at once.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			require.NoError(t, store.RecordDetail(ctx, steps.Detail{ExecutionID: arn, Type: steps.DetailModelCalled,
				Data: steps.ModelCall{Step: fmt.Sprintf("s%d", i%2), Turn: 1, Provider: "openai", Model: "gpt-4.1-mini", InputTokens: 100, OutputTokens: 10, Attempts: 1}}))
		})
	}
	wg.Wait()
	require.NoError(t, store.RecordDetail(ctx, steps.Detail{ExecutionID: arn, Type: steps.DetailToolCalled,
		Data: steps.ToolCall{Step: "s0", Turn: 1, Tool: "support/lookup"}}))
	usage, err := store.ExecutionUsage(ctx, arn)
	require.NoError(t, err)
	require.Equal(t, ai.Usage{InputTokens: 2000, OutputTokens: 200}, usage)

	evs, err := events.ReadStream(ctx, eventstore.DetailStreamID(arn), eventstore.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, evs, 21)
	last := evs[20]
	require.Equal(t, steps.DetailToolCalled, last.Type)
	require.Equal(t, eventstore.Metadata{CorrelationID: arn, Actor: "aistep"}, last.Metadata)
	require.JSONEq(t, `{"step":"s0","step_attempt":0,"turn":1,"tool":"support/lookup","latency_ms":0}`, string(last.Data))

	none, err := store.ExecutionUsage(ctx, arn+"-other")
	require.NoError(t, err)
	require.Zero(t, none)
}

// TestTheAIHandlerRecordsInTheEventStore runs an ai step whose detail
// events go to PostgreSQL, and a second one that the execution's budget
// stops, as read back from there.
func TestTheAIHandlerRecordsInTheEventStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, _ := setup(t)
	arn := "arn:aws:states:us-east-1:123456789012:execution:budget:" + t.Name()
	p := &stepstest.Provider{StreamFunc: stepstest.Replies(ai.Response{Text: "ok", StopReason: ai.StopEndTurn, Usage: ai.Usage{InputTokens: 600, OutputTokens: 100}})}
	h := steps.NewAI(steps.AIConfig{
		Providers: map[string]ai.Provider{"openai": p}, Details: store, ExecutionTokenBudget: 1000,
		Prices: steps.PriceTable{"gpt-4.1-mini": {InputPerMillion: 0.4, OutputPerMillion: 1.6}},
	})
	msg := steps.Message{TaskToken: "t", Execution: steps.Execution{ID: arn}, Step: steps.StepInfo{ID: "one", Kind: "ai"},
		Spec: json.RawMessage(`{"model":"openai/gpt-4.1-mini"}`), Data: json.RawMessage(`{"prompt":"hi"}`)}
	res, err := h.Run(ctx, msg)
	require.NoError(t, err)
	require.Equal(t, 0.0004, res.Usage.CostUSD)

	msg.Step.ID = "two"
	_, err = h.Run(ctx, msg)
	require.Equal(t, ai.CodeBudgetExceeded, ai.CodeOf(err))
	require.ErrorContains(t, err, "the execution used 1400 tokens")

	evs, err := store.Details(ctx, arn)
	require.NoError(t, err)
	var types []string
	for _, ev := range evs {
		types = append(types, ev.Type)
	}
	require.Equal(t, []string{steps.DetailModelCalled, steps.DetailStepFinished, steps.DetailModelCalled, steps.DetailStepFinished}, types)
	var summary steps.StepSummary
	require.NoError(t, json.Unmarshal(evs[3].Data, &summary))
	require.Equal(t, "two", summary.Step)
	require.Equal(t, "AI.BudgetExceeded", summary.Outcome)
}
