package enginetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/sfn"
)

// bundle is one case's or check's view of its Harness: the helpers that
// register functions, run workers and wait for executions.
type bundle struct {
	t   *testing.T
	ctx context.Context
	h   Harness

	// workers are the goroutines that answer task tokens; the test waits
	// for them before it ends.
	workers sync.WaitGroup
	mu      sync.Mutex
	errs    []string // what went wrong in workers
}

func setup(t *testing.T, h Harness) *bundle {
	t.Helper()
	require.NotNil(t, h.Service, "Harness.Service")
	ctx, cancel := context.WithCancel(t.Context())
	b := &bundle{t: t, ctx: ctx, h: h}
	t.Cleanup(func() {
		cancel()
		b.workers.Wait()
	})
	return b
}

// workerError records a problem of a worker goroutine, where the test
// cannot fail.
func (b *bundle) workerError(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errs = append(b.errs, fmt.Sprintf(format, args...))
}

func (b *bundle) requireNoWorkerErrors() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	require.Empty(b.t, b.errs, "the case's workers reported problems")
}

// sleep waits d or until the bundle's context ends, and reports whether
// the whole d passed.
func (b *bundle) sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-b.ctx.Done():
		return false
	}
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// registerFunction registers a Lambda function that answers with replies
// in order, the last one repeating.
func (b *bundle) registerFunction(name string, replies []FunctionReply) {
	b.t.Helper()
	require.NotNil(b.t, b.h.Functions, "Harness.Functions is needed by the case's functions")
	var calls atomic.Int64
	b.h.Functions.Register(name, func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
		i := min(int(calls.Add(1))-1, len(replies)-1)
		r := replies[i]
		if r.SleepSeconds > 0 {
			tm := time.NewTimer(seconds(r.SleepSeconds))
			defer tm.Stop()
			select {
			case <-tm.C:
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-b.ctx.Done():
				return nil, b.ctx.Err()
			}
		}
		if r.ExpectInputText != "" && r.ExpectInputText != string(payload) {
			return nil, &engine.FunctionError{Type: "Conformance.UnexpectedInput", Message: string(payload)}
		}
		if r.ExpectInput != nil && !jsonEqual(r.ExpectInput, payload) {
			return nil, &engine.FunctionError{Type: "Conformance.UnexpectedInput", Message: string(payload)}
		}
		if r.Error != "" {
			return nil, &engine.FunctionError{Type: r.Error, Message: r.Cause}
		}
		if r.ReturnStringOfLength > 0 {
			return json.RawMessage(`"` + strings.Repeat("x", r.ReturnStringOfLength) + `"`), nil
		}
		if r.Return == nil {
			return json.RawMessage("null"), nil
		}
		return substitute(r.Return, "$input", payload)
	})
}

// substitute replaces every JSON string equal to placeholder inside
// template with value.
func substitute(template json.RawMessage, placeholder string, value json.RawMessage) (json.RawMessage, error) {
	var tv any
	if err := json.Unmarshal(template, &tv); err != nil {
		return nil, fmt.Errorf("reading reply template: %w", err)
	}
	var vv any
	if err := json.Unmarshal(value, &vv); err != nil {
		vv = string(value) // not JSON: the text itself
	}
	out, err := json.Marshal(replace(tv, placeholder, vv))
	if err != nil {
		return nil, fmt.Errorf("writing reply: %w", err)
	}
	return out, nil
}

func replace(v any, placeholder string, value any) any {
	switch v := v.(type) {
	case string:
		if v == placeholder {
			return value
		}
		return v
	case []any:
		for i := range v {
			v[i] = replace(v[i], placeholder, value)
		}
		return v
	case map[string]any:
		for k := range v {
			v[k] = replace(v[k], placeholder, value)
		}
		return v
	default:
		return v
	}
}

func jsonEqual(a, b []byte) bool {
	var av, bv any
	if json.Unmarshal(a, &av) != nil || json.Unmarshal(b, &bv) != nil {
		return false
	}
	ab, _ := json.Marshal(av)
	bb, _ := json.Marshal(bv)
	return string(ab) == string(bb)
}

// subscribeWorker creates the queue and subscribes a worker that answers
// the task tokens of its messages with replies in order, the last one
// repeating. The worker takes each message at once and answers from its
// own goroutine, as a step worker that reports through the callback API
// does.
func (b *bundle) subscribeWorker(url string, replies []QueueReply) {
	b.t.Helper()
	var n atomic.Int64
	b.subscribe(url, func(body string) {
		i := min(int(n.Add(1))-1, len(replies)-1)
		b.workers.Add(1)
		go func() {
			defer b.workers.Done()
			b.answer(url, body, replies[i])
		}()
	})
}

// subscribe creates the queue url and calls onMessage with the body of
// each message it receives.
func (b *bundle) subscribe(url string, onMessage func(body string)) {
	b.t.Helper()
	require.NotNil(b.t, b.h.Queues, "Harness.Queues is needed by the case's queues")
	name := url[strings.LastIndexByte(url, '/')+1:]
	_, err := b.h.Queues.CreateQueue(queue.QueueConfig{Name: name, URL: url, VisibilityTimeout: 30 * time.Second})
	require.NoError(b.t, err, "creating queue %s", url)
	stop, err := b.h.Queues.Subscribe(url, func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		for _, m := range ev.Records {
			onMessage(m.Body)
		}
		return events.SQSEventResponse{}, nil
	}, queue.MappingConfig{})
	require.NoError(b.t, err, "subscribing to queue %s", url)
	b.t.Cleanup(stop)
}

