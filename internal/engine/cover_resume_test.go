package engine_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// coverHolder is a Lambda function for waitForTaskToken tasks: it hands each
// call's item and token to the test and returns at once.
type coverHolder struct {
	mu     sync.Mutex
	tokens map[string]string // item -> latest token
	calls  chan string       // items, as they are called
}

func newCoverHolder(fns *engine.FunctionRegistry) *coverHolder {
	h := &coverHolder{tokens: map[string]string{}, calls: make(chan string, 64)}
	fns.Register("Hold", func(_ context.Context, p json.RawMessage) (json.RawMessage, error) {
		var in struct {
			Item  json.RawMessage
			Token string
		}
		if err := json.Unmarshal(p, &in); err != nil {
			return nil, err
		}
		h.mu.Lock()
		h.tokens[string(in.Item)] = in.Token
		h.mu.Unlock()
		h.calls <- string(in.Item)
		return json.RawMessage(`{}`), nil
	})
	return h
}

// await waits for calls of the items, in any order, and returns their
// tokens.
func (h *coverHolder) await(t *testing.T, items ...string) map[string]string {
	t.Helper()
	want := map[string]bool{}
	for _, it := range items {
		want[it] = true
	}
	deadline := time.After(10 * time.Second)
	for len(want) > 0 {
		select {
		case it := <-h.calls:
			require.True(t, want[it], "unexpected call for item %s (waiting for %v)", it, want)
			delete(want, it)
		case <-deadline:
			t.Fatalf("no call for items %v", want)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]string{}
	for _, it := range items {
		out[it] = h.tokens[it]
	}
	return out
}

// coverResumeMachine holds a task, a Map of tasks two at a time with one
// failure tolerated, and a one-second Wait, in three parallel branches.
const coverResumeMachine = `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
  {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
    "Parameters":{"FunctionName":"Hold","Payload":{"Item":"task","Token.$":"$$.Task.Token"}},"End":true}}},
  {"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":2,"ToleratedFailureCount":1,
    "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"H","States":{"H":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
      "Parameters":{"FunctionName":"Hold","Payload":{"Item.$":"$","Token.$":"$$.Task.Token"}},"End":true}}},"End":true}}},
  {"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"Done"},"Done":{"Type":"Pass","Result":"waited","End":true}}}
]}}}`

// TestExecutionResumesInANewEngine: an engine closed in the middle of an
// execution leaves it open in its store; the next engine on that store
// resumes it from its history (the task in flight dispatched again with
// the same token, the Map with what its iterations had done, the Wait for
// what is left of it) and runs it to the same end. A third engine then
// answers the execution's late callbacks from the store alone.
func TestExecutionResumesInANewEngine(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := engine.NewMemoryStore()

	// The first engine: the task and the first two iterations start; the
	// first iteration fails (tolerated), the third starts in its place.
	fns1 := &engine.FunctionRegistry{}
	h1 := newCoverHolder(fns1)
	e1, err := engine.New(engine.Config{Store: store, Functions: fns1})
	require.NoError(t, err)
	require.NoError(t, e1.Start(ctx))
	sm, err := e1.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "resume", Definition: coverResumeMachine})
	require.NoError(t, err)
	st, err := e1.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "one", Input: `{"items":[1,2,3]}`})
	require.NoError(t, err)
	first := h1.await(t, `"task"`, "1", "2")
	require.NoError(t, e1.SendTaskFailure(ctx, sfn.SendTaskFailureInput{TaskToken: first["1"], Error: "Item.Failed", Cause: "one"}))
	third := h1.await(t, "3")
	require.NoError(t, e1.Close())

	// The second engine, on the same store: the tasks in flight are
	// dispatched again with their tokens.
	fns2 := &engine.FunctionRegistry{}
	h2 := newCoverHolder(fns2)
	e2, err := engine.New(engine.Config{Store: store, Functions: fns2})
	require.NoError(t, err)
	require.NoError(t, e2.Start(ctx))
	again := h2.await(t, `"task"`, "2", "3")
	require.Equal(t, first[`"task"`], again[`"task"`])
	require.Equal(t, first["2"], again["2"])
	require.Equal(t, third["3"], again["3"])
	coverRequireCode(t, e2.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: first["1"], Output: `{}`}), sfn.CodeTaskTimedOut)
	require.NoError(t, e2.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: again[`"task"`], Output: `{"t":1}`}))
	require.NoError(t, e2.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: again["2"], Output: `{"i":2}`}))
	require.NoError(t, e2.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: again["3"], Output: `{"i":3}`}))
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, e2.Wait(wctx, st.ExecutionARN))
	d, err := e2.DescribeExecution(ctx, st.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
	require.JSONEq(t, `[{"t":1},[{"Error":"Item.Failed","Cause":"one"},{"i":2},{"i":3}],"waited"]`, d.Output)
	h, err := e2.GetExecutionHistory(ctx, sfn.GetExecutionHistoryInput{ExecutionARN: st.ExecutionARN, MaxResults: 1000})
	require.NoError(t, err)
	for i, ev := range h.Events {
		require.EqualValues(t, i+1, ev.ID, "one history across both engines, event ids 1..n")
	}
	require.Equal(t, "ExecutionSucceeded", h.Events[len(h.Events)-1].Type)
	require.NoError(t, e2.Close())

	// A third engine has nothing to resume and answers from the store.
	e3, err := engine.New(engine.Config{Store: store})
	require.NoError(t, err)
	require.NoError(t, e3.Start(ctx))
	t.Cleanup(func() { require.NoError(t, e3.Close()) })
	require.NoError(t, e3.Wait(ctx, st.ExecutionARN), "a closed execution's wait ends at once")
	require.NoError(t, e3.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: again["2"], Output: `{"i":2}`}), "succeeding a succeeded task again changes nothing")
	coverRequireCode(t, e3.SendTaskFailure(ctx, sfn.SendTaskFailureInput{TaskToken: again["2"], Error: "Late"}), sfn.CodeTaskTimedOut)
	coverRequireCode(t, e3.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: first["1"], Output: `{}`}), sfn.CodeTaskTimedOut)
	coverRequireCode(t, e3.SendTaskHeartbeat(ctx, again[`"task"`]), sfn.CodeTaskTimedOut)
}

