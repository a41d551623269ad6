package engine

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aiflow/aiflow/internal/clock"
	"github.com/aiflow/aiflow/internal/sfn"
)

// Config configures New.
type Config struct {
	// Store keeps state machines and histories: NewMemoryStore, or the
	// PostgreSQL store of package enginestore for durability.
	Store Store
	// Queues receives the messages of sqs:sendMessage tasks; nil makes
	// such tasks fail with SQS.QueueDoesNotExistException.
	Queues sfn.QueueSender
	// Functions runs Lambda tasks; nil makes them fail with
	// Lambda.ResourceNotFoundException.
	Functions sfn.FunctionInvoker
	// Clock is the time; nil means the system's, its timers (every
	// task's, execution's and Wait state's) kept in a clock.Heap.
	Clock clock.Clock
	// Random is the source of task tokens, generated execution names and
	// jitter; nil means crypto/rand.
	Random io.Reader
	// Region and AccountID go into ARNs; defaults us-east-1 and
	// 123456789012, as Step Functions Local uses.
	Region    string
	AccountID string
	// Logger receives what the engine does on its own; nil discards.
	Logger *slog.Logger
	// CommitBatch caps the transitions written in one Store.Commit;
	// 0 means 1000.
	CommitBatch int
	// CommitWriters is how many group commits may be in flight at once;
	// 0 means 4. Each execution's transitions go to one writer, in
	// order, so that a durable store can build one group while another
	// waits on its disk.
	CommitWriters int
	// CloseTimeout bounds how long Close waits for the engine's
	// goroutines (its commit writers, Lambda invocations, timer
	// callbacks) to end; 0 means DefaultCloseTimeout. It is measured on
	// Clock.
	CloseTimeout time.Duration
	// SubmittedWait is how long the TaskSubmitted event of a
	// waitForTaskToken task may wait to be written with its execution's
	// next transition (most often its callback's) rather than in a
	// write of its own; 0 means DefaultSubmittedWait, a negative value
	// writes it at once. It is measured on Clock.
	SubmittedWait time.Duration
}

// DefaultSubmittedWait is Config.SubmittedWait's default.
const DefaultSubmittedWait = time.Second

// Engine runs state machines with the semantics of Step Functions
// Standard workflows. Its methods are the Step Functions API; see the
// package documentation.
type Engine struct {
	store     Store
	queues    sfn.QueueSender
	functions sfn.FunctionInvoker
	clock     clock.Clock
	random    io.Reader
	randMu    sync.Mutex
	region    string
	account   string
	log       *slog.Logger
	maxBatch  int
	// keepBatches is set when the store keeps batches as values (see
	// BatchKeeper).
	keepBatches bool

	// uniqueNames is set when random is crypto/rand: a name the engine
	// makes (a version 7 UUID, see executionName) is then no stored
	// execution's.
	uniqueNames bool
	// closedRecs keeps the records of the executions that closed last.
	closedRecs recentClosed

	// life owns the engine's goroutines. runCtx ends when Close begins:
	// Lambda invocations run on it. drainCtx ends when Close stops
	// waiting: commits and messages sent run on it, so that the
	// transitions made before Close are written while it waits, and a
	// store that hangs is given up. closing is closed when Close begins,
	// halted when it returns, for callers who wait on an execution or a
	// write.
	life                   *lifetime
	runCtx, drainCtx       context.Context
	cancelRun, cancelDrain context.CancelFunc
	closeTimeout           time.Duration
	submittedWait          time.Duration
	// late holds the executions whose TaskSubmitted waits (see
	// deferwrite.go).
	late            lateQueue
	closing, halted chan struct{}

	mu       sync.Mutex
	machines map[string]*machine // by ARN
	vs       versionSet
	execs    map[string]*execution
	closed   bool
	started  bool
	// running is started and not closed, kept with them under mu and read
	// without it: every call checks it (checkOpen), and the engine's lock
	// is the one its calls wait on most.
	running atomic.Bool

	commits []*fifo[*pendingCommit] // one per writer
	effects *fifo[[]func()]
	// storeFailing is set while a writer retries a commit the store
	// failed (see outage.go).
	storeFailing atomic.Bool

	// activities are the activities and their tasks waiting for a worker.
	activities activityBoard
	// work counts the transitions and effects in hand (see skip.go).
	work workCount
}

