package engine_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// coverQueues is a sfn.QueueSender that keeps what it is sent and answers
// with err when set.
type coverQueues struct {
	mu   sync.Mutex
	sent []sfn.SendMessageParams
	err  error
}

func (q *coverQueues) SendMessage(_ context.Context, p sfn.SendMessageParams) (string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return "", q.err
	}
	q.sent = append(q.sent, p)
	return fmt.Sprintf("msg-%d", len(q.sent)), nil
}

func (q *coverQueues) messages() []sfn.SendMessageParams {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]sfn.SendMessageParams(nil), q.sent...)
}

// coverNamedError is an error with a Step Functions error name, as the queue's
// and the Lambda adapter's errors have.
type coverNamedError struct{ name string }

func (e coverNamedError) Error() string     { return "named: " + e.name }
func (e coverNamedError) ErrorName() string { return e.name }

// coverInvoker is a sfn.FunctionInvoker answering every call with
// InvokeFunc.
type coverInvoker struct {
	InvokeFunc func(ctx context.Context, p sfn.InvokeParams) (sfn.InvokeResult, error)
}

func (f coverInvoker) Invoke(ctx context.Context, p sfn.InvokeParams) (sfn.InvokeResult, error) {
	return f.InvokeFunc(ctx, p)
}

const coverSQSTask = `{"StartAt":"Send","States":{"Send":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage","Parameters":%s,"End":true}}}`

// TestSQSSendMessageTask: the task's parameters become the message (a
// body that is not a string is sent as its JSON text, string attributes,
// the delay, the execution's trace header), and its result is the message
// id and the body's MD5, as SQS answers.
func TestSQSSendMessageTask(t *testing.T) {
	t.Parallel()
	q := &coverQueues{}
	b := coverSetup(t, engine.Config{Queues: q})
	params := `{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/work","MessageBody":{"id.$":"$.id","n":1},
	  "DelaySeconds":5,"MessageAttributes":{"kind":{"DataType":"String","StringValue":"ai"},"bin":{"DataType":"Binary","BinaryValue":"AA=="}}}`
	out, err := b.e.StartExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: b.machine("sqs", fmt.Sprintf(coverSQSTask, params)), Input: `{"id":"x1"}`, TraceHeader: "Root=1-abc"})
	require.NoError(t, err)
	d := b.finish(out.ExecutionARN)
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)

	sent := q.messages()
	require.Len(t, sent, 1)
	require.Equal(t, "https://sqs.us-east-1.amazonaws.com/123456789012/work", sent[0].QueueURL)
	require.JSONEq(t, `{"id":"x1","n":1}`, sent[0].Body)
	require.Equal(t, map[string]string{"kind": "ai"}, sent[0].Attributes, "only string values are passed on")
	require.Equal(t, 5, sent[0].DelaySeconds)
	require.Equal(t, "Root=1-abc", sent[0].TraceHeader)
	sum := md5.Sum([]byte(sent[0].Body))
	require.JSONEq(t, `{"MessageId":"msg-1","MD5OfMessageBody":"`+hex.EncodeToString(sum[:])+`"}`, d.Output)
}

// TestSQSSendMessageTaskFailures: missing parameters, no queues at all,
// and a queue's error each fail the task with the SQS error name.
func TestSQSSendMessageTaskFailures(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		queues    sfn.QueueSender
		params    string
		errorName string
		cause     string
	}{
		"no queue url":  {&coverQueues{}, `{"MessageBody":"x"}`, "SQS.InvalidParameterValueException", "need QueueUrl"},
		"no body":       {&coverQueues{}, `{"QueueUrl":"q"}`, "SQS.InvalidParameterValueException", "MessageBody"},
		"no queues":     {nil, `{"QueueUrl":"q","MessageBody":"x"}`, "SQS.QueueDoesNotExistException", "the local engine has no queues; no queue q"},
		"named error":   {&coverQueues{err: coverNamedError{"SQS.QueueDoesNotExistException"}}, `{"QueueUrl":"q","MessageBody":"x"}`, "SQS.QueueDoesNotExistException", "named: "},
		"unnamed error": {&coverQueues{err: errors.New("connection reset")}, `{"QueueUrl":"q","MessageBody":"x"}`, "SQS.AmazonSQSException", "connection reset"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := coverSetup(t, engine.Config{Queues: tc.queues})
			d := b.run(fmt.Sprintf(coverSQSTask, tc.params), `{}`)
			require.Equal(t, sfn.StatusFailed, d.Status)
			require.Equal(t, tc.errorName, d.Error, d.Cause)
			require.Contains(t, d.Cause, tc.cause)
		})
	}
}

