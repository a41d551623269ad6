package control_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/control"
	"github.com/aiflow/aiflow/internal/sfn"
)

// faultEngine is the engine with faults injected into its task callbacks
// and stops: a Func that is set runs instead of the engine's method, and
// may call it.
type faultEngine struct {
	control.Engine
	SendTaskSuccessFunc func(ctx context.Context, in sfn.SendTaskSuccessInput) error
	StopExecutionFunc   func(ctx context.Context, in sfn.StopExecutionInput) (time.Time, error)

	mu    sync.Mutex
	sends int
}

func (f *faultEngine) SendTaskSuccess(ctx context.Context, in sfn.SendTaskSuccessInput) error {
	f.mu.Lock()
	f.sends++
	f.mu.Unlock()
	if f.SendTaskSuccessFunc != nil {
		return f.SendTaskSuccessFunc(ctx, in)
	}
	return f.Engine.SendTaskSuccess(ctx, in)
}

func (f *faultEngine) StopExecution(ctx context.Context, in sfn.StopExecutionInput) (time.Time, error) {
	if f.StopExecutionFunc != nil {
		return f.StopExecutionFunc(ctx, in)
	}
	return f.Engine.StopExecution(ctx, in)
}

func (f *faultEngine) sent() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sends
}

// faultStore is the api store with faults injected between the steps of
// a decision.
type faultStore struct {
	control.Store
	FinishDecisionFunc func(ctx context.Context, id string, expired bool) (apistore.Approval, error)
}

func (f *faultStore) FinishDecision(ctx context.Context, id string, expired bool) (apistore.Approval, error) {
	if f.FinishDecisionFunc != nil {
		return f.FinishDecisionFunc(ctx, id, expired)
	}
	return f.Store.FinishDecision(ctx, id, expired)
}

// once returns an error the first time it is called, then nil.
func once(err error) func() error {
	var n atomic.Int64
	return func() error {
		if n.Add(1) == 1 {
			return err
		}
		return nil
	}
}

var approvalSeq atomic.Int64

// decisionBundle is an execution waiting on its approval step, with its
// approval recorded, and use cases over a faulty engine and store.
type decisionBundle struct {
	*testBundle
	eng       *faultEngine
	store     *faultStore
	svc       *control.Service
	now       atomic.Pointer[time.Time]
	exec, id  string
	taskToken string
}

func decisionSetup(t *testing.T) *decisionBundle {
	t.Helper()
	ctx := context.Background()
	b := &decisionBundle{testBundle: setup(t)}
	b.publish(t, holdWorkflow("atomic-decide"))
	started, err := b.testBundle.svc.Start(ctx, control.StartParams{Workflow: "atomic-decide", Input: json.RawMessage(`{"message": "go"}`)})
	require.NoError(t, err)
	b.exec, b.taskToken = started.ExecutionARN, <-b.tokens
	b.id = apistore.ApprovalID(b.taskToken)
	require.NoError(t, b.testBundle.store.AddApproval(ctx, apistore.Approval{ID: b.id, ExecutionARN: b.exec, StepID: "approve",
		TaskToken: b.taskToken, Message: "Go on with go?", CreatedAt: t0}))
	b.eng = &faultEngine{Engine: b.testBundle.eng}
	b.store = &faultStore{Store: b.testBundle.store}
	b.now.Store(&t0)
	b.svc = control.New(control.Options{Store: b.store, Engine: b.eng, QueueURLs: b.urls, NowFunc: func() time.Time { return *b.now.Load() }})
	return b
}

func (b *decisionBundle) approval(t *testing.T) apistore.Approval {
	t.Helper()
	a, err := b.testBundle.store.Approval(context.Background(), b.id)
	require.NoError(t, err)
	return a
}

// requireOutcome waits for the execution's end and checks the decision
// it took.
func (b *decisionBundle) requireOutcome(t *testing.T, approved bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, b.testBundle.eng.Wait(ctx, b.exec))
	e, err := b.testBundle.eng.DescribeExecution(ctx, b.exec)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusSucceeded, e.Status, e.Cause)
	require.JSONEq(t, fmt.Sprintf(`{"approved": %t}`, approved), e.Output)
}

func (b *decisionBundle) requireWaiting(t *testing.T) {
	t.Helper()
	e, err := b.testBundle.eng.DescribeExecution(context.Background(), b.exec)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusRunning, e.Status, "the step still waits")
}

var (
	approve = func(id string) control.DecideParams {
		return control.DecideParams{ID: id, Approve: true, Comment: "sure", Principal: "lead"}
	}
	reject = func(id string) control.DecideParams {
		return control.DecideParams{ID: id, Approve: false, Comment: "no", Principal: "other"}
	}
)

