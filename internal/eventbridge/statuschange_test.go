package eventbridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/enginestore"
	"github.com/aiflow/aiflow/internal/eventbridge"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/lambdaemu"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/stackmodel"
)

func TestMain(m *testing.M) { pgclustertest.Main(m) }

// recorded is a status change the fake recorder took.
type recorded struct {
	event  events.EventBridgeEvent
	detail map[string]any
}

// fakeRecorder is the target function: it decodes what it is given as the
// recorder does, and fails while down is set.
type fakeRecorder struct {
	mu       sync.Mutex
	took     []recorded
	attempts map[string]int // by execution ARN and status
	down     atomic.Bool
}

func (f *fakeRecorder) invoke(_ context.Context, function string, payload []byte) (*lambdaemu.Result, error) {
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return &lambdaemu.Result{FunctionError: &lambdaemu.FunctionError{Type: "errorString", Message: err.Error()}}, nil
	}
	var d sfn.ExecutionStatusChange
	if err := json.Unmarshal(ev.Detail, &d); err != nil || function != "RecorderFunction" {
		return &lambdaemu.Result{FunctionError: &lambdaemu.FunctionError{Type: "errorString", Message: fmt.Sprint("bad detail or function: ", err, function)}}, nil
	}
	var m map[string]any
	if err := json.Unmarshal(ev.Detail, &m); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts[d.ExecutionARN+" "+d.Status]++
	if f.down.Load() {
		return nil, errors.New("connection refused")
	}
	f.took = append(f.took, recorded{ev, m})
	return &lambdaemu.Result{Payload: []byte(`{}`)}, nil
}

func (f *fakeRecorder) Took() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.took...)
}

func (f *fakeRecorder) Attempts(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts[key]
}

// statuses returns the statuses each execution's status changes carried,
// in the order they were taken.
func statuses(took []recorded) map[string][]string {
	out := map[string][]string{}
	for _, r := range took {
		arn := r.detail["executionArn"].(string)
		out[arn] = append(out[arn], r.detail["status"].(string))
	}
	return out
}

type sourceBundle struct {
	events *eventstore.Store
	eng    *engine.Engine
	bus    *eventbridge.Bus
	fn     *fakeRecorder
	dlq    *fakeQueue
}

func setupSource(t *testing.T) *sourceBundle {
	t.Helper()
	ctx := context.Background()
	pool := pgclustertest.Pool(t) // its own database: the subscription reads every event
	evs, err := eventstore.Open(ctx, pool, eventstore.Options{})
	require.NoError(t, err)
	store, err := enginestore.New(ctx, pool, evs)
	require.NoError(t, err)
	eng, err := engine.New(engine.Config{Store: store})
	require.NoError(t, err)
	require.NoError(t, eng.Start(ctx))
	t.Cleanup(func() { _ = eng.Close() })
	b := &sourceBundle{events: evs, eng: eng, fn: &fakeRecorder{attempts: map[string]int{}}, dlq: &fakeQueue{}}
	b.bus, err = eventbridge.NewBus(eventbridge.BusParams{
		Rules: []stackmodel.Rule{statusRule(nil)}, Invoke: b.fn.invoke, SendToQueue: b.dlq.send,
		RandFunc: func() float64 { return 0 }, // the shortest waits: 0.5 s, 1 s, ...
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, b.bus.Close(ctx))
	})
	return b
}

// run starts a StatusChanges and returns it; it is closed when the test
// ends, if it is not closed before.
func (b *sourceBundle) run(t *testing.T) *eventbridge.StatusChanges {
	t.Helper()
	sc, err := eventbridge.NewStatusChanges(eventbridge.StatusChangesParams{
		Store: b.events, Bus: b.bus, Executions: b.eng, RetryDelay: 50 * time.Millisecond, MaxRetryDelay: 200 * time.Millisecond,
	})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- sc.Run(context.Background()) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, sc.Close(ctx))
		require.NoError(t, <-done)
	})
	return sc
}

// caughtUp reports whether the subscription's checkpoint is past every
// event of the store.
func (b *sourceBundle) caughtUp(t *testing.T) bool {
	ctx := context.Background()
	st, err := b.events.SubscriptionState(ctx, eventbridge.DefaultSubscription)
	require.NoError(t, err)
	rest, err := b.events.ReadCommitted(ctx, st.Checkpoint, 1)
	require.NoError(t, err)
	return len(rest) == 0
}

func (b *sourceBundle) machine(t *testing.T, name, definition string) string {
	t.Helper()
	sm, err := b.eng.CreateStateMachine(context.Background(), sfn.CreateStateMachineInput{Name: name, Definition: definition})
	require.NoError(t, err)
	return sm.StateMachineARN
}

func (b *sourceBundle) start(t *testing.T, machine, name, input string) string {
	t.Helper()
	out, err := b.eng.StartExecution(context.Background(), sfn.StartExecutionInput{StateMachineARN: machine, Name: name, Input: input})
	require.NoError(t, err)
	require.NoError(t, b.eng.Wait(context.Background(), out.ExecutionARN))
	return out.ExecutionARN
}

const (
	passDefinition = `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"done":true},"Next":"S"},"S":{"Type":"Succeed"}}}`
	failDefinition = `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Ticket.Invalid","Cause":"no such ticket"}}}`
)

