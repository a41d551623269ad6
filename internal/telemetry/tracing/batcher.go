package tracing

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// batcher is aiflow's batch span processor: the SDK's BatchSpanProcessor
// (the same settings: a queue of OTEL_BSP_MAX_QUEUE_SIZE spans, batches
// of OTEL_BSP_MAX_EXPORT_BATCH_SIZE exported as soon as one is full and
// at the latest OTEL_BSP_SCHEDULE_DELAY after the last export, each
// export bounded by the export timeout, the spans of a full queue dropped
// and counted), but its queue is a ring under a mutex that an ended span
// is put in with no channel send: the exporting goroutine is woken once a
// batch is full, not for each span. The SDK's queue is a channel, whose
// goroutine receives each span in a select.
//
// Dropped spans are counted (Provider.DroppedSpans) and reported through
// otel.Handle (the error handler Setup installs logs them) after the next
// export. Unlike the SDK's, a span that finds the queue full first yields
// the processor once, so that the exporting goroutine, woken but not yet
// run, can empty it.
type batcher struct {
	exp       sdktrace.SpanExporter
	timeout   time.Duration
	delay     time.Duration
	batchSize int

	mu      sync.Mutex
	ring    []sdktrace.ReadOnlySpan
	head, n int
	woken   bool // a batch filled since the last drain began: a wake is sent
	stopped bool
	stopCtx context.Context // Shutdown's: bounds the last exports
	drops   int             // dropped since the last report

	dropped atomic.Int64

	wake    chan struct{}
	flushes chan flushRequest
	quit    chan struct{}
	done    chan struct{}
	stop    sync.Once

	batch []sdktrace.ReadOnlySpan // the exporting goroutine's
}

// flushRequest asks the exporting goroutine to export what is queued.
type flushRequest struct {
	ctx   context.Context
	reply chan error
}

// Defaults of the batcher, the specification's (and the SDK's).
const (
	defaultScheduleDelay   = 5 * time.Second
	defaultExportBatchSize = 512
)

// batcherParams configures newBatcher.
type batcherParams struct {
	Exporter sdktrace.SpanExporter
	// Timeout bounds each export.
	Timeout time.Duration
	// QueueSize, ScheduleDelay and BatchSize are as in config.Tracing;
	// zero means the default.
	QueueSize     int
	ScheduleDelay time.Duration
	BatchSize     int
}

// newBatcher returns a batcher and starts its goroutine, which Shutdown
// stops.
func newBatcher(p batcherParams) *batcher {
	queue := p.QueueSize
	if queue <= 0 {
		queue = defaultExportBatchSize * 4
	}
	size := p.BatchSize
	if size <= 0 || size > queue {
		// As the SDK: a batch bigger than the queue is the default one,
		// within the queue.
		size = min(defaultExportBatchSize, queue)
	}
	delay := p.ScheduleDelay
	if delay <= 0 {
		delay = defaultScheduleDelay
	}
	b := &batcher{
		exp:       p.Exporter,
		timeout:   p.Timeout,
		delay:     delay,
		batchSize: size,
		ring:      make([]sdktrace.ReadOnlySpan, queue),
		wake:      make(chan struct{}, 1),
		flushes:   make(chan flushRequest),
		quit:      make(chan struct{}),
		done:      make(chan struct{}),
		batch:     make([]sdktrace.ReadOnlySpan, 0, size),
	}
	go b.run()
	return b
}

var _ sdktrace.SpanProcessor = (*batcher)(nil)

// OnStart does nothing.
func (b *batcher) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd queues a sampled span, or drops and counts it when the queue is
// full; it wakes the exporting goroutine when a batch is full.
func (b *batcher) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return
	}
	if b.n == len(b.ring) {
		// The exporting goroutine, woken, may not have run yet (its wake
		// only readied it, and the process's other goroutines keep the
		// processors): once, let it run before dropping.
		b.mu.Unlock()
		runtime.Gosched()
		b.mu.Lock()
		if b.n == len(b.ring) || b.stopped {
			b.drops++
			b.mu.Unlock()
			b.dropped.Add(1)
			return
		}
	}
	i := b.head + b.n
	if i >= len(b.ring) {
		i -= len(b.ring)
	}
	b.ring[i] = s
	b.n++
	wake := b.n >= b.batchSize && !b.woken
	if wake {
		b.woken = true
	}
	half := b.n == len(b.ring)/2 && b.n > b.batchSize
	b.mu.Unlock()
	if wake {
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
	if half {
		// Half full: the exporting goroutine has not kept up (it was not
		// run); it is let run now, long before spans are dropped.
		runtime.Gosched()
	}
}