const coverLambdaTask = `{"StartAt":"Call","States":{"Call":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":%s,"End":true}}}`

// TestLambdaInvokeTask: lambda:invoke passes the qualifier on with the
// name and answers with the Lambda Invoke response's shape; a payload
// that is not JSON comes back as a string.
func TestLambdaInvokeTask(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var calls []sfn.InvokeParams
	inv := coverInvoker{InvokeFunc: func(_ context.Context, p sfn.InvokeParams) (sfn.InvokeResult, error) {
		mu.Lock()
		calls = append(calls, p)
		mu.Unlock()
		if string(p.Payload) == `{"raw":true}` {
			return sfn.InvokeResult{Payload: []byte("plain text")}, nil
		}
		return sfn.InvokeResult{StatusCode: 202, ExecutedVersion: "7", Payload: p.Payload}, nil
	}}
	b := coverSetup(t, engine.Config{Functions: inv})
	d := b.run(fmt.Sprintf(coverLambdaTask, `{"FunctionName":"Echo","Qualifier":"live","Payload":{"a.$":"$.a"}}`), `{"a":1}`)
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
	var out map[string]any
	require.NoError(t, json.Unmarshal([]byte(d.Output), &out))
	require.Equal(t, "7", out["ExecutedVersion"])
	require.Equal(t, map[string]any{"a": 1.0}, out["Payload"])
	require.EqualValues(t, 202, out["StatusCode"])
	require.Equal(t, map[string]any{"HttpStatusCode": 202.0}, out["SdkHttpMetadata"])
	require.NotEmpty(t, out["SdkResponseMetadata"].(map[string]any)["RequestId"])

	d = b.run(fmt.Sprintf(coverLambdaTask, `{"FunctionName":"arn:aws:lambda:us-east-1:123456789012:function:Echo:v2","Qualifier":"live","Payload":{"raw":true}}`), `{}`)
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
	require.NoError(t, json.Unmarshal([]byte(d.Output), &out))
	require.Equal(t, "plain text", out["Payload"])
	require.Equal(t, "$LATEST", out["ExecutedVersion"], "an empty version is $LATEST")
	require.EqualValues(t, 200, out["StatusCode"], "no status is 200")

	d = b.run(fmt.Sprintf(coverLambdaTask, `{"FunctionName":"Echo"}`), `{}`)
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
	require.NoError(t, json.Unmarshal([]byte(d.Output), &out))
	require.Equal(t, map[string]any{}, out["Payload"], "no Payload sends an empty object")

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, calls, 3)
	require.Equal(t, "Echo:live", calls[0].FunctionName)
	require.Equal(t, "arn:aws:lambda:us-east-1:123456789012:function:Echo:v2", calls[1].FunctionName, "a name with its own qualifier keeps it")
	require.Equal(t, "Echo", calls[2].FunctionName)
}

// TestLambdaInvokeTaskFailures: each way a call fails names the task's
// error as Step Functions does.
func TestLambdaInvokeTaskFailures(t *testing.T) {
	t.Parallel()
	answer := func(res sfn.InvokeResult, err error) sfn.FunctionInvoker {
		return coverInvoker{InvokeFunc: func(context.Context, sfn.InvokeParams) (sfn.InvokeResult, error) { return res, err }}
	}
	for name, tc := range map[string]struct {
		functions sfn.FunctionInvoker
		params    string
		errorName string
		cause     string
	}{
		"no function name": {answer(sfn.InvokeResult{}, nil), `{"Payload":{}}`, "Lambda.InvalidParameterValueException", "need FunctionName"},
		"typed function error": {answer(sfn.InvokeResult{FunctionError: "Unhandled", Payload: []byte(`{"errorType":"Model.Refused","errorMessage":"no"}`)}, nil),
			`{"FunctionName":"F"}`, "Model.Refused", `"errorMessage":"no"`},
		"untyped function error": {answer(sfn.InvokeResult{FunctionError: "Unhandled", Payload: []byte(`oops`)}, nil), `{"FunctionName":"F"}`, "Lambda.Unknown", "oops"},
		"named call error":       {answer(sfn.InvokeResult{}, coverNamedError{"Lambda.TooManyRequestsException"}), `{"FunctionName":"F"}`, "Lambda.TooManyRequestsException", ""},
		"call error":             {answer(sfn.InvokeResult{}, errors.New("dial tcp: refused")), `{"FunctionName":"F"}`, "Lambda.ServiceException", "dial tcp: refused"},
		"unknown function":       {&engine.FunctionRegistry{}, `{"FunctionName":"Nobody"}`, "Lambda.ResourceNotFoundException", "function not found"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := coverSetup(t, engine.Config{Functions: tc.functions})
			d := b.run(fmt.Sprintf(coverLambdaTask, tc.params), `{}`)
			require.Equal(t, sfn.StatusFailed, d.Status)
			require.Equal(t, tc.errorName, d.Error, d.Cause)
			require.Contains(t, d.Cause, tc.cause)
		})
	}
}

