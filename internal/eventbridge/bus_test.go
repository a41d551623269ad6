package eventbridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/eventbridge"
	"github.com/aiflow/aiflow/internal/lambdaemu"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/stackmodel"
)

const (
	ruleARN   = "arn:aws:events:us-east-1:123456789012:rule/aiflow-ExecutionStatusChangeRule"
	targetARN = "arn:aws:lambda:us-east-1:123456789012:function:aiflow-RecorderFunction"
)

func TestEventEnvelope(t *testing.T) {
	t.Parallel()
	ev := eventbridge.Event{
		ID: "315c1398-40ff-a850-213b-158f73e60175", DetailType: sfn.StatusChangeDetailType, Source: sfn.StatusChangeSource,
		Account: "123456789012", Time: time.Date(2019, 2, 26, 19, 42, 21, 984_000_000, time.FixedZone("x", 3600)), Region: "us-east-1",
		Resources: []string{"arn:aws:states:us-east-1:123456789012:execution:sm:run"},
		Detail:    json.RawMessage(`{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:sm:run","status":"RUNNING","startDate":1551225271984,"stopDate":null}`),
	}
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	require.Equal(t, `{"version":"0","id":"315c1398-40ff-a850-213b-158f73e60175","detail-type":"Step Functions Execution Status Change",`+
		`"source":"aws.states","account":"123456789012","time":"2019-02-26T18:42:21Z","region":"us-east-1",`+
		`"resources":["arn:aws:states:us-east-1:123456789012:execution:sm:run"],`+
		`"detail":{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:sm:run","status":"RUNNING","startDate":1551225271984,"stopDate":null}}`, string(b))

	var lev events.EventBridgeEvent
	require.NoError(t, json.Unmarshal(b, &lev))
	require.Equal(t, "0", lev.Version)
	require.Equal(t, ev.ID, lev.ID)
	require.Equal(t, sfn.StatusChangeDetailType, lev.DetailType)
	require.Equal(t, sfn.StatusChangeSource, lev.Source)
	require.Equal(t, "123456789012", lev.AccountID)
	require.Equal(t, "us-east-1", lev.Region)
	require.True(t, lev.Time.Equal(time.Date(2019, 2, 26, 18, 42, 21, 0, time.UTC)))
	require.Equal(t, ev.Resources, lev.Resources)
	var d sfn.ExecutionStatusChange
	require.NoError(t, json.Unmarshal(lev.Detail, &d))
	require.Equal(t, "RUNNING", d.Status)
	require.Equal(t, int64(1551225271984), d.StartDate)
	require.Nil(t, d.StopDate)

	var back eventbridge.Event
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, ev.ID, back.ID)
	require.True(t, back.Time.Equal(ev.Time.Truncate(time.Second)))

	empty, err := json.Marshal(eventbridge.Event{ID: "e", Time: time.Unix(0, 0)})
	require.NoError(t, err)
	require.JSONEq(t, `{"version":"0","id":"e","detail-type":"","source":"","account":"","time":"1970-01-01T00:00:00Z","region":"","resources":[],"detail":{}}`, string(empty))
	_, err = json.Marshal(eventbridge.Event{ID: "e", Detail: json.RawMessage(`[1]`)})
	require.ErrorContains(t, err, "not a JSON object")
}

// fakeFunction is a target function: it records each call and fails the
// calls its fail func says.
type fakeFunction struct {
	mu    sync.Mutex
	calls []call
	fail  func(n int) (*lambdaemu.Result, error) // n from 1; nil result and error means success
}

type call struct {
	function string
	payload  []byte
	at       time.Time
}

func (f *fakeFunction) invoke(_ context.Context, function string, payload []byte) (*lambdaemu.Result, error) {
	f.mu.Lock()
	f.calls = append(f.calls, call{function, payload, time.Now()})
	n := len(f.calls)
	f.mu.Unlock()
	if f.fail != nil {
		if res, err := f.fail(n); res != nil || err != nil {
			return res, err
		}
	}
	return &lambdaemu.Result{Payload: []byte(`{}`)}, nil
}

func (f *fakeFunction) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// fakeQueue is a dead-letter queue.
type fakeQueue struct {
	mu   sync.Mutex
	msgs []message
	err  error
}

