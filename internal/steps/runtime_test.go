package steps_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/steps/stepstest"
	"github.com/aiflow/aiflow/internal/task"
	"github.com/aiflow/aiflow/internal/textgate"
)

// body is the message of a task step, as the compiled state machine
// sends it.
func body(t testing.TB, token, kind string, spec, data any) string {
	t.Helper()
	raw, err := json.Marshal(map[string]any{
		"taskToken": token,
		"execution": map[string]any{"id": "arn:aws:states:us-east-1:123456789012:execution:wf:run-1", "name": "run-1", "startTime": "2026-01-02T03:04:05Z"},
		"step":      map[string]any{"id": "summarize", "kind": kind, "attempt": 0, "enteredTime": "2026-01-02T03:04:05Z"},
		"spec":      spec,
		"data":      data,
	})
	require.NoError(t, err)
	return string(raw)
}

func event(bodies ...string) events.SQSEvent {
	var ev events.SQSEvent
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: "m" + string(rune('0'+i)), Body: b})
	}
	return ev
}

func newRuntime(t testing.TB, cb sfn.Callbacks, handlers map[string]steps.Handler, tweak func(*steps.RuntimeConfig)) *steps.Runtime {
	t.Helper()
	cfg := steps.RuntimeConfig{Callbacks: cb, Handlers: handlers}
	if tweak != nil {
		tweak(&cfg)
	}
	rt, err := steps.NewRuntime(cfg)
	require.NoError(t, err)
	return rt
}

func echo() map[string]steps.Handler {
	return map[string]steps.Handler{"echo": steps.HandlerFunc(func(ctx context.Context, m steps.Message) (steps.Result, error) {
		return steps.Result{Output: m.Data}, nil
	})}
}

func TestRuntimeAnswersEachMessage(t *testing.T) {
	t.Parallel()
	cb := &stepstest.Callbacks{}
	rt := newRuntime(t, cb, echo(), nil)
	resp, err := rt.Handle(context.Background(), event(
		body(t, "t1", "echo", map[string]any{}, map[string]any{"x": 1}),
		body(t, "t2", "echo", map[string]any{}, map[string]any{"x": 2}),
	))
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	got := map[string]string{}
	for _, s := range cb.Successes() {
		got[s.TaskToken] = s.Output
	}
	require.JSONEq(t, `{"output":{"x":1}}`, got["t1"])
	require.JSONEq(t, `{"output":{"x":2}}`, got["t2"])
}

func TestRuntimeMalformedMessages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, wantError string
		retried               bool
	}{
		{"no token", `{"step":{"id":"a","kind":"echo"}}`, "", true},
		{"not JSON", `{"taskToken":`, "", true},
		{"token but bad shape", `{"taskToken":"tok","step":{"id":"a","kind":"echo","attempt":"zero"}}`, steps.CodeMalformedMessage, false},
		{"token but no step", `{"taskToken":"tok"}`, steps.CodeMalformedMessage, false},
		{"unknown kind", `{"taskToken":"tok","step":{"id":"a","kind":"teleport"}}`, steps.CodeUnknownKind, false},
		{"unknown version", `{"version":2,"taskToken":"tok","step":{"id":"a","kind":"echo"}}`, task.CodeUnsupportedVersion, false},
		{"unknown version of another shape", `{"version":2,"taskToken":"tok","step":"a"}`, task.CodeUnsupportedVersion, false},
		{"unknown version without token", `{"version":2,"step":{"id":"a","kind":"echo"}}`, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cb := &stepstest.Callbacks{}
			rt := newRuntime(t, cb, echo(), nil)
			resp, err := rt.Handle(context.Background(), event(tc.body))
			require.NoError(t, err)
			if tc.retried {
				require.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "m0"}}, resp.BatchItemFailures)
				require.Empty(t, cb.Failures())
				return
			}
			require.Empty(t, resp.BatchItemFailures)
			require.Len(t, cb.Failures(), 1)
			require.Equal(t, "tok", cb.Failures()[0].TaskToken)
			require.Equal(t, tc.wantError, cb.Failures()[0].Error)
			require.NotEmpty(t, cb.Failures()[0].Cause)
		})
	}
}

