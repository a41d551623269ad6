// Package enginebench measures the local engine on the workload the
// performance targets are stated for: a state machine of three Task
// states, each sending its input to a queue with
// arn:aws:states:::sqs:sendMessage.waitForTaskToken, whose worker, a
// handler fed events.SQSEvent as in Lambda, echoes it back with
// SendTaskSuccess. `aiflow bench` and the package's Go benchmarks both run
// it; the numbers are in docs/performance.md.
package enginebench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/procstat"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
)

// QueueURL is the queue the benchmark's tasks send to.
const QueueURL = "https://sqs.us-east-1.amazonaws.com/123456789012/bench-steps"

// Definition is the benchmark's state machine: three echo tasks.
const Definition = `{
  "Comment": "three tasks whose worker echoes their input",
  "StartAt": "One",
  "States": {
    "One": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
      "Parameters": {"QueueUrl": "` + QueueURL + `", "MessageBody": {"taskToken.$": "$$.Task.Token", "input.$": "$"}}, "Next": "Two"},
    "Two": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
      "Parameters": {"QueueUrl": "` + QueueURL + `", "MessageBody": {"taskToken.$": "$$.Task.Token", "input.$": "$"}}, "Next": "Three"},
    "Three": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
      "Parameters": {"QueueUrl": "` + QueueURL + `", "MessageBody": {"taskToken.$": "$$.Task.Token", "input.$": "$"}}, "End": true}
  }
}`

// TransitionsPerExecution is the states each execution enters.
const TransitionsPerExecution = 3

// DefaultWorkers is the echo worker's concurrency when Params leaves it
// 0: Lambda's default concurrency limit of an account, so that the queue
// feeds every execution in flight (up to 1,000) at once and the numbers
// are the engine's rather than a small worker pool's. Each worker answers
// the records of its batch one after another, as a Lambda handler does.
const DefaultWorkers = 1000

// Params is one run.
type Params struct {
	// Store is the engine's store: engine.NewMemoryStore() or a durable
	// one.
	Store engine.Store
	// Executions is how many executions to run to their end; 0 means as
	// many as Duration allows.
	Executions int
	// Duration stops the starting of new executions once it has passed
	// (those in flight still run to their end); 0 means no limit. At least
	// one of Executions and Duration must be positive.
	Duration time.Duration
	// InFlight is how many run at once; 0 means 1,000.
	InFlight int
	// Workers is the queue's handler concurrency, as an SQS event
	// source's Lambda concurrency; 0 means DefaultWorkers.
	Workers int
	// BatchSize is the worker's SQS batch size; 0 means 10, as for an SQS
	// event source.
	BatchSize int
	// Tracing, if set and on, traces the run as aiflow dev traces its
	// executions: a span starting each execution, the execution's and its
	// states' spans from the history, a span per message and per
	// callback. Nil traces nothing (and costs nothing).
	Tracing *tracing.Provider
	// TraceEngineOnly leaves the worker's spans out of a traced run: what
	// tracing costs the engine (the start's span, the trace header, the
	// execution's and states' spans), without the stand-in worker's.
	TraceEngineOnly bool
}

// Result is what a run measured.
type Result struct {
	Executions int
	// InFlight is how many ran at once.
	InFlight int
	// Workers is the echo worker's concurrency.
	Workers           int
	Elapsed           time.Duration
	ExecutionsPerSec  float64
	TransitionsPerSec float64
	// Latency is from a task's message being sent to its callback being
	// accepted (written, when the store is durable).
	LatencyP50 time.Duration
	LatencyP99 time.Duration
	// Callbacks is how many dispatch-to-callback latencies were measured:
	// every task's, TransitionsPerExecution per execution.
	Callbacks int
	// CPU is the CPU time this process (engine, queue, worker and, with
	// PostgreSQL, the client side) used during the run; 0 where the
	// system does not tell. Unlike the rates it hardly depends on what
	// else the machine runs. A database server's CPU is not in it.
	CPU time.Duration
	// StoreCommits is how many Store.Commit calls the engine made (its
	// group commits), CommitsWritten the commits they held together, and
	// CommitTime the time spent in them, added up over calls that overlap:
	// CommitTime / Elapsed is how many were in progress on average.
	StoreCommits   int64
	CommitsWritten int64
	CommitTime     time.Duration
}

