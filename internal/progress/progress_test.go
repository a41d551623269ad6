package progress

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/sfn"
)

// TestProgressLiveView checks the terminal view: finished lines stay, the
// running steps are drawn below them and redrawn in place.
func TestProgressLiveView(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	p := New(&out, true, map[string]string{"classify": "ai", "fan": "map"})
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	now := t0
	p.now = func() time.Time { return now }
	ev := func(id, prev int64, typ string, at time.Duration, f func(*sfn.HistoryEvent)) {
		e := sfn.HistoryEvent{ID: id, PreviousEventID: prev, Type: typ, Timestamp: t0.Add(at)}
		if f != nil {
			f(&e)
		}
		p.Event(e)
	}
	ev(1, 0, "ExecutionStarted", 0, nil)
	ev(2, 1, "TaskStateEntered", 0, func(e *sfn.HistoryEvent) { e.StateEntered = &sfn.StateEnteredDetails{Name: "classify"} })
	ev(3, 2, "TaskScheduled", 0, func(e *sfn.HistoryEvent) { e.TaskScheduled = &sfn.TaskScheduledDetails{} })
	require.Equal(t, "▶ classify (ai)\n  ⋯ classify (ai) 0ms\n", out.String())

	out.Reset()
	now = t0.Add(1500 * time.Millisecond)
	p.Redraw()
	require.Equal(t, "\x1b[1A\x1b[J  ⋯ classify (ai) 1.5s\n", out.String(), "the view is redrawn in place")

	out.Reset()
	ev(4, 3, "TaskSucceeded", 2*time.Second, func(e *sfn.HistoryEvent) { e.TaskSucceeded = &sfn.TaskOutputDetails{} })
	require.Equal(t, "\x1b[1A\x1b[J✔ classify 2.0s\n", out.String(), "a finished step leaves the view")

	out.Reset()
	p.Finish()
	require.Empty(t, out.String(), "nothing left to clear")
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		-time.Second:                  "0ms",
		400 * time.Microsecond:        "0.4ms",
		12 * time.Millisecond:         "12ms",
		1234 * time.Millisecond:       "1.2s",
		2*time.Minute + 3*time.Second: "2m3s",
	} {
		require.Equal(t, want, FormatDuration(d))
	}
}

// history is a History that holds a fixed list of events.
type history struct{ events []sfn.HistoryEvent }

func (h history) GetExecutionHistory(_ context.Context, in sfn.GetExecutionHistoryInput) (sfn.GetExecutionHistoryOutput, error) {
	// Two pages, to follow NextToken.
	if in.NextToken == "" && len(h.events) > 1 {
		return sfn.GetExecutionHistoryOutput{Events: h.events[:1], NextToken: "2"}, nil
	}
	if in.NextToken == "2" {
		return sfn.GetExecutionHistoryOutput{Events: h.events[1:]}, nil
	}
	return sfn.GetExecutionHistoryOutput{Events: h.events}, nil
}

func (h history) Wait(ctx context.Context, _ string) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestFollow(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	events := []sfn.HistoryEvent{
		{ID: 1, Type: "ExecutionStarted", Timestamp: t0},
		{ID: 2, PreviousEventID: 1, Type: "PassStateEntered", Timestamp: t0, StateEntered: &sfn.StateEnteredDetails{Name: "report"}},
		{ID: 3, PreviousEventID: 2, Type: "PassStateExited", Timestamp: t0.Add(12 * time.Millisecond), StateExited: &sfn.StateExitedDetails{Name: "report"}},
	}

	var out bytes.Buffer
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := Follow(ctx, history{events}, "arn", New(&out, false, map[string]string{"report": "set"}))
	require.ErrorIs(t, err, context.Canceled, "an execution still running is followed until ctx ends")
	require.Equal(t, "▶ report (set)\n✔ report 12ms\n", out.String())

	out.Reset()
	events = append(events, sfn.HistoryEvent{ID: 4, PreviousEventID: 3, Type: "ExecutionSucceeded", Timestamp: t0.Add(time.Second)})
	require.NoError(t, Follow(t.Context(), history{events}, "arn", New(&out, false, map[string]string{"report": "set"})))
	require.Equal(t, "▶ report (set)\n✔ report 12ms\n", out.String())
}