// New returns an engine; call Start before using it.
func New(cfg Config) (*Engine, error) {
	if cfg.Store == nil {
		return nil, errors.New("engine: Config.Store is required")
	}
	e := &Engine{
		store:     cfg.Store,
		queues:    cfg.Queues,
		functions: cfg.Functions,
		clock:     cfg.Clock,
		random:    cfg.Random,
		region:    cfg.Region,
		account:   cfg.AccountID,
		log:       cfg.Logger,
		maxBatch:  cfg.CommitBatch,
		machines:  map[string]*machine{},
		vs:        newVersionSet(),
		execs:     map[string]*execution{},

		life:          newLifetime(),
		closeTimeout:  cfg.CloseTimeout,
		submittedWait: cfg.SubmittedWait,
		closing:       make(chan struct{}),
		halted:        make(chan struct{}),
	}
	e.keepBatches = keepsBatches(cfg.Store)
	if e.closeTimeout <= 0 {
		e.closeTimeout = DefaultCloseTimeout
	}
	if e.submittedWait == 0 {
		e.submittedWait = DefaultSubmittedWait
	}
	if e.clock == nil {
		e.clock = clock.NewHeap()
	}
	if e.random == nil {
		e.random, e.uniqueNames = rand.Reader, true
	}
	if e.region == "" {
		e.region = "us-east-1"
	}
	if e.account == "" {
		e.account = "123456789012"
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.maxBatch <= 0 {
		e.maxBatch = 1000
	}
	writers := cfg.CommitWriters
	if writers <= 0 {
		writers = 4
	}
	e.commits = make([]*fifo[*pendingCommit], writers)
	for i := range e.commits {
		e.commits[i] = newFIFO[*pendingCommit]()
		e.commits[i].work = &e.work
	}
	e.effects = newFIFO[[]func()]()
	e.effects.work = &e.work
	e.watchedBy(e.clock)
	return e, nil
}

// Start loads the state machines and resumes every open execution from
// its history: tasks in flight are dispatched again, timers armed again
// for what is left of them. Then it starts the engine's writer. The
// engine's work keeps ctx's values but not its end: Close ends it.
// Starting a closed engine is ServiceUnavailable.
func (e *Engine) Start(ctx context.Context) error {
	e.mu.Lock()
	if e.closed || e.started {
		e.mu.Unlock()
		return errorf(sfn.CodeServiceUnavailable, "the engine is closed or started already")
	}
	e.mu.Unlock()
	base := context.WithoutCancel(ctx)
	e.runCtx, e.cancelRun = context.WithCancel(base)
	e.drainCtx, e.cancelDrain = context.WithCancel(base)
	sms, err := e.store.StateMachines(ctx)
	if err != nil {
		return fmt.Errorf("loading state machines: %w", err)
	}
	for _, r := range sms {
		m, err := newMachine(r)
		if err != nil {
			return fmt.Errorf("loading state machine %s: %w", r.ARN, err)
		}
		e.machines[r.ARN] = m
	}
	if err := e.loadVersions(ctx); err != nil {
		return err
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		e.cancelRun()
		e.cancelDrain()
		return errorf(sfn.CodeServiceUnavailable, "the engine is closed")
	}
	for i, q := range e.commits {
		e.spawn(activity{what: fmt.Sprintf("commit writer %d", i)}, func() { e.commitLoop(q) })
	}
	e.spawn(activity{what: "effect loop"}, e.effectLoop)
	e.started = true
	e.running.Store(true)
	e.mu.Unlock()
	if err := e.loadActivities(ctx); err != nil {
		return err
	}
	open, err := e.store.OpenExecutions(ctx)
	if err != nil {
		return fmt.Errorf("loading open executions: %w", err)
	}
	for _, rec := range open {
		if err := e.resume(ctx, rec); err != nil {
			return fmt.Errorf("resuming execution %s: %w", rec.ARN, err)
		}
	}
	e.finishDeletes(ctx)
	return nil
}

// Close stops the engine: no new work is accepted, timers stop (a timer
// that fires later does nothing), Lambda invocations in flight are
// cancelled, callers waiting for an execution to end return
// ServiceUnavailable, and the transitions already made are written. It
// waits for every goroutine of the engine for at most
// Config.CloseTimeout; then it cancels the commits still in flight and
// returns an error naming what did not stop. Executions stay open in the
// Store and resume on the next Start. A second Close returns nil.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.running.Store(false)
	execs := make([]*execution, 0, len(e.execs))
	for _, x := range e.execs {
		execs = append(execs, x)
	}
	started := e.started
	e.mu.Unlock()
	defer close(e.halted)
	close(e.closing)
	e.life.stop()
	for _, x := range execs {
		x.mu.Lock()
		x.writeLate()
		x.stopTimers()
		x.mu.Unlock()
	}
	if !started {
		return nil
	}
	e.cancelRun()
	for _, q := range e.commits {
		q.close()
	}
	e.effects.close()
	expired := make(chan struct{})
	stop := e.clock.AfterFunc(e.closeTimeout, func() { close(expired) })
	defer stop()
	select {
	case <-e.life.idle:
		e.cancelDrain()
		return nil
	case <-expired:
	}
	e.cancelDrain()
	n, what := e.life.stillRunning()
	if n == 0 {
		return nil
	}
	e.log.Error("closing the engine: goroutines did not stop in time", "timeout", e.closeTimeout, "goroutines", n, "running", what)
	return fmt.Errorf("closing the engine: %d goroutines did not stop within %s: %s", n, e.closeTimeout, what)
}