type message struct {
	queue, body string
	attrs       map[string]string
}

func (q *fakeQueue) send(_ context.Context, queue, body string, attrs map[string]string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.msgs = append(q.msgs, message{queue, body, attrs})
	return nil
}

func (q *fakeQueue) Messages() []message {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]message(nil), q.msgs...)
}

func statusRule(mutate func(*stackmodel.RuleTarget)) stackmodel.Rule {
	t := stackmodel.RuleTarget{ID: "recorder", ARN: targetARN, Function: "RecorderFunction",
		MaximumRetryAttempts: 185, MaximumEventAge: 24 * time.Hour, DeadLetterQueue: "RecorderDeadLetterQueue",
		DeadLetterARN: "arn:aws:sqs:us-east-1:123456789012:aiflow-recorder-dlq"}
	if mutate != nil {
		mutate(&t)
	}
	return stackmodel.Rule{
		LogicalID: "ExecutionStatusChangeRule", Name: "aiflow-ExecutionStatusChangeRule", ARN: ruleARN, EventBusName: "default", Enabled: true,
		EventPattern: map[string]any{
			"source":      []any{"aws.states"},
			"detail-type": []any{"Step Functions Execution Status Change"},
			"detail":      map[string]any{"stateMachineArn": []any{map[string]any{"prefix": "arn:aws:states:us-east-1:123456789012:stateMachine:aiflow-"}}},
		},
		Targets: []stackmodel.RuleTarget{t},
	}
}

func statusChange(id, machine, status string) eventbridge.Event {
	exec := "arn:aws:states:us-east-1:123456789012:execution:" + machine + ":run"
	return eventbridge.Event{
		ID: id, Source: "aws.states", DetailType: "Step Functions Execution Status Change",
		Time: time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC), Resources: []string{exec},
		Detail: json.RawMessage(`{"executionArn":"` + exec + `","stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:` + machine + `","status":"` + status + `"}`),
	}
}

type busBundle struct {
	bus *eventbridge.Bus
	fn  *fakeFunction
	dlq *fakeQueue
}

func newBus(t *testing.T, rules ...stackmodel.Rule) *busBundle {
	t.Helper()
	b := &busBundle{fn: &fakeFunction{}, dlq: &fakeQueue{}}
	var err error
	b.bus, err = eventbridge.NewBus(eventbridge.BusParams{
		Rules: rules, Invoke: b.fn.invoke, SendToQueue: b.dlq.send,
		RandFunc: func() float64 { return 0.5 }, Region: "us-east-1", AccountID: "123456789012",
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.bus.Close(context.Background()) })
	return b
}

func TestBusDeliversToMatchingRules(t *testing.T) {
	t.Parallel()
	disabled := statusRule(nil)
	disabled.LogicalID, disabled.Enabled = "Disabled", false
	failedOnly := statusRule(func(rt *stackmodel.RuleTarget) { rt.ID, rt.Function = "alerts", "AlertFunction" })
	failedOnly.LogicalID = "Failures"
	failedOnly.EventPattern = map[string]any{"detail": map[string]any{"status": []any{"FAILED"}}}
	b := newBus(t, statusRule(nil), disabled, failedOnly)
	ctx := context.Background()

	require.NoError(t, b.bus.Deliver(ctx, statusChange("e1", "aiflow-summary", "RUNNING")))
	require.NoError(t, b.bus.Deliver(ctx, statusChange("e2", "other-summary", "FAILED")))
	require.NoError(t, b.bus.Deliver(ctx, statusChange("e3", "someone-else", "RUNNING")))

	calls := b.fn.Calls()
	require.Len(t, calls, 2)
	require.Equal(t, "RecorderFunction", calls[0].function)
	require.Equal(t, "AlertFunction", calls[1].function)
	var ev events.EventBridgeEvent
	require.NoError(t, json.Unmarshal(calls[0].payload, &ev))
	require.Equal(t, "e1", ev.ID)
	require.Equal(t, "us-east-1", ev.Region, "the bus fills the region")
	require.Equal(t, "123456789012", ev.AccountID)
	require.Equal(t, "0", ev.Version)
	require.Empty(t, b.dlq.Messages())
}

