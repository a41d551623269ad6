package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/enginetest"
	"github.com/aiflow/aiflow/internal/sfn"
)

// The tests of the engine's lifecycle run in synctest bubbles: time is
// fake, synctest.Wait says when every goroutine is blocked, and the bubble
// fails the test when a goroutine of the engine outlives it.

// startEngine starts an engine on cfg and closes it when the test ends.
func startEngine(t *testing.T, cfg engine.Config) *engine.Engine {
	t.Helper()
	e, err := engine.New(cfg)
	require.NoError(t, err)
	require.NoError(t, e.Start(t.Context()))
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func createMachine(t *testing.T, e *engine.Engine, typ, definition string) string {
	t.Helper()
	sm, err := e.CreateStateMachine(t.Context(), sfn.CreateStateMachineInput{Name: strings.ToLower(typ) + "-machine", Type: typ, Definition: definition})
	require.NoError(t, err)
	return sm.StateMachineARN
}

func requireCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae *sfn.Error
	require.ErrorAs(t, err, &ae)
	require.Equal(t, code, ae.Code, ae.Message)
}

const passMachine = `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`

// senderFunc is a QueueSender.
type senderFunc func(ctx context.Context, p sfn.SendMessageParams) (string, error)

func (f senderFunc) SendMessage(ctx context.Context, p sfn.SendMessageParams) (string, error) {
	return f(ctx, p)
}

// TestCloseEndsEveryGoroutine: with a Lambda invocation in flight, Wait,
// timeout, heartbeat and TimeoutSeconds timers armed, Close cancels the
// invocation and returns nil, and no goroutine of the engine outlives it
// (the bubble would fail the test).
func TestCloseEndsEveryGoroutine(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		invoked := make(chan struct{}, 1)
		ended := make(chan error, 1)
		fns := &engine.FunctionRegistry{}
		fns.Register("Hang", func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
			invoked <- struct{}{}
			<-ctx.Done()
			ended <- ctx.Err()
			return nil, ctx.Err()
		})
		sent := make(chan struct{}, 1)
		queues := senderFunc(func(context.Context, sfn.SendMessageParams) (string, error) {
			sent <- struct{}{}
			return "m-1", nil
		})
		e := startEngine(t, engine.Config{Store: engine.NewMemoryStore(), Functions: fns, Queues: queues})
		arn := createMachine(t, e, sfn.TypeStandard, `{"StartAt":"P","TimeoutSeconds":7200,"States":{"P":{"Type":"Parallel","End":true,"Branches":[
			{"StartAt":"H","States":{"H":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:Hang","TimeoutSeconds":3600,"End":true}}},
			{"StartAt":"Q","States":{"Q":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","HeartbeatSeconds":600,
				"Parameters":{"QueueUrl":"http://sqs.us-east-1.localhost/123456789012/q","MessageBody":{"token.$":"$$.Task.Token"}},"End":true}}},
			{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}]}}}`)
		x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn})
		require.NoError(t, err)
		<-invoked
		<-sent
		synctest.Wait()

		require.NoError(t, e.Close())
		require.ErrorIs(t, <-ended, context.Canceled, "Close cancels the invocation in flight")
		require.NoError(t, e.Close(), "a second Close changes nothing")
		_, err = e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn})
		requireCode(t, err, sfn.CodeServiceUnavailable)
		d, err := e.DescribeExecution(t.Context(), x.ExecutionARN)
		require.NoError(t, err)
		require.Equal(t, sfn.StatusRunning, d.Status, "the execution stays open in the store, to resume on the next Start")
	})
}

// TestCloseWaitsForADeafInvocation: a Lambda function that ignores its
// cancellation holds Close for Config.CloseTimeout, and Close names it.
func TestCloseWaitsForADeafInvocation(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		invoked, release := make(chan struct{}), make(chan struct{})
		fns := &engine.FunctionRegistry{}
		fns.Register("Deaf", func(context.Context, json.RawMessage) (json.RawMessage, error) {
			close(invoked)
			<-release
			return json.RawMessage(`{}`), nil
		})
		e := startEngine(t, engine.Config{Store: engine.NewMemoryStore(), Functions: fns, CloseTimeout: 2 * time.Second})
		arn := createMachine(t, e, sfn.TypeStandard, `{"StartAt":"D","States":{"D":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:Deaf","End":true}}}`)
		x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn})
		require.NoError(t, err)
		<-invoked

		begin := time.Now()
		err = e.Close()
		require.Equal(t, 2*time.Second, time.Since(begin))
		require.ErrorContains(t, err, "1 goroutines did not stop within 2s: invoking arn:aws:lambda:us-east-1:123456789012:function:Deaf for "+x.ExecutionARN)
		close(release)
		synctest.Wait()
		d, err := e.DescribeExecution(t.Context(), x.ExecutionARN)
		require.NoError(t, err)
		require.Equal(t, sfn.StatusRunning, d.Status, "a result after Close is not recorded")
	})
}