// awaitWrite waits for the outcome of a transition's write, which done
// receives; it gives up when ctx ends or the engine has closed, as the
// write may then never end.
func (e *Engine) awaitWrite(ctx context.Context, done chan error) error {
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-e.halted:
		select {
		case err := <-done:
			return err
		default:
		}
		return errorf(sfn.CodeServiceUnavailable, "the engine closed before the transition was written")
	}
}

func (e *Engine) now() time.Time { return e.clock.Now().UTC() }

func (e *Engine) randomBytes(n int) []byte {
	b := make([]byte, n)
	e.randMu.Lock()
	defer e.randMu.Unlock()
	if _, err := io.ReadFull(e.random, b); err != nil {
		panic(fmt.Sprintf("engine: reading random bytes: %v", err))
	}
	return b
}

func (e *Engine) checkOpen() error {
	if !e.running.Load() {
		return errorf(sfn.CodeServiceUnavailable, "the engine is not running")
	}
	return nil
}

// storeError turns a Store's error into the API's.
func (e *Engine) storeError(op string, err error) error {
	var ae *sfn.Error
	if errors.As(err, &ae) {
		return ae
	}
	e.log.Error("store failed", "op", op, "err", err)
	return errorf(sfn.CodeServiceUnavailable, "the engine's store failed during %s", op)
}

// pendingCommit is one transition waiting to be written, with what to do
// once it is.
type pendingCommit struct {
	x       *execution
	commit  Commit
	effects []func()
	done    chan error // nil when nobody waits
	// prevEventID is the id of the execution's last history event before
	// this transition's.
	prevEventID int64
	// replacement marks the execution's failure written in place of a
	// transition the store refused.
	replacement bool
	// handoffs are effects the writer runs itself (see handOff).
	handoffs []func()
}

// fifo is an unbounded queue with one consumer: producers (executions,
// the writer) never block on it, and the consumer takes all that is ready
// at once.
type fifo[T any] struct {
	mu     sync.Mutex
	items  []T
	wake   chan struct{}
	closed bool
	// work, when set, counts the items pushed until the consumer says
	// they are done.
	work *workCount
}

func newFIFO[T any]() *fifo[T] { return &fifo[T]{wake: make(chan struct{}, 1)} }

// push queues v; it reports false, and queues nothing, once the queue is
// closed.
func (q *fifo[T]) push(v T) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	if q.work != nil {
		q.work.add(1)
	}
	q.items = append(q.items, v)
	q.mu.Unlock()
	q.signal()
	return true
}

func (q *fifo[T]) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take waits for work and returns all of it; ok is false once the queue
// is closed and drained.
func (q *fifo[T]) take() (items []T, ok bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			items, q.items = q.items, nil
			q.mu.Unlock()
			return items, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return nil, false
		}
		<-q.wake
	}
}

func (q *fifo[T]) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

// commitLoop is the engine's single writer: it writes every transition
// that is ready in one Store.Commit (group commit), then hands their
// effects on.
func (e *Engine) commitLoop(commits *fifo[*pendingCommit]) {
	for {
		items, ok := commits.take()
		if !ok {
			return
		}
		for len(items) > 0 {
			n := min(len(items), e.maxBatch)
			e.write(items[:n])
			e.work.done(n)
			items = items[n:]
		}
	}
}