func TestBusFillsTheEnvelope(t *testing.T) {
	t.Parallel()
	b := newBus(t, statusRule(nil))
	ev := statusChange("", "aiflow-x", "RUNNING")
	ev.Time = time.Time{}
	require.NoError(t, b.bus.Deliver(context.Background(), ev))
	calls := b.fn.Calls()
	require.Len(t, calls, 1)
	var got events.EventBridgeEvent
	require.NoError(t, json.Unmarshal(calls[0].payload, &got))
	require.Len(t, got.ID, 36, "a UUID")
	require.False(t, got.Time.IsZero())
}

// TestBusRetrySchedule runs in a synctest bubble, where the system clock
// is the bubble's fake time: each retry waits its backoff exactly.
func TestBusRetrySchedule(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newBus(t, statusRule(nil))
		b.fn.fail = func(n int) (*lambdaemu.Result, error) {
			switch {
			case n == 1:
				return nil, errors.New("connection refused")
			case n <= 4:
				return &lambdaemu.Result{FunctionError: &lambdaemu.FunctionError{Type: "errorString", Message: "database unavailable"}}, nil
			}
			return nil, nil
		}
		start := time.Now()
		require.NoError(t, b.bus.Deliver(t.Context(), statusChange("e1", "aiflow-a", "RUNNING")))
		calls := b.fn.Calls()
		require.Len(t, calls, 5)
		// With the jitter at its middle, the n-th retry waits 3/4 of
		// min(1s·2^(n-1), 5m) after the failed attempt.
		var offsets []time.Duration
		for _, c := range calls {
			offsets = append(offsets, c.at.Sub(start))
		}
		require.Equal(t, []time.Duration{0, 750 * time.Millisecond, 2250 * time.Millisecond, 5250 * time.Millisecond, 11250 * time.Millisecond}, offsets)
		require.Empty(t, b.dlq.Messages())
		require.NoError(t, b.bus.Close(t.Context()))
	})
}

func TestBusDeadLettersAfterMaximumRetryAttempts(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newBus(t, statusRule(func(rt *stackmodel.RuleTarget) { rt.MaximumRetryAttempts = 2 }))
		b.fn.fail = func(int) (*lambdaemu.Result, error) {
			return &lambdaemu.Result{FunctionError: &lambdaemu.FunctionError{Type: "errorString", Message: "boom"}}, nil
		}
		ev := statusChange("e1", "aiflow-a", "FAILED")
		require.NoError(t, b.bus.Deliver(t.Context(), ev))
		require.Len(t, b.fn.Calls(), 3, "the first attempt and two retries")
		msgs := b.dlq.Messages()
		require.Len(t, msgs, 1)
		require.Equal(t, "RecorderDeadLetterQueue", msgs[0].queue)
		require.Equal(t, map[string]string{
			"RULE_ARN": ruleARN, "TARGET_ARN": targetARN, "ERROR_CODE": "SDK_CLIENT_ERROR",
			"ERROR_MESSAGE":             "function RecorderFunction returned an error: errorString: boom",
			"EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttemptsExhausted", "RETRY_ATTEMPTS": "2",
		}, msgs[0].attrs)
		var body events.EventBridgeEvent
		require.NoError(t, json.Unmarshal([]byte(msgs[0].body), &body), "the dead-letter queue gets the event")
		require.Equal(t, "e1", body.ID)
		require.NoError(t, b.bus.Close(t.Context()))
	})
}

func TestBusDeadLettersAfterMaximumEventAge(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newBus(t, statusRule(func(rt *stackmodel.RuleTarget) { rt.MaximumEventAge = time.Minute }))
		b.fn.fail = func(int) (*lambdaemu.Result, error) {
			return &lambdaemu.Result{FunctionError: &lambdaemu.FunctionError{Type: lambdaemu.TimeoutErrorType, Message: "Task timed out after 3.00 seconds"}}, nil
		}
		start := time.Now()
		require.NoError(t, b.bus.Deliver(t.Context(), statusChange("e1", "aiflow-a", "FAILED")))
		// Retries at 0.75, 2.25, 5.25, 11.25, 23.25 and 47.25 s; the next
		// would come 48 s later, past the minute.
		calls := b.fn.Calls()
		require.Len(t, calls, 7)
		require.Equal(t, 47250*time.Millisecond, calls[6].at.Sub(start))
		msgs := b.dlq.Messages()
		require.Len(t, msgs, 1)
		require.Equal(t, "TIMEOUT", msgs[0].attrs["ERROR_CODE"])
		require.Equal(t, "MaximumEventAgeExhausted", msgs[0].attrs["EXHAUSTED_RETRY_CONDITION"])
		require.Equal(t, "6", msgs[0].attrs["RETRY_ATTEMPTS"])
		require.NoError(t, b.bus.Close(t.Context()))
	})
}