func TestStatusChangesOfTheDurableEngine(t *testing.T) {
	t.Parallel()
	b := setupSource(t)
	pass := b.machine(t, "aiflow-pass", passDefinition)
	fail := b.machine(t, "aiflow-fail", failDefinition)
	other := b.machine(t, "other-pass", passDefinition)

	sc := b.run(t)
	okARN := b.start(t, pass, "ok", `{"ticket":"T-1"}`)
	failedARN := b.start(t, fail, "bad", `{}`)
	b.start(t, other, "ignored", `{}`) // the rule's prefix leaves it out
	require.Eventually(t, func() bool { return len(b.fn.Took()) >= 4 && b.caughtUp(t) }, 30*time.Second, 20*time.Millisecond)

	took := b.fn.Took()
	require.Len(t, took, 4)
	require.Equal(t, map[string][]string{okARN: {"RUNNING", "SUCCEEDED"}, failedARN: {"RUNNING", "FAILED"}}, statuses(took))
	ok, err := b.eng.DescribeExecution(context.Background(), okARN)
	require.NoError(t, err)
	for _, r := range took {
		require.Equal(t, "0", r.event.Version)
		require.Equal(t, "aws.states", r.event.Source)
		require.Equal(t, "Step Functions Execution Status Change", r.event.DetailType)
		require.Equal(t, "us-east-1", r.event.Region)
		require.Equal(t, "123456789012", r.event.AccountID)
		require.Equal(t, []string{r.detail["executionArn"].(string)}, r.event.Resources)
		if r.detail["executionArn"] != okARN {
			continue
		}
		require.Equal(t, pass, r.detail["stateMachineArn"])
		require.Equal(t, "ok", r.detail["name"])
		require.Equal(t, `{"ticket":"T-1"}`, r.detail["input"])
		require.Equal(t, map[string]any{"included": true}, r.detail["inputDetails"])
		// The history event's time, which the engine takes apart from
		// the summary's: within a few milliseconds of it.
		require.InDelta(t, float64(ok.StartDate.UnixMilli()), r.detail["startDate"], 50)
		require.Contains(t, r.detail, "error")
		require.Nil(t, r.detail["error"])
		if r.detail["status"] == "RUNNING" {
			require.Nil(t, r.detail["stopDate"])
			require.Nil(t, r.detail["output"])
			require.Nil(t, r.detail["outputDetails"])
		} else {
			require.InDelta(t, float64(ok.StopDate.UnixMilli()), r.detail["stopDate"], 50)
			require.Equal(t, `{"done":true}`, r.detail["output"])
			require.Equal(t, map[string]any{"included": true}, r.detail["outputDetails"])
			require.WithinDuration(t, ok.StopDate, r.event.Time, time.Second)
		}
	}
	for _, r := range took {
		if r.detail["executionArn"] == failedARN && r.detail["status"] == "FAILED" {
			require.Equal(t, "Ticket.Invalid", r.detail["error"])
			require.Equal(t, "no such ticket", r.detail["cause"])
			require.Nil(t, r.detail["output"])
		}
	}
	require.Empty(t, b.dlq.Messages())

	// Closed while it retries a status change the recorder does not take,
	// it has not moved past it: the next run delivers it, and nothing of
	// what was delivered before again.
	b.fn.down.Store(true)
	laterARN := b.start(t, pass, "later", `{}`)
	require.Eventually(t, func() bool { return b.fn.Attempts(laterARN+" RUNNING") >= 2 }, 30*time.Second, 20*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, sc.Close(ctx))
	require.Len(t, b.fn.Took(), 4)
	b.fn.down.Store(false)
	stoppedARN := startLong(t, b)

	sc = b.run(t)
	require.Eventually(t, func() bool { return len(b.fn.Took()) >= 4+2+1 && b.caughtUp(t) }, 30*time.Second, 20*time.Millisecond)
	// A new process knows nothing of the executions that started before
	// it: it describes the stopped one for its start.
	require.NoError(t, sc.Close(ctx))
	b.run(t)
	_, err = b.eng.StopExecution(context.Background(), sfn.StopExecutionInput{ExecutionARN: stoppedARN, Error: "Operator.Stop", Cause: "by hand"})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(b.fn.Took()) >= 4+2+2 && b.caughtUp(t) }, 30*time.Second, 20*time.Millisecond)
	took = b.fn.Took()
	require.Len(t, took, 8, "each status change once: the restart resumed from the checkpoint")
	require.Equal(t, map[string][]string{
		okARN: {"RUNNING", "SUCCEEDED"}, failedARN: {"RUNNING", "FAILED"},
		laterARN: {"RUNNING", "SUCCEEDED"}, stoppedARN: {"RUNNING", "ABORTED"},
	}, statuses(took))
	for _, r := range took[4:] {
		if r.detail["executionArn"] == stoppedARN && r.detail["status"] == "ABORTED" {
			long, err := b.eng.DescribeExecution(context.Background(), stoppedARN)
			require.NoError(t, err)
			require.Equal(t, float64(long.StartDate.UnixMilli()), r.detail["startDate"])
			require.Equal(t, strings.TrimSuffix(strings.Replace(stoppedARN, ":execution:", ":stateMachine:", 1), ":long"), r.detail["stateMachineArn"])
			require.Equal(t, `{"wait":true}`, r.detail["input"])
			require.Equal(t, "Operator.Stop", r.detail["error"])
			require.Equal(t, "by hand", r.detail["cause"])
		}
	}
	ids := map[string]bool{}
	for _, r := range took {
		require.False(t, ids[r.event.ID], "event ids are unique")
		ids[r.event.ID] = true
	}
}

// startLong starts an execution that waits until it is stopped, while no
// StatusChanges runs: the next one learns its start from its history.
func startLong(t *testing.T, b *sourceBundle) string {
	t.Helper()
	wait := b.machine(t, "aiflow-wait", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":86400,"End":true}}}`)
	out, err := b.eng.StartExecution(context.Background(), sfn.StartExecutionInput{StateMachineARN: wait, Name: "long", Input: `{"wait":true}`})
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(out.ExecutionARN, ":long"))
	return out.ExecutionARN
}
