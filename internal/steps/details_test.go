package steps_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/steps/stepstest"
)

// flakyDetails is a detail store that refuses appends while down is set,
// as a database in an outage does.
type flakyDetails struct {
	steps.MemoryDetails
	down    atomic.Bool
	refused atomic.Int64
}

func (d *flakyDetails) RecordDetail(ctx context.Context, det steps.Detail) error {
	if d.down.Load() {
		d.refused.Add(1)
		return errors.New("appending the detail: connection refused")
	}
	return d.MemoryDetails.RecordDetail(ctx, det)
}

// TestAIDetailsAreRetriedNotDropped: details the store refuses during the
// step are appended again, in order, before the step reports its result.
func TestAIDetailsAreRetriedNotDropped(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		details := &flakyDetails{}
		details.down.Store(true)
		p := &stepstest.Provider{StreamFunc: stepstest.Replies(text("fine", 10, 2))}
		h := steps.NewAI(steps.AIConfig{Providers: map[string]ai.Provider{"openai": p}, Retrier: noWait, Details: details})
		go func() {
			time.Sleep(3 * time.Second) // the store comes back while the step flushes
			details.down.Store(false)
		}()
		res, err := h.Run(t.Context(), aiMessage(t, map[string]any{"model": "openai/gpt-4.1-mini"}, map[string]any{"prompt": "hi"}))
		require.NoError(t, err)
		require.Equal(t, "fine", res.Output)
		require.Positive(t, details.refused.Load())
		d := details.Details(execID)
		require.Len(t, d, 2)
		require.Equal(t, steps.DetailModelCalled, d[0].Type)
		require.Equal(t, steps.DetailStepFinished, d[1].Type)
	})
}

// TestAIFailsRetryablyWhenItsDetailsCannotBeWritten: a step whose details
// the store refuses for longer than the bound fails with AI.Unavailable,
// which workflows retry, instead of reporting a result whose cost is lost.
func TestAIFailsRetryablyWhenItsDetailsCannotBeWritten(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		details := &flakyDetails{}
		details.down.Store(true)
		p := &stepstest.Provider{StreamFunc: stepstest.Replies(text("fine", 10, 2))}
		h := steps.NewAI(steps.AIConfig{Providers: map[string]ai.Provider{"openai": p}, Retrier: noWait, Details: details})
		_, err := h.Run(t.Context(), aiMessage(t, map[string]any{"model": "openai/gpt-4.1-mini"}, map[string]any{"prompt": "hi"}))
		require.Equal(t, ai.CodeUnavailable, ai.CodeOf(err), "%v", err)
		require.Empty(t, details.Details(execID))
	})
}