func TestBusDropsWithoutDeadLetterQueue(t *testing.T) {
	t.Parallel()
	b := newBus(t, statusRule(func(rt *stackmodel.RuleTarget) {
		rt.MaximumRetryAttempts, rt.DeadLetterQueue, rt.DeadLetterARN = 0, "", ""
	}))
	b.fn.fail = func(int) (*lambdaemu.Result, error) { return nil, errors.New("refused") }
	require.NoError(t, b.bus.Deliver(context.Background(), statusChange("e1", "aiflow-a", "FAILED")))
	require.Len(t, b.fn.Calls(), 1)
	require.Empty(t, b.dlq.Messages())
}

func TestBusReportsAFailedDeadLetter(t *testing.T) {
	t.Parallel()
	b := newBus(t, statusRule(func(rt *stackmodel.RuleTarget) { rt.MaximumRetryAttempts = 0 }))
	b.fn.fail = func(int) (*lambdaemu.Result, error) { return nil, errors.New("refused") }
	b.dlq.err = errors.New("queue unavailable")
	err := b.bus.Deliver(context.Background(), statusChange("e1", "aiflow-a", "FAILED"))
	require.ErrorContains(t, err, "sending event e1 to dead-letter queue RecorderDeadLetterQueue of target recorder of rule ExecutionStatusChangeRule: queue unavailable")
}

func TestBusInputAndInputPath(t *testing.T) {
	t.Parallel()
	constant := statusRule(func(rt *stackmodel.RuleTarget) { rt.Input = `{"fixed": true}` })
	path := statusRule(func(rt *stackmodel.RuleTarget) { rt.ID, rt.Function, rt.InputPath = "path", "PathFunction", "$.detail" })
	index := statusRule(func(rt *stackmodel.RuleTarget) {
		rt.ID, rt.Function, rt.InputPath = "index", "IndexFunction", "$['resources'][0]"
	})
	missing := statusRule(func(rt *stackmodel.RuleTarget) {
		rt.ID, rt.Function, rt.InputPath = "missing", "MissingFunction", "$.detail.nothing"
	})
	path.Targets = append(path.Targets, index.Targets[0], missing.Targets[0])
	b := newBus(t, constant, path)
	require.NoError(t, b.bus.Deliver(context.Background(), statusChange("e1", "aiflow-a", "RUNNING")))
	got := map[string]string{}
	for _, c := range b.fn.Calls() {
		got[c.function] = string(c.payload)
	}
	require.Equal(t, map[string]string{
		"RecorderFunction": `{"fixed": true}`,
		"PathFunction":     `{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:aiflow-a:run","stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:aiflow-a","status":"RUNNING"}`,
		"IndexFunction":    `"arn:aws:states:us-east-1:123456789012:execution:aiflow-a:run"`,
	}, got)
	msgs := b.dlq.Messages()
	require.Len(t, msgs, 1, "a path that selects nothing is dead-lettered at once")
	require.Equal(t, "INVALID_PARAMETER", msgs[0].attrs["ERROR_CODE"])
	require.Equal(t, "0", msgs[0].attrs["RETRY_ATTEMPTS"])
}

func TestBusCloseInterruptsRetries(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newBus(t, statusRule(nil))
		b.fn.fail = func(int) (*lambdaemu.Result, error) { return nil, errors.New("refused") }
		done := make(chan error, 1)
		go func() { done <- b.bus.Deliver(t.Context(), statusChange("e1", "aiflow-a", "RUNNING")) }()
		time.Sleep(10 * time.Second) // fake time: a few retries pass
		synctest.Wait()
		require.NoError(t, b.bus.Close(t.Context()))
		require.ErrorIs(t, <-done, eventbridge.ErrClosed)
		require.Empty(t, b.dlq.Messages(), "an interrupted delivery is not dead-lettered")
		require.ErrorIs(t, b.bus.Put(t.Context(), statusChange("e2", "aiflow-a", "RUNNING")), eventbridge.ErrClosed)
	})
}

func TestBusDeliverStopsWithItsContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newBus(t, statusRule(nil))
		b.fn.fail = func(int) (*lambdaemu.Result, error) { return nil, errors.New("refused") }
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		err := b.bus.Deliver(ctx, statusChange("e1", "aiflow-a", "RUNNING"))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		synctest.Wait()
		n := len(b.fn.Calls())
		time.Sleep(time.Hour)
		require.Len(t, b.fn.Calls(), n, "the delivery stopped with its caller")
		require.NoError(t, b.bus.Close(t.Context()))
	})
}

func TestBusPutDeliversInTheBackground(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newBus(t, statusRule(nil))
		b.fn.fail = func(n int) (*lambdaemu.Result, error) {
			if n == 1 {
				return nil, errors.New("refused")
			}
			return nil, nil
		}
		require.NoError(t, b.bus.Put(t.Context(), statusChange("e1", "aiflow-a", "RUNNING")))
		synctest.Wait()
		require.Len(t, b.fn.Calls(), 1)
		time.Sleep(time.Second)
		synctest.Wait()
		require.Len(t, b.fn.Calls(), 2)
		require.NoError(t, b.bus.Close(t.Context()))
	})
}

func TestNewBusRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		mutate func(*stackmodel.Rule)
		want   string
	}{
		{"cron", func(r *stackmodel.Rule) { r.ScheduleExpression, r.EventPattern = "cron(0 12 * * ? *)", nil },
			`rule ExecutionStatusChangeRule: ScheduleExpression: "cron(0 12 * * ? *)": this bus runs rate(...) schedules, not cron(...) ones`},
		{"schedule and pattern", func(r *stackmodel.Rule) { r.ScheduleExpression = "rate(5 minutes)" }, "both a ScheduleExpression and an EventPattern"},
		{"other bus", func(r *stackmodel.Rule) { r.EventBusName = "orders" }, `it is on event bus "orders"`},
		{"no pattern", func(r *stackmodel.Rule) { r.EventPattern = nil }, "it has no EventPattern"},
		{"bad pattern", func(r *stackmodel.Rule) {
			r.EventPattern = map[string]any{"detail": map[string]any{"status": "FAILED"}}
		},
			"rule ExecutionStatusChangeRule: EventPattern: event pattern $.detail.status: must be an object or an array"},
		{"queue target", func(r *stackmodel.Rule) { r.Targets[0].Function, r.Targets[0].ARN = "", "arn:aws:sqs:us-east-1:1:q" },
			"target recorder is arn:aws:sqs:us-east-1:1:q, not a function of the stack; this bus delivers to Lambda function targets only"},
		{"retries", func(r *stackmodel.Rule) { r.Targets[0].MaximumRetryAttempts = 186 }, "MaximumRetryAttempts 186 is not from 0 to 185"},
		{"age", func(r *stackmodel.Rule) { r.Targets[0].MaximumEventAge = time.Second }, "MaximumEventAgeInSeconds 1 is not from 60 to 86400"},
		{"input and path", func(r *stackmodel.Rule) { r.Targets[0].Input, r.Targets[0].InputPath = "{}", "$" }, "both Input and InputPath"},
		{"input", func(r *stackmodel.Rule) { r.Targets[0].Input = "{" }, "Input is not JSON text"},
		{"wildcard path", func(r *stackmodel.Rule) { r.Targets[0].InputPath = "$.resources[*]" }, `InputPath: "$.resources[*]" has [*]`},
		{"descent", func(r *stackmodel.Rule) { r.Targets[0].InputPath = "$..status" }, "recursive descent"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := statusRule(nil)
			c.mutate(&r)
			_, err := eventbridge.NewBus(eventbridge.BusParams{Rules: []stackmodel.Rule{r}, Invoke: (&fakeFunction{}).invoke, SendToQueue: (&fakeQueue{}).send})
			require.ErrorContains(t, err, c.want)
		})
	}
	_, err := eventbridge.NewBus(eventbridge.BusParams{Rules: []stackmodel.Rule{statusRule(nil)}, Invoke: (&fakeFunction{}).invoke})
	require.ErrorContains(t, err, "has the dead-letter queue RecorderDeadLetterQueue but BusParams.SendToQueue is nil")
	_, err = eventbridge.NewBus(eventbridge.BusParams{})
	require.ErrorContains(t, err, "BusParams.Invoke is required")
}