// answer does what reply r says with the task token of one message.
func (b *bundle) answer(url, body string, r QueueReply) {
	if !b.sleep(seconds(r.DelaySeconds)) || r.Ignore {
		return
	}
	field := r.TokenField
	if field == "" {
		field = "taskToken"
	}
	var msg map[string]any
	if err := json.Unmarshal([]byte(body), &msg); err != nil {
		b.workerError("queue %s: the message body is not a JSON object: %v: %s", url, err, body)
		return
	}
	token, _ := msg[field].(string)
	if token == "" {
		b.workerError("queue %s: the message body has no task token in %q: %s", url, field, body)
		return
	}
	b.reply(url, body, token, r)
}

func (b *bundle) reply(url, body, token string, r QueueReply) {
	svc := b.h.Service
	switch {
	case r.Ignore:
	case r.Success != nil:
		out, err := substitute(r.Success, "$body", json.RawMessage(body))
		if err != nil {
			b.workerError("queue %s: %v", url, err)
			return
		}
		if err := svc.SendTaskSuccess(b.ctx, sfn.SendTaskSuccessInput{TaskToken: token, Output: string(out)}); err != nil && b.ctx.Err() == nil {
			b.workerError("queue %s: SendTaskSuccess: %v", url, err)
		}
	case r.Failure != nil:
		err := svc.SendTaskFailure(b.ctx, sfn.SendTaskFailureInput{TaskToken: token, Error: r.Failure.Error, Cause: r.Failure.Cause})
		if err != nil && b.ctx.Err() == nil {
			b.workerError("queue %s: SendTaskFailure: %v", url, err)
		}
	case r.Heartbeats > 0:
		for range r.Heartbeats {
			if !b.sleep(seconds(r.EverySeconds)) {
				return
			}
			if err := svc.SendTaskHeartbeat(b.ctx, token); err != nil && b.ctx.Err() == nil {
				b.workerError("queue %s: SendTaskHeartbeat: %v", url, err)
				return
			}
		}
		if r.Then != nil {
			if !b.sleep(seconds(r.Then.DelaySeconds)) {
				return
			}
			b.reply(url, body, token, *r.Then)
		}
	}
}

// createStateMachine creates a state machine with a unique name made
// from base, deletes it when the test ends, and returns its ARN and name.
func (b *bundle) createStateMachine(base, definition, typ string) (arn, name string) {
	b.t.Helper()
	name = uniqueName(base)
	out, err := b.h.Service.CreateStateMachine(b.ctx, sfn.CreateStateMachineInput{
		Name: name, Definition: definition, RoleARN: roleARN, Type: typ,
	})
	require.NoError(b.t, err, "creating state machine %s", name)
	return out.StateMachineARN, name
}

// start starts an execution and returns its ARN.
func (b *bundle) start(smARN, name, input string) string {
	b.t.Helper()
	out, err := b.h.Service.StartExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: smARN, Name: name, Input: input})
	require.NoError(b.t, err, "starting execution %s", name)
	return out.ExecutionARN
}

// waitClosed polls DescribeExecution until the execution closes, for at
// most Timeout of real time.
func (b *bundle) waitClosed(arn string) sfn.Execution {
	b.t.Helper()
	deadline := time.Now().Add(Timeout)
	for {
		x, err := b.h.Service.DescribeExecution(b.ctx, arn)
		require.NoError(b.t, err, "describing execution %s", arn)
		if x.Status.Closed() {
			return x
		}
		if time.Now().After(deadline) {
			b.mu.Lock()
			problems := strings.Join(b.errs, "; ")
			b.mu.Unlock()
			require.FailNow(b.t, "execution did not close", "execution %s still %s after %v; history: %s; workers: %s",
				arn, x.Status, Timeout, strings.Join(b.eventTypes(arn), " "), problems)
		}
		b.sleep(pollInterval)
	}
}

// waitFor polls until cond holds, for at most Timeout of real time.
func (b *bundle) waitFor(what string, cond func() bool) {
	b.t.Helper()
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			require.FailNow(b.t, "timed out", "waiting for %s", what)
		}
		b.sleep(pollInterval)
	}
}

// history returns the whole history of an execution, reading pages of
// pageSize events (0: the service's default).
func (b *bundle) history(arn string, reverse bool, pageSize int) []sfn.HistoryEvent {
	b.t.Helper()
	var all []sfn.HistoryEvent
	token := ""
	for range 10000 {
		page, err := b.h.Service.GetExecutionHistory(b.ctx, sfn.GetExecutionHistoryInput{
			ExecutionARN: arn, MaxResults: pageSize, NextToken: token, ReverseOrder: reverse,
		})
		require.NoError(b.t, err, "reading the history of %s", arn)
		if pageSize > 0 {
			require.LessOrEqual(b.t, len(page.Events), pageSize, "events in a page of MaxResults %d", pageSize)
		}
		all = append(all, page.Events...)
		if page.NextToken == "" {
			return all
		}
		token = page.NextToken
	}
	require.FailNow(b.t, "endless history", "GetExecutionHistory of %s never returned an empty NextToken", arn)
	return nil
}

// eventTypes is the history's event types, for failure messages; it
// reports a failure to read the history as its one element.
func (b *bundle) eventTypes(arn string) []string {
	out, err := b.h.Service.GetExecutionHistory(b.ctx, sfn.GetExecutionHistoryInput{ExecutionARN: arn, MaxResults: 1000})
	if err != nil {
		return []string{"(" + err.Error() + ")"}
	}
	types := make([]string, len(out.Events))
	for i, e := range out.Events {
		types[i] = e.Type
	}
	return types
}
