package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/clock"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/sfn"
)

// TestSkippingClock runs, on a clock.Skipping, an execution that waits two
// hours, has a message its worker fails come back after the queue's
// visibility timeout, retries a task after an hour, times out a task
// nobody answers after a day and another after an hour without a
// heartbeat: it ends in seconds, its history shows the
// time each took, and a slow worker's task does not time out meanwhile.
func TestSkippingClock(t *testing.T) {
	t.Parallel()
	clk := clock.NewSkipping()
	t.Cleanup(func() { require.NoError(t, clk.Close()) })
	qs := queue.New(queue.Config{Clock: clk})
	e, err := engine.New(engine.Config{Store: engine.NewMemoryStore(), Queues: qs, Clock: clk})
	require.NoError(t, err)
	ctx := t.Context()
	require.NoError(t, e.Start(ctx))
	t.Cleanup(func() {
		require.NoError(t, e.Close())
		require.NoError(t, qs.Close())
	})

	work, err := qs.CreateQueue(queue.QueueConfig{Name: "work", VisibilityTimeout: 10 * time.Minute})
	require.NoError(t, err)
	inbox, err := qs.CreateQueue(queue.QueueConfig{Name: "inbox"})
	require.NoError(t, err)
	var mu sync.Mutex
	deliveries := 0
	var slowSkipped []time.Duration
	stop, err := qs.Subscribe(work, func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		// assert, not require: this runs on the queue's goroutine.
		var resp events.SQSEventResponse
		for _, m := range ev.Records {
			var body struct{ Token string }
			assert.NoError(t, json.Unmarshal([]byte(m.Body), &body))
			mu.Lock()
			deliveries++
			n := deliveries
			mu.Unlock()
			switch n {
			case 1: // failed: it comes back after the visibility timeout
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			case 2: // a failure the state retries after an hour
				assert.NoError(t, e.SendTaskFailure(ctx, sfn.SendTaskFailureInput{TaskToken: body.Token, Error: "Flaky"}))
			default: // a slow worker: time runs at its real pace meanwhile
				before := clk.Skipped()
				time.Sleep(100 * time.Millisecond)
				mu.Lock()
				slowSkipped = append(slowSkipped, clk.Skipped()-before)
				mu.Unlock()
				assert.NoError(t, e.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: body.Token, Output: `{"done": true}`}))
			}
		}
		return resp, nil
	}, queue.MappingConfig{ReportBatchItemFailures: true, FunctionTimeout: time.Minute})
	require.NoError(t, err)
	t.Cleanup(stop)
	// The inbox takes its messages and answers none, as a person would not.
	stopInbox, err := qs.Subscribe(inbox, func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
		return events.SQSEventResponse{}, nil
	}, queue.MappingConfig{})
	require.NoError(t, err)
	t.Cleanup(stopInbox)

	definition := fmt.Sprintf(`{"StartAt": "Pause", "States": {
		"Pause": {"Type": "Wait", "Seconds": 7200, "Next": "Work"},
		"Work": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
			"Parameters": {"QueueUrl": %q, "MessageBody": {"Token.$": "$$.Task.Token"}},
			"TimeoutSeconds": 1200, "HeartbeatSeconds": 900,
			"Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 3600, "MaxAttempts": 1}],
			"ResultPath": "$.work", "Next": "Ask"},
		"Ask": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
			"Parameters": {"QueueUrl": %q, "MessageBody": {"Token.$": "$$.Task.Token"}},
			"TimeoutSeconds": 86400,
			"Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.asked", "Next": "Beat"}], "Next": "Beat"},
		"Beat": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
			"Parameters": {"QueueUrl": %q, "MessageBody": {"Token.$": "$$.Task.Token"}},
			"TimeoutSeconds": 86400, "HeartbeatSeconds": 3600,
			"Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "ResultPath": "$.beat", "Next": "Done"}], "Next": "Done"},
		"Done": {"Type": "Succeed"}}}`, work, inbox, inbox)
	sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "skipping", Definition: definition})
	require.NoError(t, err)
	started := time.Now()
	ex, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Input: `{}`})
	require.NoError(t, err)
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, e.Wait(waitCtx, ex.ExecutionARN))
	real := time.Since(started)

	d, err := e.DescribeExecution(ctx, ex.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusSucceeded, d.Status, "%s: %s", d.Error, d.Cause)
	require.JSONEq(t, `{"work": {"done": true}, "asked": {"Error": "States.Timeout", "Cause": ""},
		"beat": {"Error": "States.HeartbeatTimeout", "Cause": ""}}`, d.Output)
	mu.Lock()
	require.Equal(t, 3, deliveries, "failed once by the worker, once by the task, then done")
	require.Equal(t, []time.Duration{0}, slowSkipped, "no time skipped while the worker worked")
	mu.Unlock()

	virtual := d.StopDate.Sub(d.StartDate)
	want := 2*time.Hour + 10*time.Minute + time.Hour + 24*time.Hour + time.Hour
	require.GreaterOrEqual(t, virtual, want, "the history's times are the clock's")
	require.Less(t, virtual, want+real+time.Second, "nothing but the waits was skipped")

	h, err := e.GetExecutionHistory(ctx, sfn.GetExecutionHistoryInput{ExecutionARN: ex.ExecutionARN, MaxResults: 1000})
	require.NoError(t, err)
	at := map[string]time.Time{}
	for _, ev := range h.Events {
		if _, ok := at[ev.Type]; !ok {
			at[ev.Type] = ev.Timestamp
		}
	}
	require.GreaterOrEqual(t, at["WaitStateExited"].Sub(at["WaitStateEntered"]), 2*time.Hour, "the wait shows two hours")
	require.Less(t, at["WaitStateExited"].Sub(at["WaitStateEntered"]), 2*time.Hour+real)
}

