package queue

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Handler handles a batch of messages, as a Lambda function behind an SQS
// event source does. With ReportBatchItemFailures it names the messages it
// failed in the response's BatchItemFailures by message id.
type Handler func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)

// MappingConfig configures an event source mapping.
type MappingConfig struct {
	// BatchSize is the most messages in one event: 0 means 10, at most
	// 10000; over 10 needs a MaximumBatchingWindow of at least 1 s, as
	// Lambda requires.
	BatchSize int
	// MaximumBatchingWindow is how long to keep gathering messages for a
	// batch once the first one is in, at most 300 s; 0 sends what is
	// there at once.
	MaximumBatchingWindow time.Duration
	// MaxConcurrency is the most handler invocations running at once;
	// 0 means 2, at most 1000.
	MaxConcurrency int
	// ReportBatchItemFailures makes the mapping honour the response's
	// BatchItemFailures; without it the response is ignored and a batch
	// whose handler returned no error is deleted whole, as Lambda does.
	ReportBatchItemFailures bool
	// FunctionTimeout is the deadline of the handler's context: 0 means
	// 30 s, at most 15 min, and no longer than the queue's visibility
	// timeout. A handler that returns after it counts as failed.
	FunctionTimeout time.Duration
	// FunctionName names the function in the handler's
	// lambdacontext.LambdaContext (InvokedFunctionArn); empty means the
	// queue's name.
	FunctionName string
}

// maxPayload is the size of the bodies in one batch beyond which the
// mapping stops adding messages: Lambda's 6 MB invocation payload.
const maxPayload = 6 * 1024 * 1024

// mapping is one event source mapping: a poller goroutine that gathers
// batches and a handler goroutine per running invocation.
type mapping struct {
	b           *Broker
	q           *queue
	h           Handler
	cfg         MappingConfig
	functionARN string

	sem      chan struct{} // one slot per running invocation
	quit     chan struct{} // closed to stop the poller
	stopOnce sync.Once
	polling  chan struct{} // closed when the poller returned
	running  sync.WaitGroup
}