// TestTaskWithoutFunctions: an engine without a FunctionInvoker fails a
// Lambda task with Lambda.ResourceNotFoundException.
func TestTaskWithoutFunctions(t *testing.T) {
	t.Parallel()
	e, err := engine.New(engine.Config{Store: engine.NewMemoryStore()})
	require.NoError(t, err)
	ctx := t.Context()
	require.NoError(t, e.Start(ctx))
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "nofn", Definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:F","End":true}}}`})
	require.NoError(t, err)
	st, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN})
	require.NoError(t, err)
	require.NoError(t, e.Wait(ctx, st.ExecutionARN))
	d, err := e.DescribeExecution(ctx, st.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, "Lambda.ResourceNotFoundException", d.Error)
	require.Contains(t, d.Cause, "the local engine has no function arn:aws:lambda:us-east-1:123456789012:function:F")
}

// TestTaskTimeoutFromPath: TimeoutSecondsPath bounds a call; a function
// slower than that fails the task with States.Timeout, and the function's
// context is cancelled.
func TestTaskTimeoutFromPath(t *testing.T) {
	t.Parallel()
	cancelled := make(chan struct{})
	inv := coverInvoker{InvokeFunc: func(ctx context.Context, _ sfn.InvokeParams) (sfn.InvokeResult, error) {
		<-ctx.Done()
		close(cancelled)
		return sfn.InvokeResult{}, ctx.Err()
	}}
	b := coverSetup(t, engine.Config{Functions: inv})
	d := b.run(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"Slow"},"TimeoutSecondsPath":"$.t","End":true}}}`, `{"t":1}`)
	require.Equal(t, sfn.StatusFailed, d.Status)
	require.Equal(t, "States.Timeout", d.Error, d.Cause)
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the function's context was not cancelled at the task's timeout")
	}
}

// TestWaitForTaskTokenCallbacks: a lambda:invoke.waitForTaskToken task
// waits for its token whatever the function returned; heartbeats keep it
// alive, success completes it, and the token's later callbacks answer as
// Step Functions does.
func TestWaitForTaskTokenCallbacks(t *testing.T) {
	t.Parallel()
	b := coverSetup(t, engine.Config{})
	tokens := make(chan string, 1)
	b.fns.Register("Hold", func(_ context.Context, p json.RawMessage) (json.RawMessage, error) {
		var in struct{ Token string }
		if err := json.Unmarshal(p, &in); err != nil {
			return nil, err
		}
		tokens <- in.Token
		return json.RawMessage(`{"ignored":true}`), nil
	})
	arn := b.start(b.machine("callbacks", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
	  "Parameters":{"FunctionName":"Hold","Payload":{"Token.$":"$$.Task.Token"}},"HeartbeatSeconds":60,"TimeoutSeconds":120,"End":true}}}`), `{}`)
	var token string
	select {
	case token = <-tokens:
	case <-time.After(5 * time.Second):
		t.Fatal("the function was not invoked")
	}

	ctx := b.ctx
	coverRequireCode(t, b.e.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: token, Output: `{"a":`}), sfn.CodeInvalidOutput)
	coverRequireCode(t, b.e.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: token, Output: `"` + string(make([]byte, sfn.MaxPayloadBytes)) + `"`}), sfn.CodeValidation)
	coverRequireCode(t, b.e.SendTaskFailure(ctx, sfn.SendTaskFailureInput{TaskToken: token, Error: string(make([]byte, 257))}), sfn.CodeValidation)
	coverRequireCode(t, b.e.SendTaskHeartbeat(ctx, ""), sfn.CodeValidation)
	coverRequireCode(t, b.e.SendTaskHeartbeat(ctx, "not-a-token"), sfn.CodeInvalidToken)
	require.NoError(t, b.e.SendTaskHeartbeat(ctx, token))
	require.NoError(t, b.e.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: token, Output: `{"done":1}`}))

	d := b.finish(arn)
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
	require.JSONEq(t, `{"done":1}`, d.Output)
	require.NoError(t, b.e.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: token, Output: `{"done":1}`}), "succeeding a succeeded task again changes nothing")
	coverRequireCode(t, b.e.SendTaskFailure(ctx, sfn.SendTaskFailureInput{TaskToken: token, Error: "Late"}), sfn.CodeTaskTimedOut)
	coverRequireCode(t, b.e.SendTaskHeartbeat(ctx, token), sfn.CodeTaskTimedOut)
}