func TestParseRate(t *testing.T) {
	t.Parallel()
	for expr, want := range map[string]time.Duration{
		"rate(1 minute)": time.Minute, "rate(5 minutes)": 5 * time.Minute, "rate(1 hour)": time.Hour,
		"rate(2 hours)": 2 * time.Hour, "rate(1 day)": 24 * time.Hour, "rate(7 days)": 7 * 24 * time.Hour,
	} {
		got, err := eventbridge.ParseRate(expr)
		require.NoError(t, err, expr)
		require.Equal(t, want, got, expr)
	}
	for expr, why := range map[string]string{
		"rate(1 minutes)": "is not minute(s), hour(s) or day(s)", "rate(5 minute)": "takes a plural unit",
		"rate(0 minutes)": "is not a positive whole number", "rate(1.5 hours)": "is not a positive whole number",
		"rate(5 weeks)": "is not minute(s), hour(s) or day(s)", "rate(5minutes)": "is not a rate expression",
		"every 5 minutes": "is not a rate expression", "cron(0/5 * * * ? *)": "not cron(...) ones",
	} {
		_, err := eventbridge.ParseRate(expr)
		require.ErrorContains(t, err, why, expr)
	}
}

// TestBusSchedules delivers a scheduled rule's Scheduled Events at its
// rate, the first at once with FireSchedulesAtStart, and stops at Close.
func TestBusSchedules(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		fn := &fakeFunction{}
		scheduled := stackmodel.Rule{LogicalID: "HealthCheckFunctionChecks", Name: "aiflow-HealthCheckFunctionChecks",
			ARN: "arn:aws:events:us-east-1:123456789012:rule/aiflow-HealthCheckFunctionChecks", EventBusName: "default", Enabled: true,
			ScheduleExpression: "rate(1 minute)",
			Targets:            []stackmodel.RuleTarget{{ID: "checks", ARN: targetARN, Function: "HealthCheckFunction", MaximumRetryAttempts: 185, MaximumEventAge: 24 * time.Hour}}}
		bus, err := eventbridge.NewBus(eventbridge.BusParams{Rules: []stackmodel.Rule{scheduled, statusRule(nil)}, Invoke: fn.invoke,
			SendToQueue: (&fakeQueue{}).send, Region: "us-east-1", AccountID: "123456789012", FireSchedulesAtStart: true})
		require.NoError(t, err)
		synctest.Wait()
		require.Len(t, fn.Calls(), 1, "the first event at once")
		time.Sleep(time.Minute - time.Second)
		synctest.Wait()
		require.Len(t, fn.Calls(), 1)
		time.Sleep(time.Second)
		synctest.Wait()
		require.Len(t, fn.Calls(), 2, "then one a minute")

		var ev events.EventBridgeEvent
		require.NoError(t, json.Unmarshal(fn.Calls()[1].payload, &ev))
		require.Equal(t, "Scheduled Event", ev.DetailType)
		require.Equal(t, "aws.events", ev.Source)
		require.Equal(t, []string{scheduled.ARN}, ev.Resources)
		require.JSONEq(t, `{}`, string(ev.Detail))
		require.Equal(t, "HealthCheckFunction", fn.Calls()[1].function)

		// A status change goes to the pattern rule only.
		require.NoError(t, bus.Deliver(t.Context(), statusChange("e1", "aiflow-a", "RUNNING")))
		require.Len(t, fn.Calls(), 3)
		require.Equal(t, "RecorderFunction", fn.Calls()[2].function)

		require.NoError(t, bus.Close(t.Context()))
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		require.Len(t, fn.Calls(), 3, "no event after Close")
	})
}