// TestCloseEndsCallersThatWait: StartSyncExecution and Wait return
// ServiceUnavailable when the engine closes before their execution ends.
func TestCloseEndsCallersThatWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := startEngine(t, engine.Config{Store: engine.NewMemoryStore()})
		const waiting = `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`
		express := createMachine(t, e, sfn.TypeExpress, waiting)
		standard := createMachine(t, e, sfn.TypeStandard, waiting)
		x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: standard})
		require.NoError(t, err)
		errs := make(chan error, 2)
		go func() {
			_, err := e.StartSyncExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: express})
			errs <- err
		}()
		go func() { errs <- e.Wait(t.Context(), x.ExecutionARN) }()
		synctest.Wait()
		require.Empty(t, errs, "both wait for their executions")

		require.NoError(t, e.Close())
		requireCode(t, <-errs, sfn.CodeServiceUnavailable)
		requireCode(t, <-errs, sfn.CodeServiceUnavailable)
	})
}

// TestCloseIsBoundedWhileACommitHangs: a store whose Commit never returns
// holds Close for Config.CloseTimeout and no longer; Close names the
// goroutine that did not stop, and the start waiting for the commit
// returns.
func TestCloseIsBoundedWhileACommitHangs(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var hang atomic.Bool
		store := &enginetest.Store{Store: engine.NewMemoryStore()}
		store.CommitFunc = func(ctx context.Context, commits []engine.Commit) error {
			if hang.Load() {
				<-release // deaf to ctx, as a store stuck in a driver may be
			}
			return store.Store.Commit(ctx, commits)
		}
		e := startEngine(t, engine.Config{Store: store, CloseTimeout: 5 * time.Second})
		arn := createMachine(t, e, sfn.TypeStandard, passMachine)
		hang.Store(true)
		started := make(chan error, 1)
		go func() {
			_, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn})
			started <- err
		}()
		synctest.Wait()
		require.Empty(t, started, "the start waits for its commit")

		begin := time.Now()
		err := e.Close()
		require.Equal(t, 5*time.Second, time.Since(begin), "Close waits for its bound, on the bubble's fake clock")
		require.ErrorContains(t, err, "1 goroutines did not stop within 5s")
		require.ErrorContains(t, err, "commit writer")
		requireCode(t, <-started, sfn.CodeServiceUnavailable)

		close(release) // the stuck goroutine ends with the test
		synctest.Wait()
	})
}

// TestCloseCancelsAHangingCommit: a Commit that waits on its context is
// cancelled when Close's bound runs out, so its goroutine ends.
func TestCloseCancelsAHangingCommit(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var hang atomic.Bool
		cancelled := make(chan error, 1)
		store := &enginetest.Store{Store: engine.NewMemoryStore()}
		store.CommitFunc = func(ctx context.Context, commits []engine.Commit) error {
			if hang.Load() {
				<-ctx.Done()
				cancelled <- ctx.Err()
				return ctx.Err()
			}
			return store.Store.Commit(ctx, commits)
		}
		e := startEngine(t, engine.Config{Store: store, CloseTimeout: time.Second})
		arn := createMachine(t, e, sfn.TypeStandard, passMachine)
		hang.Store(true)
		started := make(chan error, 1)
		go func() {
			_, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn})
			started <- err
		}()
		synctest.Wait()

		_ = e.Close() // it may or may not see the writer end in time; the bubble checks that it ends
		require.ErrorIs(t, <-cancelled, context.Canceled)
		requireCode(t, <-started, sfn.CodeServiceUnavailable)
		synctest.Wait()
	})
}

