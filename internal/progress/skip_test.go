package progress

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/sfn"
)

// fakeSkips skipped 15 minutes from 12:00:01.
type fakeSkips struct{ at time.Time }

func (f fakeSkips) Now() time.Time { return f.at.Add(time.Hour) }

func (f fakeSkips) SkippedBetween(from, to time.Time) time.Duration {
	start, end := f.at, f.at.Add(15*time.Minute)
	if from.After(start) {
		start = from
	}
	if to.Before(end) {
		end = to
	}
	return max(end.Sub(start), 0)
}

// TestShowSkips: a duration the clock skipped says so, whole or in part;
// one it did not skip is shown as before.
func TestShowSkips(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	p := New(&out, false, map[string]string{"classify": "ai"})
	p.ShowSkips(fakeSkips{at: t0.Add(time.Second)})
	require.Equal(t, t0.Add(time.Second+time.Hour), p.now(), "the live view reads the skipping clock")
	p.Event(sfn.HistoryEvent{ID: 1, Type: "WaitStateEntered", Timestamp: t0.Add(time.Second), StateEntered: &sfn.StateEnteredDetails{Name: "pause"}})
	p.Event(sfn.HistoryEvent{ID: 2, PreviousEventID: 1, Type: "WaitStateExited", Timestamp: t0.Add(time.Second + 15*time.Minute), StateExited: &sfn.StateExitedDetails{Name: "pause"}})
	p.Event(sfn.HistoryEvent{ID: 3, PreviousEventID: 2, Type: "PassStateEntered", Timestamp: t0.Add(15*time.Minute + time.Second), StateEntered: &sfn.StateEnteredDetails{Name: "next"}})
	p.Event(sfn.HistoryEvent{ID: 4, PreviousEventID: 3, Type: "PassStateExited", Timestamp: t0.Add(16*time.Minute + 2*time.Second), StateExited: &sfn.StateExitedDetails{Name: "next"}})
	require.Equal(t, "▶ pause (wait)\n✔ pause 15m0s (skipped)\n▶ next (pass)\n✔ next 1m1s\n", out.String())
	require.Equal(t, "17m0s (15m0s skipped)", p.Elapsed(t0, t0.Add(17*time.Minute)))
}