// CPUPerExecution is CPU / Executions.
func (r Result) CPUPerExecution() time.Duration {
	if r.Executions == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Executions)
}

// CommitsPerCall is the mean number of commits in one Store.Commit call.
func (r Result) CommitsPerCall() float64 {
	if r.StoreCommits == 0 {
		return 0
	}
	return float64(r.CommitsWritten) / float64(r.StoreCommits)
}

// MeanCommit is the mean duration of one Store.Commit call.
func (r Result) MeanCommit() time.Duration {
	if r.StoreCommits == 0 {
		return 0
	}
	return r.CommitTime / time.Duration(r.StoreCommits)
}

// String formats the result as one line.
func (r Result) String() string {
	return fmt.Sprintf("%d executions in %s (%d in flight, %d workers): %.0f executions/s, %.0f state transitions/s, dispatch to callback p50 %s p99 %s; %d group commits of %.1f, %s each",
		r.Executions, r.Elapsed.Round(time.Millisecond), r.InFlight, r.Workers, r.ExecutionsPerSec, r.TransitionsPerSec,
		r.LatencyP50.Round(time.Microsecond), r.LatencyP99.Round(time.Microsecond),
		r.StoreCommits, r.CommitsPerCall(), r.MeanCommit().Round(time.Microsecond))
}

// timedStore counts and times the engine's Store.Commit calls.
type timedStore struct {
	engine.Store
	calls, commits, nanos atomic.Int64
}

func (s *timedStore) Commit(ctx context.Context, commits []engine.Commit) error {
	start := time.Now()
	err := s.Store.Commit(ctx, commits)
	s.nanos.Add(int64(time.Since(start)))
	s.calls.Add(1)
	s.commits.Add(int64(len(commits)))
	return err
}

// KeepsBatches forwards the answer of the store it times (see
// engine.BatchKeeper).
func (s *timedStore) KeepsBatches() bool {
	k, ok := s.Store.(engine.BatchKeeper)
	return ok && k.KeepsBatches()
}

// rig is an engine, its queue and the echo worker.
type rig struct {
	engine  *engine.Engine
	broker  *queue.Broker
	smARN   string
	sent    sync.Map // task token -> send time
	latMu   sync.Mutex
	lat     []time.Duration
	noReply atomic.Bool
	sends   atomic.Int64 // messages sent
	traced  *traced      // nil when the run is not traced
}

type timedSender struct{ r *rig }

// SendMessage notes when a task's message was sent, by its task token,
// before sending it: a worker may answer before SendMessage returns.
func (s timedSender) SendMessage(ctx context.Context, p sfn.SendMessageParams) (string, error) {
	token := tokenOf(p.Body)
	if token != "" {
		s.r.sent.Store(token, time.Now())
	}
	id, err := s.r.broker.SendMessage(ctx, p)
	if err != nil && token != "" {
		s.r.sent.Delete(token)
	}
	if err == nil {
		s.r.sends.Add(1)
	}
	return id, err
}

// tokenOf finds the task token in a message body the benchmark's
// Parameters make, without decoding the whole body; "" when there is
// none. Tokens need no JSON escapes.
func tokenOf(body string) string {
	const key = `"taskToken":"`
	_, rest, ok := strings.Cut(body, key)
	if !ok {
		return ""
	}
	token, _, ok := strings.Cut(rest, `"`)
	if !ok {
		return ""
	}
	return token
}

func newRig(ctx context.Context, store engine.Store, workers, batch int) (*rig, error) {
	r := &rig{broker: queue.New(queue.Config{})}
	if _, err := r.broker.CreateQueue(queue.QueueConfig{Name: "bench-steps", URL: QueueURL}); err != nil {
		return nil, err
	}
	e, err := engine.New(engine.Config{Store: store, Queues: timedSender{r}})
	if err != nil {
		return nil, err
	}
	if err := e.Start(ctx); err != nil {
		return nil, err
	}
	r.engine = e
	if _, err := r.broker.Subscribe(QueueURL, r.handle, queue.MappingConfig{MaxConcurrency: workers, BatchSize: batch}); err != nil {
		r.close()
		return nil, err
	}
	sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: fmt.Sprintf("bench-%d", time.Now().UnixNano()), Definition: Definition})
	if err != nil {
		r.close()
		return nil, err
	}
	r.smARN = sm.StateMachineARN
	return r, nil
}

