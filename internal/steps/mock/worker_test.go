package mock

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/sfn"
)

// callbacks records the callbacks of a Worker; err, when set, is what
// every callback returns.
type callbacks struct {
	mu        sync.Mutex
	successes []sfn.SendTaskSuccessInput
	failures  []sfn.SendTaskFailureInput
	err       error
}

func (c *callbacks) SendTaskSuccess(_ context.Context, in sfn.SendTaskSuccessInput) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.successes = append(c.successes, in)
	return c.err
}

func (c *callbacks) SendTaskFailure(_ context.Context, in sfn.SendTaskFailureInput) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures = append(c.failures, in)
	return c.err
}

// runtime records the messages handed to the in-process runtime.
type runtime struct{ bodies []string }

func (r *runtime) Handle(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	for _, rec := range ev.Records {
		r.bodies = append(r.bodies, rec.Body)
	}
	return events.SQSEventResponse{}, nil
}

func message(id, body string) events.SQSMessage { return events.SQSMessage{MessageId: id, Body: body} }

func TestWorker(t *testing.T) {
	t.Parallel()
	cb, rt := &callbacks{}, &runtime{}
	w := NewWorker(WorkerConfig{
		Replies: Set{
			"classify": {{Error: "AI.Throttled", Cause: "slow down"}, {Output: []byte(`{"category":"billing"}`)}},
			"draft":    {{Output: []byte(`"Hello"`)}},
		},
		Callbacks:    cb,
		Runtime:      rt,
		RuntimeKinds: map[string]bool{"ai": true},
	})
	resp, err := w.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{
		message("1", `{"taskToken": "t1", "step": {"id": "classify", "kind": "ai", "attempt": 0}}`),
		message("2", `{"taskToken": "t2", "step": {"id": "classify", "kind": "ai", "attempt": 1}}`),
		message("3", `{"taskToken": "t3", "step": {"id": "summarize", "kind": "ai"}}`),
		message("4", `{"taskToken": "t4", "step": {"id": "lookup", "kind": "mcp"}}`),
		message("5", `not JSON`),
		message("6", `{"step": {"id": "draft", "kind": "ai"}}`),
	}})
	require.NoError(t, err)
	require.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "5"}, {ItemIdentifier: "6"}}, resp.BatchItemFailures,
		"the messages it cannot read")
	require.Equal(t, []sfn.SendTaskSuccessInput{{TaskToken: "t2", Output: `{"output":{"category":"billing"}}`}}, cb.successes)
	require.Equal(t, []sfn.SendTaskFailureInput{
		{TaskToken: "t1", Error: "AI.Throttled", Cause: "slow down"},
		{TaskToken: "t4", Error: NoWorkerError, Cause: `step "lookup" (mcp) has no worker in aiflow run: pass --mock FILE with a reply for "lookup"`},
	}, cb.failures)
	require.Equal(t, []string{`{"taskToken": "t3", "step": {"id": "summarize", "kind": "ai"}}`}, rt.bodies,
		"a step without a reply, of a kind the runtime runs, goes to the runtime")
}

func TestWorkerTaskClosedBeforeTheReply(t *testing.T) {
	t.Parallel()
	for _, code := range []string{sfn.CodeTaskTimedOut, sfn.CodeTaskDoesNotExist, sfn.CodeInvalidToken} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			w := NewWorker(WorkerConfig{Replies: Set{"draft": {{Output: []byte(`1`)}}}, Callbacks: &callbacks{err: &sfn.Error{Code: code}}})
			resp, err := w.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{
				message("1", `{"taskToken": "t1", "step": {"id": "draft", "kind": "ai"}}`),
			}})
			require.NoError(t, err)
			if code == sfn.CodeInvalidToken {
				require.Len(t, resp.BatchItemFailures, 1, "a callback that failed is retried")
				return
			}
			require.Empty(t, resp.BatchItemFailures, "nobody waits for the reply any more")
		})
	}
}