// Subscribe starts an event source mapping that feeds the messages of the
// queue at url to h, as Lambda does for a function with an SQS trigger.
// A batch the handler succeeded with is deleted, except the messages it
// reported in BatchItemFailures (with ReportBatchItemFailures; an
// identifier that is empty or names no message of the batch fails the
// whole batch). When the handler returns an error, panics or outlives
// FunctionTimeout, the whole batch is left to come back after the
// visibility timeout. stop ends the mapping and waits for its running
// handlers. Errors are *Error (QueueDoesNotExist, InvalidParameterValue
// naming the setting) or ErrClosed.
func (b *Broker) Subscribe(url string, h Handler, m MappingConfig) (stop func(), err error) {
	if h == nil {
		return nil, newError(CodeInvalidParameterValue, fmt.Sprintf("subscribing to %s: the handler is nil", url))
	}
	bad := func(format string, args ...any) error {
		return newError(CodeInvalidParameterValue, fmt.Sprintf("subscribing to %s: ", url)+fmt.Sprintf(format, args...))
	}
	if m.BatchSize == 0 {
		m.BatchSize = 10
	}
	if m.MaxConcurrency == 0 {
		m.MaxConcurrency = 2
	}
	if m.FunctionTimeout == 0 {
		m.FunctionTimeout = 30 * time.Second
	}
	switch {
	case m.BatchSize < 1 || m.BatchSize > 10000:
		return nil, bad("BatchSize %d is not between 1 and 10000", m.BatchSize)
	case m.MaximumBatchingWindow < 0 || m.MaximumBatchingWindow > 300*time.Second:
		return nil, bad("MaximumBatchingWindow %s is not between 0 and 300s", m.MaximumBatchingWindow)
	case m.BatchSize > 10 && m.MaximumBatchingWindow < time.Second:
		return nil, bad("BatchSize %d is over 10, which needs a MaximumBatchingWindow of at least 1s", m.BatchSize)
	case m.MaxConcurrency < 1 || m.MaxConcurrency > 1000:
		return nil, bad("MaxConcurrency %d is not between 1 and 1000", m.MaxConcurrency)
	case m.FunctionTimeout < 0 || m.FunctionTimeout > 15*time.Minute:
		return nil, bad("FunctionTimeout %s is not between 0 and 15m", m.FunctionTimeout)
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.queueLocked(url)
	if err != nil {
		return nil, err
	}
	if m.FunctionTimeout > q.cfg.VisibilityTimeout {
		return nil, bad("the queue's visibility timeout %s is less than the FunctionTimeout %s", q.cfg.VisibilityTimeout, m.FunctionTimeout)
	}
	name := m.FunctionName
	if name == "" {
		name = q.cfg.Name
	}
	mp := &mapping{
		b:           b,
		q:           q,
		h:           h,
		cfg:         m,
		functionARN: "arn:aws:lambda:" + b.region + ":" + b.accountID + ":function:" + name,
		sem:         make(chan struct{}, m.MaxConcurrency),
		quit:        make(chan struct{}),
		polling:     make(chan struct{}),
	}
	b.mappings[mp] = struct{}{}
	go mp.poll()
	return func() {
		b.mu.Lock()
		delete(b.mappings, mp)
		b.mu.Unlock()
		mp.stop()
	}, nil
}

// stop ends the poller and waits for it and the running handlers.
func (m *mapping) stop() {
	m.stopOnce.Do(func() { close(m.quit) })
	<-m.polling
	m.running.Wait()
}

// poll gathers batches while a concurrency slot is free and starts a
// handler for each.
func (m *mapping) poll() {
	defer close(m.polling)
	for {
		select {
		case m.sem <- struct{}{}:
		case <-m.quit:
			return
		}
		batch := m.gather()
		if batch == nil {
			<-m.sem
			return
		}
		m.running.Add(1)
		go m.invoke(batch)
	}
}

// gather waits for messages and returns a batch of up to BatchSize of
// them, waiting up to MaximumBatchingWindow for more once the first is in;
// nil when the mapping stops first.
func (m *mapping) gather() []events.SQSMessage {
	b, q := m.b, m.q
	var (
		batch         []events.SQSMessage
		window        chan struct{}
		windowEnded   bool
		stopWindow    func() bool
		payloadBudget = maxPayload
	)
	defer func() {
		if stopWindow != nil {
			stopWindow()
		}
	}()
	for {
		b.mu.Lock()
		if b.closed {
			m.release(batch)
			b.mu.Unlock()
			return nil
		}
		recs, full := b.receiveLocked(q, m.cfg.BatchSize-len(batch), payloadBudget, q.cfg.VisibilityTimeout)
		for _, r := range recs {
			payloadBudget -= len(r.Body)
		}
		batch = append(batch, recs...)
		if len(batch) > 0 && (full || len(batch) == m.cfg.BatchSize || m.cfg.MaximumBatchingWindow == 0 || windowEnded) {
			b.mu.Unlock()
			return batch
		}
		wake := q.waitChan()
		b.mu.Unlock()
		if len(batch) > 0 && window == nil {
			window = make(chan struct{})
			stopWindow = b.clock.AfterFunc(m.cfg.MaximumBatchingWindow, func() { close(window) })
		}
		select {
		case <-wake:
		case <-window:
			windowEnded = true
		case <-m.quit:
			b.mu.Lock()
			m.release(batch)
			b.mu.Unlock()
			return nil
		}
	}
}

// release makes the messages of a batch that will not be handled visible
// again at once; their receive counts stay raised, as after
// ChangeMessageVisibility to 0. The Broker's mu is held.
func (m *mapping) release(batch []events.SQSMessage) {
	for _, r := range batch {
		if msg, ok := m.q.handles[r.ReceiptHandle]; ok && msg.state == stateInFlight {
			m.b.returnMessage(msg)
		}
	}
}

// invoke runs the handler on a batch and deletes the messages it
// succeeded with.
func (m *mapping) invoke(batch []events.SQSMessage) {
	defer m.running.Done()
	defer func() { <-m.sem }()
	defer m.park(batch)
	b := m.b
	ctx, cancel := context.WithDeadline(b.handlers, b.clock.Now().Add(m.cfg.FunctionTimeout))
	defer cancel()
	requestID := b.newID()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: requestID, InvokedFunctionArn: m.functionARN})
	resp, err := m.call(ctx, events.SQSEvent{Records: batch})
	if err == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("task timed out after %s", m.cfg.FunctionTimeout)
	}
	log := b.log.With("queue", m.q.cfg.URL, "request_id", requestID, "batch_size", len(batch))
	if err != nil {
		log.Warn("handler failed; the batch returns after the visibility timeout", "error", err)
		return
	}
	failed := map[string]bool{}
	if m.cfg.ReportBatchItemFailures && len(resp.BatchItemFailures) > 0 {
		inBatch := make(map[string]bool, len(batch))
		for _, r := range batch {
			inBatch[r.MessageId] = true
		}
		for _, f := range resp.BatchItemFailures {
			if !inBatch[f.ItemIdentifier] {
				log.Warn("handler reported a batch item failure that names no message of the batch; the whole batch failed", "item_identifier", f.ItemIdentifier)
				return
			}
			failed[f.ItemIdentifier] = true
		}
		log.Info("handler reported batch item failures", "failed", len(failed))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range batch {
		if failed[r.MessageId] {
			continue
		}
		msg, ok := m.q.handles[r.ReceiptHandle]
		if !ok {
			// Received again after its visibility timeout ended while the
			// handler ran: the later receive owns it now.
			log.Warn("not deleting a message received again", "message_id", r.MessageId)
			continue
		}
		b.delete(msg)
	}
}

// call runs the handler, turning a panic into an error.
func (m *mapping) call(ctx context.Context, ev events.SQSEvent) (resp events.SQSEventResponse, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return m.h(ctx, ev)
}