func (r *rig) close() {
	r.broker.Close()
	if r.engine != nil {
		r.engine.Close()
	}
}

// handle is the echo worker: a Lambda SQS handler.
func (r *rig) handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	if r.noReply.Load() {
		return resp, nil
	}
	for _, m := range ev.Records {
		var body struct {
			TaskToken string          `json:"taskToken"`
			Input     json.RawMessage `json:"input"`
		}
		mctx, span := r.traced.message(ctx, m)
		err := json.Unmarshal([]byte(m.Body), &body)
		if err == nil {
			cctx, cspan := r.traced.callback(mctx)
			err = r.engine.SendTaskSuccess(cctx, sfn.SendTaskSuccessInput{TaskToken: body.TaskToken, Output: string(body.Input)})
			cspan.End()
		}
		span.End()
		if err != nil {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			continue
		}
		if v, ok := r.sent.LoadAndDelete(body.TaskToken); ok {
			d := time.Since(v.(time.Time))
			r.latMu.Lock()
			r.lat = append(r.lat, d)
			r.latMu.Unlock()
		}
	}
	return resp, nil
}

// Run runs executions, p.InFlight at a time, until p.Executions have
// ended or p.Duration has passed, and measures. It returns the first
// execution's error that did not succeed, or ctx's when it ends first.
func Run(ctx context.Context, p Params) (Result, error) {
	if p.Executions <= 0 && p.Duration <= 0 {
		return Result{}, errors.New("enginebench: Executions or Duration must be positive")
	}
	inFlight := p.InFlight
	if inFlight <= 0 {
		inFlight = 1000
	}
	workers := p.Workers
	if workers <= 0 {
		workers = DefaultWorkers
	}
	inner := p.Store
	tracingOn := p.Tracing != nil && p.Tracing.Enabled()
	if tracingOn {
		inner = tracedStore(inner, p.Tracing)
	}
	store := &timedStore{Store: inner}
	r, err := newRig(ctx, store, workers, p.BatchSize)
	if err != nil {
		return Result{}, err
	}
	defer r.close()
	if tracingOn {
		r.traced = &traced{tracer: p.Tracing.TracerProvider().Tracer(benchTracer), engineOnly: p.TraceEngineOnly}
	}

	started, elapsed, cpu, err := runExecutions(ctx, p.Executions, inFlight, p.Duration, r.runOne)
	if err != nil {
		return Result{}, err
	}
	res := Result{Executions: started, InFlight: inFlight, Workers: workers, Elapsed: elapsed,
		ExecutionsPerSec:  float64(started) / elapsed.Seconds(),
		TransitionsPerSec: float64(started*TransitionsPerExecution) / elapsed.Seconds(),
		StoreCommits:      store.calls.Load(),
		CommitsWritten:    store.commits.Load(),
		CommitTime:        time.Duration(store.nanos.Load()),
		CPU:               cpu}
	// The last callback ends its execution before its SendTaskSuccess
	// returns to the worker, which notes the latency after: stop the
	// workers, which waits for running handlers, before counting.
	r.broker.Close()
	res.LatencyP50, res.LatencyP99, res.Callbacks = r.percentiles()
	return res, nil
}

// runOne starts one execution and waits for its end through the
// engine's StartSyncExecution-style wait: DescribeExecution after the
// engine reports it closed.
func (r *rig) runOne(ctx context.Context, i int) error {
	out, err := r.traced.start(ctx, r.engine, sfn.StartExecutionInput{StateMachineARN: r.smARN, Name: fmt.Sprintf("e%d", i), Input: fmt.Sprintf(`{"n":%d,"payload":"0123456789abcdef0123456789abcdef"}`, i)})
	if err != nil {
		return err
	}
	if err := r.engine.Wait(ctx, out.ExecutionARN); err != nil {
		return err
	}
	d, err := r.engine.DescribeExecution(ctx, out.ExecutionARN)
	if err != nil {
		return err
	}
	if d.Status != sfn.StatusSucceeded {
		return fmt.Errorf("execution %s ended %s: %s: %s", d.ExecutionARN, d.Status, d.Error, d.Cause)
	}
	return nil
}

