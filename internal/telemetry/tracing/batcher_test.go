package tracing_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
)

// gatedExporter keeps the spans it exports and, while gate is set, waits
// for it to close before each export, saying on started that one began.
type gatedExporter struct {
	tracetest.InMemoryExporter
	started chan struct{}
	gate    chan struct{}
	mu      sync.Mutex
	batches []int
}

func (e *gatedExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if e.started != nil {
		select {
		case e.started <- struct{}{}:
		default:
		}
	}
	if e.gate != nil {
		<-e.gate
	}
	e.mu.Lock()
	e.batches = append(e.batches, len(spans))
	e.mu.Unlock()
	return e.InMemoryExporter.ExportSpans(ctx, spans)
}

func (e *gatedExporter) Batches() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int(nil), e.batches...)
}

// endSpans ends n spans through p's tracer.
func endSpans(p *tracing.Provider, n int) {
	tr := p.TracerProvider().Tracer("t")
	for i := range n {
		_, s := tr.Start(context.Background(), fmt.Sprintf("s%d", i))
		s.End()
	}
}

// TestTheBatcherExportsAFullBatchAtOnce: with a schedule delay of an
// hour, a full batch (OTEL_BSP_MAX_EXPORT_BATCH_SIZE) is exported as soon
// as it fills, in batches of that size, and what is left waits.
func TestTheBatcherExportsAFullBatchAtOnce(t *testing.T) {
	t.Parallel()
	exp := &gatedExporter{}
	p, err := tracing.New(tracing.Params{Config: config.Tracing{ScheduleDelay: time.Hour, ExportBatchSize: 4}, Exporter: exp})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	endSpans(p, 9)
	require.Eventually(t, func() bool { return len(exp.GetSpans()) == 8 }, 10*time.Second, time.Millisecond)
	require.Equal(t, []int{4, 4}, exp.Batches())
	require.NoError(t, p.ForceFlush(t.Context()))
	require.Len(t, exp.GetSpans(), 9)
	require.Equal(t, []int{4, 4, 1}, exp.Batches())
}

// TestTheBatcherExportsAfterTheScheduleDelay: spans short of a batch are
// exported once OTEL_BSP_SCHEDULE_DELAY has passed, with no flush.
func TestTheBatcherExportsAfterTheScheduleDelay(t *testing.T) {
	t.Parallel()
	exp := &gatedExporter{}
	p, err := tracing.New(tracing.Params{Config: config.Tracing{ScheduleDelay: 5 * time.Millisecond}, Exporter: exp})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	endSpans(p, 3)
	require.Eventually(t, func() bool { return len(exp.GetSpans()) == 3 }, 10*time.Second, time.Millisecond)
}

// TestTheBatcherCountsWhatAFullQueueDrops: spans ended while the queue
// (OTEL_BSP_MAX_QUEUE_SIZE) is full are dropped and counted, the others
// exported.
func TestTheBatcherCountsWhatAFullQueueDrops(t *testing.T) {
	t.Parallel()
	exp := &gatedExporter{started: make(chan struct{}, 1), gate: make(chan struct{})}
	p, err := tracing.New(tracing.Params{Config: config.Tracing{QueueSize: 4, ScheduleDelay: time.Hour}, Exporter: exp})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	endSpans(p, 4) // a full batch (the queue's size): taken, its export held
	<-exp.started
	endSpans(p, 6) // four queued, two dropped
	require.EqualValues(t, 2, p.DroppedSpans())
	close(exp.gate)
	require.NoError(t, p.ForceFlush(t.Context()))
	require.Len(t, exp.GetSpans(), 8)
	require.EqualValues(t, 2, p.DroppedSpans())
}

// TestTheBatcherExportsTheRestAtShutdown: Shutdown exports what is
// queued, then takes no more spans; a second Shutdown does nothing.
func TestTheBatcherExportsTheRestAtShutdown(t *testing.T) {
	t.Parallel()
	exp := &gatedExporter{}
	p, err := tracing.New(tracing.Params{Config: config.Tracing{ScheduleDelay: time.Hour}, Exporter: exp})
	require.NoError(t, err)
	endSpans(p, 5)
	require.NoError(t, p.Shutdown(t.Context()))
	require.Equal(t, []int{5}, exp.Batches()) // (the in-memory exporter forgets at its shutdown)
	endSpans(p, 2)
	require.NoError(t, p.ForceFlush(t.Context()))
	require.NoError(t, p.Shutdown(t.Context()))
	require.Equal(t, []int{5}, exp.Batches())
	require.Zero(t, p.DroppedSpans())
}

// TestTheBatcherHonoursTheFlushDeadline: a flush whose context ends while
// the exporter is stuck returns the context's error.
func TestTheBatcherHonoursTheFlushDeadline(t *testing.T) {
	t.Parallel()
	exp := &gatedExporter{gate: make(chan struct{})}
	p, err := tracing.New(tracing.Params{Config: config.Tracing{ScheduleDelay: time.Hour}, Exporter: exp})
	require.NoError(t, err)
	t.Cleanup(func() { close(exp.gate); _ = p.Shutdown(context.Background()) })
	endSpans(p, 1)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, p.ForceFlush(ctx), context.Canceled)
}
