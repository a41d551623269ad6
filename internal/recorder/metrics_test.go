package recorder_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/metrics"
	"github.com/aiflow/aiflow/internal/metrics/metricstest"
	"github.com/aiflow/aiflow/internal/recorder"
)

// TestCountsTheExecutionsItStores: the recorder counts the executions
// and states of the events it stores, as EMF lines after each
// invocation, each event once: a RUNNING status change counts the
// execution started, the SUCCEEDED one its end and its states, and a
// second delivery nothing.
func TestCountsTheExecutionsItStores(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var out bytes.Buffer
	emf, err := metrics.NewEMF(metrics.EMFConfig{Writer: &out})
	require.NoError(t, err)
	r, err := recorder.New(recorder.Config{History: b.client, Store: b.store, PageSize: 7, Metrics: metrics.NewRecorder(emf)})
	require.NoError(t, err)
	handle := metrics.Flushing(emf, r.Handle)
	lines := func() []metricstest.EMFLine {
		defer out.Reset()
		return metricstest.ParseEMF(t, out.Bytes())
	}
	value := func(lines []metricstest.EMFLine, name string, dims map[string]string) float64 {
		sum := 0.0
		for _, l := range lines {
			if _, ok := l.Root[name]; !ok {
				continue
			}
			match := true
			for k, v := range dims {
				match = match && l.Root[k] == v
			}
			if match {
				sum += l.Value(name)
			}
		}
		return sum
	}
	counted := func(lines []metricstest.EMFLine, name string, dims map[string]string) int {
		n := 0
		for _, l := range lines {
			if vs, ok := l.Root[name].([]any); ok && l.Root["kind"] == dims["kind"] {
				n += len(vs)
			}
		}
		return n
	}

	// A name of its own: the package's database outlives one run.
	arn := b.start(t, "counted-"+uuid.NewString())
	running, err := b.client.DescribeExecution(context.Background(), arn)
	require.NoError(t, err)
	_, err = handle(context.Background(), statusChange(t, running))
	require.NoError(t, err)
	got := lines()
	require.Equal(t, 1.0, value(got, "aiflow_executions_started_total", map[string]string{"workflow": "recorded", "version": metrics.EmptyDimension}))
	require.Zero(t, value(got, "aiflow_executions_finished_total", nil))

	d := b.finish(t, arn)
	_, err = handle(context.Background(), statusChange(t, d))
	require.NoError(t, err)
	got = lines()
	require.Zero(t, value(got, "aiflow_executions_started_total", nil), "counted when first stored")
	require.Equal(t, 1.0, value(got, "aiflow_executions_finished_total", map[string]string{"workflow": "recorded", "version": metrics.EmptyDimension, "status": metrics.StatusSucceeded}))
	// Hold and the three Echo iterations are Tasks; Each a Map; Done a Pass.
	require.Equal(t, 4, counted(got, "aiflow_state_duration_seconds", map[string]string{"kind": "Task"}))
	require.Equal(t, 1, counted(got, "aiflow_state_duration_seconds", map[string]string{"kind": "Map"}))
	require.Equal(t, 1, counted(got, "aiflow_state_duration_seconds", map[string]string{"kind": "Pass"}))

	_, err = handle(context.Background(), statusChange(t, d))
	require.NoError(t, err)
	require.Empty(t, lines(), "a second delivery stores and counts nothing")
}