func (r *rig) percentiles() (p50, p99 time.Duration, n int) {
	r.latMu.Lock()
	defer r.latMu.Unlock()
	if len(r.lat) == 0 {
		return 0, 0, 0
	}
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	return r.lat[len(r.lat)/2], r.lat[len(r.lat)*99/100], len(r.lat)
}

// MemoryResult is what MeasureInFlight measured.
type MemoryResult struct {
	InFlight int
	// HeapBytes is the growth of the live heap with all of them in flight.
	HeapBytes uint64
	// PerExecution is HeapBytes / InFlight.
	PerExecution uint64
	// Elapsed is how long starting them took.
	Elapsed time.Duration
}

// MeasureInFlight starts n executions whose first task is never answered
// and measures the live heap they hold once each has sent its message and
// its TaskSubmitted is written (which the engine does alone after
// engine.DefaultSubmittedWait when no callback comes): the engine's state,
// the store's history and the queued messages, as an execution waiting on
// its worker holds them.
func MeasureInFlight(ctx context.Context, store engine.Store, n int) (MemoryResult, error) {
	before := liveHeap()
	r, err := newRig(ctx, store, 1, 0)
	if err != nil {
		return MemoryResult{}, err
	}
	defer r.close()
	r.noReply.Store(true)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 256)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := r.engine.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: r.smARN, Name: fmt.Sprintf("m%d", i), Input: fmt.Sprintf(`{"n":%d,"payload":"0123456789abcdef0123456789abcdef"}`, i)})
			if err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	select {
	case err := <-errs:
		return MemoryResult{}, err
	default:
	}
	for r.sends.Load() < int64(n) {
		if err := ctx.Err(); err != nil {
			return MemoryResult{}, err
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(engine.DefaultSubmittedWait + 100*time.Millisecond)
	after := liveHeap()
	runtime.KeepAlive(r)
	grown := uint64(0)
	if after > before {
		grown = after - before
	}
	return MemoryResult{InFlight: n, HeapBytes: grown, PerExecution: grown / uint64(n), Elapsed: elapsed}, nil
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// runExecutions runs run(ctx, i) for i = 0, 1, ..., at most inFlight at
// once, until n have started (no bound when n <= 0), duration has passed
// (when positive) or one fails, and returns how many started, the time
// they took and the process's CPU time over it. The first failure stops
// the starting and cancels the waits of the executions in flight, so it
// returns promptly, with that failure and how many failed.
func runExecutions(ctx context.Context, n, inFlight int, duration time.Duration, run func(context.Context, int) error) (started int, elapsed, cpu time.Duration, err error) {
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var deadline <-chan time.Time
	if duration > 0 {
		t := time.NewTimer(duration)
		defer t.Stop()
		deadline = t.C
	}
	start, cpuStart := time.Now(), procstat.CPU()
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	var failed atomic.Int64
starting:
	for n <= 0 || started < n {
		select {
		case sem <- struct{}{}:
		case <-deadline:
			break starting
		case <-runCtx.Done():
			break starting
		}
		if duration > 0 && time.Since(start) >= duration {
			break
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := run(runCtx, i); err != nil {
				if runCtx.Err() != nil && errors.Is(err, context.Canceled) {
					return // stopped by the first failure or by ctx, not failed
				}
				failed.Add(1)
				cancel(err)
			}
		}(started)
		started++
	}
	wg.Wait()
	elapsed, cpu = time.Since(start), procstat.CPU()-cpuStart
	if err := context.Cause(runCtx); err != nil {
		if n := failed.Load(); n > 0 {
			return started, elapsed, cpu, fmt.Errorf("%d of %d executions failed; the first: %w", n, started, err)
		}
		return started, elapsed, cpu, err
	}
	return started, elapsed, cpu, nil
}