// TestDecisionSurvivesAFailedCallback: the callback fails before it
// reaches the engine (the engine is unavailable): the decision stays
// recorded and fixed (deciding), the execution still waits, the opposite
// decision is refused, and the same one again delivers it.
func TestDecisionSurvivesAFailedCallback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := decisionSetup(t)
	fail := once(&sfn.Error{Code: sfn.CodeServiceUnavailable, Message: "the engine is unavailable"})
	b.eng.SendTaskSuccessFunc = func(ctx context.Context, in sfn.SendTaskSuccessInput) error {
		if err := fail(); err != nil {
			return err
		}
		return b.eng.Engine.SendTaskSuccess(ctx, in)
	}

	_, err := b.svc.Decide(ctx, approve(b.id))
	require.ErrorContains(t, err, "the engine is unavailable")
	a := b.approval(t)
	require.Equal(t, apistore.ApprovalDeciding, a.Status)
	require.Equal(t, apistore.ApprovalApproved, a.Decision)
	b.requireWaiting(t)

	_, err = b.svc.Decide(ctx, reject(b.id))
	ce := requireCode(t, err, control.CodeApprovalDecided)
	require.Equal(t, "the approval is being decided already: approved by lead", ce.Detail)
	b.requireWaiting(t)

	a, err = b.svc.Decide(ctx, approve(b.id))
	require.NoError(t, err, "the same decision again delivers it")
	require.Equal(t, apistore.ApprovalApproved, a.Status)
	require.Equal(t, "lead", a.DecidedBy)
	require.Equal(t, "sure", a.Comment)
	b.requireOutcome(t, true)

	a, err = b.svc.Decide(ctx, approve(b.id))
	require.NoError(t, err, "the same decision on a decided approval is idempotent")
	require.Equal(t, apistore.ApprovalApproved, a.Status)
	_, err = b.svc.Decide(ctx, reject(b.id))
	ce = requireCode(t, err, control.CodeApprovalDecided)
	require.Equal(t, "the approval was decided already: approved by lead", ce.Detail)
}

// TestDecisionDeliveredButItsAnswerLost: the engine takes the decision
// but its answer is lost. A retry of the opposite decision is refused,
// so the record cannot disagree with the execution; the same decision
// again finishes it, whether the engine answers the repeated callback
// with success (the local engine) or with TaskTimedOut (Step Functions,
// for a task that succeeded already).
func TestDecisionDeliveredButItsAnswerLost(t *testing.T) {
	t.Parallel()
	for name, repeat := range map[string]error{
		"repeat succeeds":        nil,
		"repeat is TaskTimedOut": &sfn.Error{Code: sfn.CodeTaskTimedOut, Message: "Task Timed Out"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := decisionSetup(t)
			var calls atomic.Int64
			b.eng.SendTaskSuccessFunc = func(ctx context.Context, in sfn.SendTaskSuccessInput) error {
				switch calls.Add(1) {
				case 1:
					if err := b.eng.Engine.SendTaskSuccess(ctx, in); err != nil {
						return err
					}
					return errors.New("reading the answer: connection reset by peer")
				default:
					if repeat != nil {
						return repeat
					}
					return b.eng.Engine.SendTaskSuccess(ctx, in)
				}
			}
			_, err := b.svc.Decide(ctx, approve(b.id))
			require.ErrorContains(t, err, "connection reset")
			b.requireOutcome(t, true)
			require.Equal(t, apistore.ApprovalDeciding, b.approval(t).Status)

			_, err = b.svc.Decide(ctx, reject(b.id))
			requireCode(t, err, control.CodeApprovalDecided)

			a, err := b.svc.Decide(ctx, approve(b.id))
			require.NoError(t, err)
			require.Equal(t, apistore.ApprovalApproved, a.Status, "the decision the execution took")
			require.Equal(t, "lead", a.DecidedBy)
		})
	}
}

// TestDecisionOnAStepThatStoppedWaiting: the first delivery is answered
// TaskTimedOut or InvalidToken: the step stopped waiting on its own, and
// the approval expires; no decision is recorded.
func TestDecisionOnAStepThatStoppedWaiting(t *testing.T) {
	t.Parallel()
	for _, code := range []string{sfn.CodeTaskTimedOut, sfn.CodeInvalidToken, sfn.CodeTaskDoesNotExist} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := decisionSetup(t)
			b.eng.SendTaskSuccessFunc = func(context.Context, sfn.SendTaskSuccessInput) error {
				return &sfn.Error{Code: code, Message: "the task is gone"}
			}
			a, err := b.svc.Decide(ctx, approve(b.id))
			ce := requireCode(t, err, control.CodeApprovalDecided)
			require.Equal(t, "the approval step is no longer waiting: it timed out or its execution ended", ce.Detail)
			require.Equal(t, apistore.ApprovalExpired, a.Status)
			require.Empty(t, a.DecidedBy)
			require.Equal(t, apistore.ApprovalExpired, b.approval(t).Status)
			for _, p := range []control.DecideParams{approve(b.id), reject(b.id)} {
				_, err = b.svc.Decide(ctx, p)
				ce = requireCode(t, err, control.CodeApprovalDecided)
				require.Equal(t, "the approval step is no longer waiting: it timed out or its execution ended", ce.Detail)
			}
			require.Equal(t, 1, b.eng.sent(), "an expired approval sends nothing")
		})
	}
}