// TestRefusedCommitIsNotRetried: a group commit the store refuses is
// written in halves; the refused start's failure is refused too, so the
// start fails naming the refusal, the other execution of the group
// succeeds, nothing is written again and again, and Close returns.
func TestRefusedCommitIsNotRetried(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		var (
			mu       sync.Mutex
			attempts = map[string]int{} // execution name -> calls holding its commits
		)
		store := &enginetest.Store{Store: engine.NewMemoryStore()}
		store.CommitFunc = func(ctx context.Context, commits []engine.Commit) error {
			refused := false
			mu.Lock()
			for _, c := range commits {
				attempts[c.Execution.Name]++
				refused = refused || c.Execution.Name == "refused"
			}
			mu.Unlock()
			if commits[0].Execution.Name == "gate" {
				<-gate // holds the writer while the next two queue up
			}
			mu.Lock()
			tries := attempts["refused"]
			mu.Unlock()
			if refused && tries <= 5 { // a regression that retries fails the test rather than hang it
				return &sfn.Error{Code: sfn.CodeValidation, Message: "the store cannot hold this"}
			}
			return store.Store.Commit(ctx, commits)
		}
		e := startEngine(t, engine.Config{Store: store, CommitWriters: 1})
		arn := createMachine(t, e, sfn.TypeStandard, passMachine)
		start := func(name string, errs chan<- error) {
			_, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn, Name: name})
			errs <- err
		}
		gated, refused, fine := make(chan error, 1), make(chan error, 1), make(chan error, 1)
		go start("gate", gated)
		synctest.Wait()
		go start("refused", refused)
		go start("fine", fine)
		synctest.Wait()
		close(gate)

		require.NoError(t, <-gated)
		require.NoError(t, <-fine)
		err := <-refused
		requireCode(t, err, sfn.CodeValidation)
		require.ErrorContains(t, err, "the store cannot hold this")
		synctest.Wait()
		mu.Lock()
		require.Equal(t, map[string]int{"gate": 1, "refused": 3, "fine": 2}, attempts, "the group once, then each half once, then the refused start's failure once")
		mu.Unlock()
		require.NoError(t, e.Close())
	})
}

// TestRefusedTransitionDropsItsExecution: a later transition the store
// refuses because another engine wrote the execution (ConflictException),
// or one whose failure the store refuses as well, drops its execution from
// the engine: it is not written again, its timers stop, and Close returns.
// (A transition refused for its data alone fails its execution:
// TestRefusedDataFailsTheExecution.)
func TestRefusedTransitionDropsItsExecution(t *testing.T) {
	t.Parallel()
	for name, refusal := range map[string]error{
		"ConflictException":            &sfn.Error{Code: sfn.CodeConflict, Message: "another engine wrote this execution"},
		"ErrCommitRefused, every time": fmt.Errorf("committing 1 transitions: %w: invalid byte sequence", engine.ErrCommitRefused),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				var refusals atomic.Int64
				store := &enginetest.Store{Store: engine.NewMemoryStore()}
				store.CommitFunc = func(ctx context.Context, commits []engine.Commit) error {
					for _, c := range commits {
						if c.Seq > 1 && refusals.Load() <= 5 { // a regression that retries fails the test rather than hang it
							refusals.Add(1)
							return refusal
						}
					}
					return store.Store.Commit(ctx, commits)
				}
				e := startEngine(t, engine.Config{Store: store})
				arn := createMachine(t, e, sfn.TypeStandard, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":10,"Next":"X"},"X":{"Type":"Wait","Seconds":10,"End":true}}}`)
				x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn})
				require.NoError(t, err)
				require.NoError(t, e.Wait(t.Context(), x.ExecutionARN), "a dropped execution no longer runs here")
				time.Sleep(time.Minute)
				synctest.Wait()
				want := int64(1)
				if errors.Is(refusal, engine.ErrCommitRefused) {
					want = 2 // the transition, then the execution's failure
				}
				require.Equal(t, want, refusals.Load())
				d, err := e.DescribeExecution(t.Context(), x.ExecutionARN)
				require.NoError(t, err)
				require.Equal(t, sfn.StatusRunning, d.Status, "as of its last written transition")
				require.NoError(t, e.Close())
			})
		})
	}
}