// TestRuntimeFailsAMessageOfAnUnknownVersion: a message of a version the
// worker does not read fails its task with the named error, without running
// the step, rather than coming back from the queue forever.
func TestRuntimeFailsAMessageOfAnUnknownVersion(t *testing.T) {
	t.Parallel()
	cb := &stepstest.Callbacks{}
	ran := false
	handlers := map[string]steps.Handler{"echo": steps.HandlerFunc(func(context.Context, steps.Message) (steps.Result, error) {
		ran = true
		return steps.Result{}, nil
	})}
	rt := newRuntime(t, cb, handlers, nil)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(body(t, "tok", "echo", map[string]any{}, 1)), &m))
	m["version"] = task.Version + 1
	raw, err := json.Marshal(m)
	require.NoError(t, err)

	resp, err := rt.Handle(context.Background(), event(string(raw)))
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.False(t, ran)
	require.Empty(t, cb.Successes())
	require.Len(t, cb.Failures(), 1)
	f := cb.Failures()[0]
	require.Equal(t, sfn.SendTaskFailureInput{TaskToken: "tok", Error: "Task.UnsupportedVersion", Cause: f.Cause}, f)
	require.Contains(t, f.Cause, "version 2")
}

// TestRuntimeFailsAMessageWithRefusedText: a message holding a NUL,
// invalid UTF-8 or a lone surrogate fails its task as a malformed message
// naming where, without running the step (nothing of it reaches a tool or
// the engine), rather than coming back from the queue forever.
func TestRuntimeFailsAMessageWithRefusedText(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ data, where string }{
		"NUL in a task's input":       {`{"note": "refund\u0000"}`, "/data/note"},
		"a lone surrogate":            {`{"items": ["ok", "\ud800"]}`, "/data/items/1"},
		"invalid UTF-8":               {"{\"note\": \"\xc3\"}", "/data/note"},
		"a raw NUL (not even JSON)":   {"{\"note\": \"\x00\"}", "/data/note"},
		"a NUL in a key of the input": {`{"no\u0000te": 1}`, "a key of /data"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cb := &stepstest.Callbacks{}
			ran := false
			handlers := map[string]steps.Handler{"echo": steps.HandlerFunc(func(context.Context, steps.Message) (steps.Result, error) {
				ran = true
				return steps.Result{}, nil
			})}
			rt := newRuntime(t, cb, handlers, nil)
			msg := strings.Replace(body(t, "tok", "echo", map[string]any{}, "DATA"), `"DATA"`, tc.data, 1)

			resp, err := rt.Handle(context.Background(), event(msg))
			require.NoError(t, err)
			require.Empty(t, resp.BatchItemFailures, "not received again")
			require.False(t, ran)
			require.Empty(t, cb.Successes())
			require.Len(t, cb.Failures(), 1)
			f := cb.Failures()[0]
			require.Equal(t, "tok", f.TaskToken)
			require.Equal(t, steps.CodeMalformedMessage, f.Error)
			require.Contains(t, f.Cause, tc.where)
			require.True(t, textgate.Valid(f.Cause), "the cause itself is clean: %q", f.Cause)
		})
	}
}

// TestRuntimeRefusesAResultWithRefusedText: a tool's or a model's answer
// holding a NUL (or a lone surrogate in raw JSON) is not sent on as the
// task's result, which the engine and PostgreSQL could not keep: the task
// fails with Steps.InvalidText naming where. A failure's cause holding one
// is cleaned, so that the failure arrives.
func TestRuntimeRefusesAResultWithRefusedText(t *testing.T) {
	t.Parallel()
	for name, out := range map[string]any{
		"a NUL in a string":            map[string]any{"reply": "refund\x00ed"},
		"an escaped NUL in raw JSON":   json.RawMessage(`{"reply": "\u0000"}`),
		"a lone surrogate in raw JSON": json.RawMessage(`{"items": ["\udbff"]}`),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cb := &stepstest.Callbacks{}
			rt := newRuntime(t, cb, map[string]steps.Handler{"echo": steps.HandlerFunc(func(context.Context, steps.Message) (steps.Result, error) {
				return steps.Result{Output: out}, nil
			})}, nil)
			resp, err := rt.Handle(context.Background(), event(body(t, "tok", "echo", map[string]any{}, map[string]any{})))
			require.NoError(t, err)
			require.Empty(t, resp.BatchItemFailures)
			require.Empty(t, cb.Successes())
			require.Len(t, cb.Failures(), 1)
			f := cb.Failures()[0]
			require.Equal(t, steps.CodeInvalidText, f.Error)
			require.Contains(t, f.Cause, "/output/")
			require.True(t, textgate.Valid(f.Cause))
		})
	}

	t.Run("a cause holding a NUL", func(t *testing.T) {
		t.Parallel()
		cb := &stepstest.Callbacks{}
		rt := newRuntime(t, cb, map[string]steps.Handler{"echo": steps.HandlerFunc(func(context.Context, steps.Message) (steps.Result, error) {
			return steps.Result{}, steps.Failf("MCP.ToolError", "order \x00 not \xff found")
		})}, nil)
		_, err := rt.Handle(context.Background(), event(body(t, "tok", "echo", map[string]any{}, map[string]any{})))
		require.NoError(t, err)
		require.Len(t, cb.Failures(), 1)
		require.Equal(t, sfn.SendTaskFailureInput{TaskToken: "tok", Error: "MCP.ToolError", Cause: "order \uFFFD not \uFFFD found"}, cb.Failures()[0])
	})
}

func TestRuntimeCallbackErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		err     error
		retried bool
	}{
		{"transient", errors.New("connection reset"), true},
		{"throttled by the service", &sfn.Error{Code: "ThrottlingException", Message: "slow down"}, true},
		{"task timed out", &sfn.Error{Code: sfn.CodeTaskTimedOut, Message: "closed"}, false},
		{"invalid token", &sfn.Error{Code: sfn.CodeInvalidToken, Message: "no"}, false},
		{"task does not exist", &sfn.Error{Code: sfn.CodeTaskDoesNotExist, Message: "no"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cb := &stepstest.Callbacks{SendTaskSuccessFunc: func(context.Context, sfn.SendTaskSuccessInput) error { return tc.err }}
			rt := newRuntime(t, cb, echo(), nil)
			resp, err := rt.Handle(context.Background(), event(body(t, "tok", "echo", map[string]any{}, 1)))
			require.NoError(t, err)
			if tc.retried {
				require.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "m0"}}, resp.BatchItemFailures)
			} else {
				require.Empty(t, resp.BatchItemFailures)
			}
			require.Empty(t, cb.Failures())
		})
	}
}

func TestRuntimeFailsWithTheHandlersErrorName(t *testing.T) {
	t.Parallel()
	cb := &stepstest.Callbacks{}
	rt := newRuntime(t, cb, map[string]steps.Handler{
		"named": steps.HandlerFunc(func(context.Context, steps.Message) (steps.Result, error) {
			return steps.Result{}, steps.Failf("Custom.Broken", "the %s broke", "widget")
		}),
		"bare": steps.HandlerFunc(func(context.Context, steps.Message) (steps.Result, error) {
			return steps.Result{}, errors.New("nil pointer somewhere")
		}),
		"huge": steps.HandlerFunc(func(context.Context, steps.Message) (steps.Result, error) {
			return steps.Result{Output: strings.Repeat("x", sfn.MaxPayloadBytes)}, nil
		}),
	}, nil)
	_, err := rt.Handle(context.Background(), event(body(t, "t-named", "named", nil, nil), body(t, "t-bare", "bare", nil, nil), body(t, "t-huge", "huge", nil, nil)))
	require.NoError(t, err)
	got := map[string]sfn.SendTaskFailureInput{}
	for _, f := range cb.Failures() {
		got[f.TaskToken] = f
	}
	require.Equal(t, sfn.SendTaskFailureInput{TaskToken: "t-named", Error: "Custom.Broken", Cause: "the widget broke"}, got["t-named"])
	require.Equal(t, steps.CodeInternal, got["t-bare"].Error)
	require.Equal(t, steps.CodeOutputTooLarge, got["t-huge"].Error)
	require.Contains(t, got["t-huge"].Cause, "step \"summarize\"")
	require.Empty(t, cb.Successes())
}

// blocking is a handler that waits for its context to end and returns its
// error, as a model call does.
func blocking() map[string]steps.Handler {
	return map[string]steps.Handler{"ai": steps.HandlerFunc(func(ctx context.Context, m steps.Message) (steps.Result, error) {
		<-ctx.Done()
		return steps.Result{}, ctx.Err()
	})}
}

func TestRuntimeSendsHeartbeatsWhileTheHandlerRuns(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cb := &stepstest.Callbacks{}
		release := make(chan struct{})
		rt := newRuntime(t, cb, map[string]steps.Handler{"ai": steps.HandlerFunc(func(ctx context.Context, m steps.Message) (steps.Result, error) {
			<-release
			return steps.Result{Output: "done"}, nil
		})}, func(c *steps.RuntimeConfig) { c.HeartbeatInterval = 10 * time.Second })
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, err := rt.Handle(context.Background(), event(body(t, "tok", "ai", map[string]any{}, nil)))
			require.NoError(t, err)
		}()
		time.Sleep(35 * time.Second)
		synctest.Wait()
		// The first checks the token before the step runs; one each 10 s
		// follows.
		require.Equal(t, []string{"tok", "tok", "tok", "tok"}, cb.Heartbeats())
		close(release)
		<-done
		time.Sleep(time.Minute)
		require.Len(t, cb.Heartbeats(), 4, "no heartbeat after the handler ended")
		require.Len(t, cb.Successes(), 1)
	})
}