// TestDecisionWhenTheStoreFailsBetweenSteps: the decision is delivered
// but recording its end fails: the approval stays deciding, with the
// decision the execution took; the next call of the same decision, or
// ResumeDecisions, finishes it.
func TestDecisionWhenTheStoreFailsBetweenSteps(t *testing.T) {
	t.Parallel()
	for _, repair := range []string{"the same decision again", "ResumeDecisions"} {
		t.Run(repair, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := decisionSetup(t)
			fail := once(errors.New("writing to the database: connection refused"))
			b.store.FinishDecisionFunc = func(ctx context.Context, id string, expired bool) (apistore.Approval, error) {
				if err := fail(); err != nil {
					return apistore.Approval{}, err
				}
				return b.store.Store.FinishDecision(ctx, id, expired)
			}
			if repair == "ResumeDecisions" {
				// A time of its own, before every other test's decisions,
				// so that the sweep below finishes no other test's.
				early := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(approvalSeq.Add(1)) * time.Hour)
				b.now.Store(&early)
			}
			_, err := b.svc.Decide(ctx, reject(b.id))
			require.ErrorContains(t, err, "connection refused")
			b.requireOutcome(t, false)
			require.Equal(t, apistore.ApprovalDeciding, b.approval(t).Status)
			_, err = b.svc.Decide(ctx, approve(b.id))
			requireCode(t, err, control.CodeApprovalDecided)

			switch repair {
			case "the same decision again":
				a, err := b.svc.Decide(ctx, reject(b.id))
				require.NoError(t, err)
				require.Equal(t, apistore.ApprovalRejected, a.Status)
			case "ResumeDecisions":
				n, err := b.svc.ResumeDecisions(ctx, control.ResumeDecisionsParams{OlderThan: time.Minute})
				require.NoError(t, err)
				require.Zero(t, n, "a decision of the last minute is left to its caller")
				later := b.now.Load().Add(2 * time.Minute)
				b.now.Store(&later)
				n, err = b.svc.ResumeDecisions(ctx, control.ResumeDecisionsParams{OlderThan: time.Minute})
				require.NoError(t, err)
				require.Equal(t, 1, n)
			}
			a := b.approval(t)
			require.Equal(t, apistore.ApprovalRejected, a.Status)
			require.Equal(t, "other", a.DecidedBy)
			require.Equal(t, "no", a.Comment)
		})
	}
}

// TestDecisionTheStoreRefuses: a comment the database cannot hold (a NUL)
// records nothing and sends nothing: the approval stays pending, the step
// waits, and a decision the database holds is taken afterwards.
func TestDecisionTheStoreRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := decisionSetup(t)
	_, err := b.svc.Decide(ctx, control.DecideParams{ID: b.id, Approve: true, Comment: "a\x00b", Principal: "lead"})
	require.Error(t, err)
	require.Equal(t, apistore.ApprovalPending, b.approval(t).Status)
	require.Zero(t, b.eng.sent())
	b.requireWaiting(t)

	a, err := b.svc.Decide(ctx, reject(b.id))
	require.NoError(t, err)
	require.Equal(t, apistore.ApprovalRejected, a.Status)
	b.requireOutcome(t, false)
}

// TestStopWhoseAnswerIsLost: the engine stops the execution but its
// answer is lost: Stop answers with the execution as the engine has it,
// ABORTED, rather than an error that says it still runs; a stop that
// did not happen stays an error.
func TestStopWhoseAnswerIsLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := decisionSetup(t)
	b.eng.StopExecutionFunc = func(context.Context, sfn.StopExecutionInput) (time.Time, error) {
		return time.Time{}, &sfn.Error{Code: sfn.CodeServiceUnavailable, Message: "the engine is unavailable"}
	}
	_, err := b.svc.Stop(ctx, control.StopParams{ExecutionARN: b.exec, Principal: "op"})
	require.ErrorContains(t, err, "the engine is unavailable")
	b.requireWaiting(t)

	b.eng.StopExecutionFunc = func(ctx context.Context, in sfn.StopExecutionInput) (time.Time, error) {
		if _, err := b.eng.Engine.StopExecution(ctx, in); err != nil {
			return time.Time{}, err
		}
		return time.Time{}, errors.New("reading the answer: connection reset by peer")
	}
	e, err := b.svc.Stop(ctx, control.StopParams{ExecutionARN: b.exec, Principal: "op"})
	require.NoError(t, err)
	require.Equal(t, sfn.StatusAborted, e.Status)
	require.Equal(t, "stopped through the API by op", e.Cause)
}