// TestUnavailableStoreIsRetried: while the store is unavailable the
// writer retries with backoff, and the execution completes once it is
// back.
func TestUnavailableStoreIsRetried(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var calls, failures atomic.Int64
		failures.Store(5)
		store := &enginetest.Store{Store: engine.NewMemoryStore()}
		store.CommitFunc = func(ctx context.Context, commits []engine.Commit) error {
			calls.Add(1)
			if failures.Add(-1) >= 0 {
				return errors.New("connecting to the database: connection refused")
			}
			return store.Store.Commit(ctx, commits)
		}
		e := startEngine(t, engine.Config{Store: store})
		arn := createMachine(t, e, sfn.TypeStandard, passMachine)
		begin := time.Now()
		x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn})
		require.NoError(t, err)
		require.Positive(t, time.Since(begin), "the writer backed off between tries")
		require.NoError(t, e.Wait(t.Context(), x.ExecutionARN))
		d, err := e.DescribeExecution(t.Context(), x.ExecutionARN)
		require.NoError(t, err)
		require.Equal(t, sfn.StatusSucceeded, d.Status)
		require.Equal(t, int64(6), calls.Load(), "five failures, then the write")
		require.NoError(t, e.Close())
	})
}

// TestCloseStopsRetryingAnUnavailableStore: a start waiting for a store
// that stays unavailable is answered ServiceUnavailable while the writer
// keeps retrying; Close ends the retries (one more try) and returns nil at
// once.
func TestCloseStopsRetryingAnUnavailableStore(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var down atomic.Bool
		store := &enginetest.Store{Store: engine.NewMemoryStore()}
		store.CommitFunc = func(ctx context.Context, commits []engine.Commit) error {
			if down.Load() {
				return errors.New("connecting to the database: connection refused")
			}
			return store.Store.Commit(ctx, commits)
		}
		e := startEngine(t, engine.Config{Store: store})
		arn := createMachine(t, e, sfn.TypeStandard, passMachine)
		down.Store(true)
		started := make(chan error, 1)
		go func() {
			_, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn})
			started <- err
		}()
		time.Sleep(time.Minute) // retrying all along
		synctest.Wait()
		requireCode(t, <-started, sfn.CodeServiceUnavailable)

		begin := time.Now()
		require.NoError(t, e.Close())
		require.Zero(t, time.Since(begin), "Close wakes the writer from its backoff rather than wait it out")
	})
}

// manualClock is a Clock whose timers fire only when the test says.
type manualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []func()
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) AfterFunc(_ time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timers = append(c.timers, f)
	return func() bool { return true }
}

// fireAll runs every timer ever armed, stopped or not, as timers whose
// stop came too late would.
func (c *manualClock) fireAll() {
	c.mu.Lock()
	timers := c.timers
	c.mu.Unlock()
	for _, f := range timers {
		f()
	}
}

// TestTimerFiringAfterCloseDoesNothing: a timer of an execution that fires
// after Close changes nothing and writes nothing.
func TestTimerFiringAfterCloseDoesNothing(t *testing.T) {
	t.Parallel()
	var commits atomic.Int64
	store := &enginetest.Store{Store: engine.NewMemoryStore()}
	store.CommitFunc = func(ctx context.Context, cs []engine.Commit) error {
		commits.Add(1)
		return store.Store.Commit(ctx, cs)
	}
	clk := &manualClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	e := startEngine(t, engine.Config{Store: store, Clock: clk})
	arn := createMachine(t, e, sfn.TypeStandard, `{"StartAt":"W","TimeoutSeconds":60,"States":{"W":{"Type":"Wait","Seconds":10,"End":true}}}`)
	x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn})
	require.NoError(t, err)
	require.NoError(t, e.Close())
	written := commits.Load()

	clk.fireAll()
	require.Equal(t, written, commits.Load())
	h, err := e.GetExecutionHistory(t.Context(), sfn.GetExecutionHistoryInput{ExecutionARN: x.ExecutionARN})
	require.NoError(t, err)
	require.Equal(t, "WaitStateEntered", h.Events[len(h.Events)-1].Type)
}

// TestStartAndCloseOutOfOrder: Close before Start ends nothing and
// returns nil; an engine once closed does not start.
func TestStartAndCloseOutOfOrder(t *testing.T) {
	t.Parallel()
	e, err := engine.New(engine.Config{Store: engine.NewMemoryStore()})
	require.NoError(t, err)
	require.NoError(t, e.Close())
	requireCode(t, e.Start(t.Context()), sfn.CodeServiceUnavailable)
	require.NoError(t, e.Close())
}