// write writes a group of transitions in one Store.Commit, retrying with
// backoff while the store fails in a way that may pass (see refusal). When
// the store refuses the group, which writing again cannot mend, it writes
// the halves apart, so that only the executions whose transitions are
// refused end: one refused for its data fails (see failRefused), a new
// execution whose name was taken by a closed one fails its start with
// ExecutionAlreadyExists, an execution another engine changed stops being
// driven here, and the other executions of the group carry on. Once the engine closes it stops retrying, and once
// Close stops waiting the commit in flight is cancelled; the transitions
// not written are not lost: their executions resume from the store's
// history on the next Start.
func (e *Engine) write(chunk []*pendingCommit) {
	chunk = e.skipRefused(chunk)
	if len(chunk) == 0 {
		return
	}
	var backoff time.Duration
	var failingSince time.Time
	buf, commits := commitBuffer(len(chunk))
	defer func() { putCommitBuffer(buf, commits) }()
	for _, p := range chunk {
		commits = append(commits, p.commit)
	}
	for {
		err := e.store.Commit(e.drainCtx, commits)
		if err == nil {
			e.storeFailing.Store(false)
			for _, p := range chunk {
				// The record as of the transition, copied only when it
				// changed: most transitions leave it as it was.
				if w := p.x.written.Load(); w == nil || *w != p.commit.Execution {
					rec := p.commit.Execution
					p.x.written.Store(&rec)
				}
				recycleEvents(p.commit.Events)
				for _, f := range p.handoffs {
					f()
				}
				if len(p.effects) > 0 {
					e.effects.push(p.effects)
				}
				if p.done != nil {
					p.done <- nil
				}
				putPendingCommit(p)
			}
			return
		}
		if e.drainCtx.Err() == nil && isRefusal(err) {
			e.refused(chunk, err)
			return
		}
		if e.isClosed() {
			e.log.Warn("writing transitions failed while the engine closes; their executions resume from the store on the next start", "err", err, "transitions", len(chunk))
			for _, p := range chunk {
				if p.done != nil {
					p.done <- e.storeError("commit", err)
				}
			}
			return
		}
		backoff = min(max(2*backoff, 10*time.Millisecond), 2*time.Second)
		e.storeFailing.Store(true)
		if failingSince.IsZero() {
			failingSince = e.now()
		} else if e.now().Sub(failingSince) >= answerWaitersAfter {
			e.answerWaiters(chunk, err)
		}
		e.log.Error("writing transitions failed; retrying", "err", err, "transitions", len(chunk), "retry_in", backoff)
		wait := make(chan struct{})
		stop := e.clock.AfterFunc(backoff, func() { close(wait) })
		select {
		case <-wait:
		case <-e.closing:
			stop()
		}
	}
}

// isRefusal reports whether a Store refused a commit for a reason writing
// it again cannot mend: an error wrapping ErrCommitRefused, or any
// *sfn.Error but ServiceUnavailable and ExecutionLimitExceeded (which say
// the store is unavailable or busy), such as ConflictException for a
// transition another engine wrote first or a name a closed execution has,
// and ValidationException for a transition the store cannot hold. Every
// other error may pass.
func isRefusal(err error) bool {
	if errors.Is(err, ErrCommitRefused) {
		return true
	}
	var ae *sfn.Error
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.Code {
	case sfn.CodeServiceUnavailable, sfn.CodeExecutionLimitExceeded:
		return false
	}
	return true
}

// refused writes the halves of a refused group apart, and fails or drops
// the execution of a lone refused transition.
func (e *Engine) refused(chunk []*pendingCommit, err error) {
	if len(chunk) > 1 {
		half := len(chunk) / 2
		e.write(chunk[:half])
		e.write(chunk[half:])
		return
	}
	p := chunk[0]
	var ae *sfn.Error
	isAPIError := errors.As(err, &ae)
	if !p.replacement && (errors.Is(err, ErrCommitRefused) || isAPIError && ae.Code == sfn.CodeValidation) {
		e.failRefused(p, err)
		return
	}
	e.forget(p.x)
	switch {
	case p.replacement:
		e.log.Error("the failure of an execution whose transition the store refused is refused too; dropping the execution from memory",
			"execution", p.commit.Execution.ARN, "err", err)
		if p.done != nil {
			p.done <- p.x.refusal.Load()
		}
	case isAPIError && ae.Code == sfn.CodeConflict && p.commit.Seq == 1:
		// A closed execution (or one of another engine) has this name
		// already.
		e.log.Info("start refused: the execution exists already", "execution", p.commit.Execution.ARN, "err", err)
		if p.done != nil {
			p.done <- errorf(sfn.CodeExecutionAlreadyExists, "execution %s exists already", p.commit.Execution.ARN)
		}
	case isAPIError:
		e.log.Error("commit refused; dropping the execution from memory", "execution", p.commit.Execution.ARN, "err", err)
		if p.done != nil {
			p.done <- errorf(sfn.CodeServiceUnavailable, "the execution's transition could not be stored: %s", ae.Message)
		}
	default:
		// The store's own words stay in the log, as storeError keeps them.
		e.log.Error("commit refused; dropping the execution from memory", "execution", p.commit.Execution.ARN, "err", err)
		if p.done != nil {
			p.done <- errorf(sfn.CodeServiceUnavailable, "the execution's transition could not be stored")
		}
	}
}

func (e *Engine) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

func (e *Engine) forget(x *execution) {
	e.leave(x)
	x.mu.Lock()
	x.dead = true
	x.stopTimers()
	x.mu.Unlock()
	x.closeDone()
}

func (e *Engine) effectLoop() {
	for {
		items, ok := e.effects.take()
		if !ok {
			return
		}
		for _, fs := range items {
			for _, f := range fs {
				f()
			}
			e.work.done(1)
		}
	}
}