// TestExecutionOfAnotherEngine: an engine sharing a store with another
// does not run the other's executions: waiting for one or calling back
// its tasks is ServiceUnavailable while it runs there.
func TestExecutionOfAnotherEngine(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := engine.NewMemoryStore()
	other, err := engine.New(engine.Config{Store: store})
	require.NoError(t, err)
	require.NoError(t, other.Start(ctx))
	t.Cleanup(func() { require.NoError(t, other.Close()) })

	b := coverSetup(t, engine.Config{Store: store})
	h := newCoverHolder(b.fns)
	arn := b.start(b.machine("held", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
	  "Parameters":{"FunctionName":"Hold","Payload":{"Item":"x","Token.$":"$$.Task.Token"}},"End":true}}}`), `{}`)
	token := h.await(t, `"x"`)[`"x"`]

	err = other.Wait(ctx, arn)
	coverRequireCode(t, err, sfn.CodeServiceUnavailable)
	require.ErrorContains(t, err, "runs in another engine")
	err = other.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: token, Output: `{}`})
	coverRequireCode(t, err, sfn.CodeServiceUnavailable)
	require.ErrorContains(t, err, "not loaded yet")

	require.NoError(t, b.e.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: token, Output: `{"v":1}`}))
	d := b.finish(arn)
	require.JSONEq(t, `{"v":1}`, d.Output)
	require.NoError(t, other.Wait(ctx, arn), "once closed, any engine's wait ends")
}