func TestRuntimeStopsWhenAHeartbeatFindsTheTaskGone(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var beats atomic.Int32
		cb := &stepstest.Callbacks{SendTaskHeartbeatFunc: func(context.Context, string) error {
			if beats.Add(1) == 1 {
				return nil // the check before the step runs
			}
			return &sfn.Error{Code: sfn.CodeTaskTimedOut, Message: "the execution was stopped"}
		}}
		rt := newRuntime(t, cb, blocking(), nil)
		start := time.Now()
		resp, err := rt.Handle(context.Background(), event(body(t, "tok", "ai", map[string]any{}, nil)))
		require.NoError(t, err)
		require.Empty(t, resp.BatchItemFailures)
		require.Equal(t, 20*time.Second, time.Since(start), "the default heartbeat interval")
		require.Empty(t, cb.Successes())
		require.Empty(t, cb.Failures())
	})
}

func TestRuntimeFailsBeforeTheWorkersDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cb := &stepstest.Callbacks{}
		rt := newRuntime(t, cb, blocking(), func(c *steps.RuntimeConfig) { c.DeadlineMargin = 2 * time.Second })
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		start := time.Now()
		_, err := rt.Handle(ctx, event(body(t, "tok", "ai", map[string]any{}, nil)))
		require.NoError(t, err)
		require.Equal(t, 13*time.Second, time.Since(start))
		require.Len(t, cb.Failures(), 1)
		f := cb.Failures()[0]
		require.Equal(t, "AI.Timeout", f.Error)
		require.Contains(t, f.Cause, `step "summarize" stopped 2s before the worker's deadline`)
	})
}

func TestRuntimeFailsAtTheStepsTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cb := &stepstest.Callbacks{}
		entered := time.Now().Add(-5 * time.Second).UTC().Format(time.RFC3339Nano)
		rt := newRuntime(t, cb, blocking(), nil)
		b := strings.Replace(body(t, "tok", "ai", map[string]any{"timeout_seconds": 8}, nil), "2026-01-02T03:04:05Z\",\"id\"", entered+"\",\"id\"", 1)
		require.Contains(t, b, entered)
		start := time.Now()
		_, err := rt.Handle(context.Background(), event(b))
		require.NoError(t, err)
		require.Equal(t, 3*time.Second, time.Since(start))
		require.Len(t, cb.Failures(), 1)
		require.Equal(t, "AI.Timeout", cb.Failures()[0].Error)
		require.Contains(t, cb.Failures()[0].Cause, "ran out of its timeout")
	})
}

func TestNewRuntimeNeedsCallbacks(t *testing.T) {
	t.Parallel()
	_, err := steps.NewRuntime(steps.RuntimeConfig{})
	require.ErrorContains(t, err, "Callbacks is required")
}

// TestTheSampleEventRuns runs events/aistep-sqs.json, the sample event of
// `sam local invoke` and `aiflow invoke`, through the runtime.
func TestTheSampleEventRuns(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../events/aistep-sqs.json")
	require.NoError(t, err)
	var ev events.SQSEvent
	require.NoError(t, json.Unmarshal(raw, &ev))
	require.Len(t, ev.Records, 1)
	reply := stepstest.Replies(ai.Response{
		Text:       `{"category": "order_status", "urgency": "normal", "summary": "Customer asks where an order placed a week ago is."}`,
		StopReason: ai.StopEndTurn, Usage: ai.Usage{InputTokens: 180, OutputTokens: 25},
	})
	p := &stepstest.Provider{}
	cb := &stepstest.Callbacks{}
	var msg steps.Message
	require.NoError(t, json.Unmarshal([]byte(ev.Records[0].Body), &msg))
	entered, ok := msg.Step.Entered()
	require.True(t, ok)
	p.StreamFunc = func(ctx context.Context, req ai.Request, onDelta func(ai.Delta) error) (ai.Response, error) {
		if err := ctx.Err(); err != nil {
			return ai.Response{}, err
		}
		return reply(ctx, req, onDelta)
	}
	rt := newRuntime(t, cb, map[string]steps.Handler{"ai": steps.NewAI(steps.AIConfig{Providers: map[string]ai.Provider{"openai": p}})},
		// The clock of the message's time, so its 90 s timeout has not run out.
		func(c *steps.RuntimeConfig) { c.NowFunc = func() time.Time { return entered.Add(time.Second) } })
	resp, err := rt.Handle(context.Background(), ev)
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.Empty(t, cb.Failures())
	require.Len(t, cb.Successes(), 1)
	require.JSONEq(t, `{"output":{"category":"order_status","urgency":"normal","summary":"Customer asks where an order placed a week ago is."},
		"usage":{"input_tokens":180,"output_tokens":25,"cost_usd":0,"calls":1,"turns":1}}`, cb.Successes()[0].Output)
	req := p.Requests()[0]
	require.Equal(t, "gpt-4.1-mini", req.Model)
	require.Equal(t, "Classify this message from a customer: Where is my order? It has been a week.", req.Messages[0].Content[0].Text)
}