// TestSkippingClockDocumented: docs/testing.md shows the code of
// Example_skippingClock.
func TestSkippingClockDocumented(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/testing.md")
	require.NoError(t, err)
	src, err := os.ReadFile("example_skip_test.go")
	require.NoError(t, err)
	block := regexp.MustCompile("(?s)<!-- skipping-example -->\n```go\n(.*?)```\n<!-- /skipping-example -->").FindSubmatch(doc)
	require.NotNil(t, block, "docs/testing.md has the skipping-example block")
	code := regexp.MustCompile(`(?s)// skipping-example\n(.*?)\t// /skipping-example`).FindSubmatch(src)
	require.NotNil(t, code)
	var want strings.Builder
	for _, line := range strings.SplitAfter(string(code[1]), "\n") {
		want.WriteString(strings.TrimPrefix(line, "\t"))
	}
	require.Equal(t, want.String(), string(block[1]))
}

// armingClock is a clock.Skipping that records each timer armed while it
// could have jumped: every activity it watches quiet and no timer's
// callback running. A timer armed then could be jumped over before the
// transition that armed it is queued.
type armingClock struct {
	*clock.Skipping
	mu        sync.Mutex
	watched   []clock.Activity
	firing    int
	armed     int
	armedIdle []time.Duration
}

func (c *armingClock) Watch(a clock.Activity) {
	c.mu.Lock()
	c.watched = append(c.watched, a)
	c.mu.Unlock()
	c.Skipping.Watch(a)
}

func (c *armingClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	c.armed++
	idle := c.firing == 0
	for _, a := range c.watched {
		if quiet, _ := a.Quiet(); !quiet {
			idle = false
		}
	}
	if idle {
		c.armedIdle = append(c.armedIdle, d)
	}
	c.mu.Unlock()
	return c.Skipping.AfterFunc(d, func() {
		c.mu.Lock()
		c.firing++
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			c.firing--
			c.mu.Unlock()
		}()
		f()
	})
}

// TestSkippingNeverFindsACallQuiet: a start, a callback, a stop and a
// redrive arm timers (an execution's TimeoutSeconds, a Wait state's, a
// task's) before their transition is queued for writing; the engine is
// not quiet while they do, so a skipping clock never jumps over a timer
// the call is about to arm (it jumped to a two-hour execution timeout
// over a two-minute Wait that a start had not armed yet).
func TestSkippingNeverFindsACallQuiet(t *testing.T) {
	t.Parallel()
	clk := &armingClock{Skipping: clock.NewSkipping()}
	t.Cleanup(func() { require.NoError(t, clk.Close()) })
	// The task's message goes to a channel, not to a queue (whose own
	// timers are armed while it holds a message); the test is busy while
	// it holds a token, as a worker is.
	tokens := make(chan string, 10)
	held := &busy{}
	clk.Watch(held)
	sender := senderFunc(func(_ context.Context, p sfn.SendMessageParams) (string, error) {
		var body struct{ Token string }
		if err := json.Unmarshal([]byte(p.Body), &body); err != nil {
			return "", err
		}
		held.hold(1)
		tokens <- body.Token
		return "message", nil
	})
	e, err := engine.New(engine.Config{Store: engine.NewMemoryStore(), Queues: sender, Clock: clk})
	require.NoError(t, err)
	ctx := t.Context()
	require.NoError(t, e.Start(ctx))
	t.Cleanup(func() { require.NoError(t, e.Close()) })

	sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "arming", Definition: `{
	  "TimeoutSeconds": 7200, "StartAt": "Settle",
	  "States": {
	    "Settle": {"Type": "Wait", "Seconds": 120, "Next": "Ask"},
	    "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "TimeoutSeconds": 3600,
	      "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/work", "MessageBody": {"Token.$": "$$.Task.Token"}}, "Next": "Again"},
	    "Again": {"Type": "Wait", "Seconds": 60, "Next": "Fail"},
	    "Fail": {"Type": "Fail", "Error": "Demo.Failed"}
	  }}`})
	require.NoError(t, err)
	x, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "first", Input: `{}`})
	require.NoError(t, err)
	require.NoError(t, e.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: <-tokens, Output: `{}`}))
	held.hold(-1)
	require.NoError(t, e.Wait(ctx, x.ExecutionARN))
	_, err = e.RedriveExecution(ctx, sfn.RedriveExecutionInput{ExecutionARN: x.ExecutionARN})
	require.NoError(t, err)
	require.NoError(t, e.Wait(ctx, x.ExecutionARN))
	y, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "stopped", Input: `{}`})
	require.NoError(t, err)
	<-tokens
	_, err = e.StopExecution(ctx, sfn.StopExecutionInput{ExecutionARN: y.ExecutionARN})
	require.NoError(t, err)
	held.hold(-1)

	clk.mu.Lock()
	defer clk.mu.Unlock()
	require.Positive(t, clk.armed)
	require.Empty(t, clk.armedIdle, "timers armed while the engine was quiet, of %d", clk.armed)
}

// busy is an activity that is busy while it holds something.
type busy struct {
	n     atomic.Int64
	epoch atomic.Uint64
}

func (b *busy) hold(n int64) {
	b.epoch.Add(1)
	b.n.Add(n)
}

func (b *busy) Quiet() (bool, uint64) { return b.n.Load() == 0, b.epoch.Load() }