// take moves up to a batch of queued spans into b.batch and returns how
// many.
func (b *batcher) take() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := min(b.n, b.batchSize)
	end := b.head + k
	if end <= len(b.ring) {
		b.batch = append(b.batch[:0], b.ring[b.head:end]...)
		clear(b.ring[b.head:end])
	} else {
		b.batch = append(append(b.batch[:0], b.ring[b.head:]...), b.ring[:end-len(b.ring)]...)
		clear(b.ring[b.head:])
		clear(b.ring[:end-len(b.ring)])
	}
	b.head, b.n = end%len(b.ring), b.n-k
	return k
}

// run is the exporting goroutine: it exports full batches as they fill,
// everything queued when the delay has passed or a flush asks, and
// everything left at shutdown.
func (b *batcher) run() {
	defer close(b.done)
	timer := time.NewTimer(b.delay)
	defer timer.Stop()
	for {
		select {
		case <-b.quit:
			b.mu.Lock()
			ctx := b.stopCtx
			b.mu.Unlock()
			_ = b.drain(ctx, false)
			return
		case <-b.wake:
			b.drain(context.Background(), true)
		case <-timer.C:
			b.drain(context.Background(), false)
		case req := <-b.flushes:
			req.reply <- b.drain(req.ctx, false)
		}
		timer.Reset(b.delay)
	}
}

// drain exports what is queued now in batches (only the full batches
// when fullOnly; not the spans queued meanwhile, which the next drain
// takes) and returns the first export error (each is also handed to
// otel.Handle).
func (b *batcher) drain(ctx context.Context, fullOnly bool) error {
	b.mu.Lock()
	// From here on, a batch that fills wakes the goroutine again.
	b.woken = false
	pending := b.n
	if fullOnly {
		pending -= pending % b.batchSize
	}
	b.mu.Unlock()
	var first error
	for pending > 0 {
		pending -= b.take()
		if err := b.export(ctx); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// export exports b.batch within the timeout, then reports the spans
// dropped since the last report.
func (b *batcher) export(ctx context.Context) error {
	if b.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.timeout)
		defer cancel()
	}
	err := b.exp.ExportSpans(ctx, b.batch)
	clear(b.batch)
	b.batch = b.batch[:0]
	if err != nil {
		otel.Handle(err)
	}
	b.mu.Lock()
	drops := b.drops
	b.drops = 0
	b.mu.Unlock()
	if drops > 0 {
		otel.Handle(fmt.Errorf("dropping %d spans: the queue of %d spans (OTEL_BSP_MAX_QUEUE_SIZE) was full", drops, len(b.ring)))
	}
	return err
}

// ForceFlush exports the spans queued, waiting while ctx allows.
func (b *batcher) ForceFlush(ctx context.Context) error {
	b.mu.Lock()
	stopped := b.stopped
	b.mu.Unlock()
	if stopped {
		return nil
	}
	req := flushRequest{ctx: ctx, reply: make(chan error, 1)}
	select {
	case b.flushes <- req:
	case <-b.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flushing spans: %w", ctx.Err())
	}
	select {
	case err := <-req.reply:
		return err
	case <-ctx.Done():
		return fmt.Errorf("flushing spans: %w", ctx.Err())
	}
}

// Shutdown takes no more spans, exports those queued and shuts the
// exporter down, waiting while ctx allows; a second call does nothing.
func (b *batcher) Shutdown(ctx context.Context) error {
	var err error
	b.stop.Do(func() {
		b.mu.Lock()
		b.stopped, b.stopCtx = true, ctx
		b.mu.Unlock()
		close(b.quit)
		select {
		case <-b.done:
		case <-ctx.Done():
			err = fmt.Errorf("exporting the last spans: %w", ctx.Err())
		}
		if serr := b.exp.Shutdown(ctx); serr != nil && err == nil {
			err = serr
		}
	})
	return err
}
