package engine

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/sfn"
)

// Task resource kinds the engine runs.
const (
	kindSQS          = "sqs"
	kindLambdaInvoke = "lambdaInvoke"
	kindFunction     = "function"
	kindActivity     = "activity"
)

// taskCall is a scheduled task, as recovery needs it to dispatch again.
type taskCall struct {
	Kind             string    `json:"kind"`
	Wait             bool      `json:"wait,omitempty"`
	Resource         string    `json:"resource"`
	Params           any       `json:"params"`
	TimeoutDue       time.Time `json:"timeoutDue,omitzero"`
	HeartbeatSeconds int64     `json:"heartbeat,omitempty"`

	// paramsJSON is Params as JSON, when known, so a snapshot of the
	// call need not encode it again.
	paramsJSON string
	// paramsOwn is whether paramsJSON is text(Params)'s own output, whose
	// members' texts are then their values' (memberText).
	paramsOwn bool
}

// MarshalJSON writes the call, reusing the parameters' encoding.
func (c *taskCall) MarshalJSON() ([]byte, error) {
	type plain taskCall
	if c.paramsJSON == "" {
		return json.Marshal((*plain)(c))
	}
	return json.Marshal(struct {
		*plain
		Params json.RawMessage `json:"params"`
	}{(*plain)(c), json.RawMessage(c.paramsJSON)})
}

// parseResource recognises the task resources the engine runs.
func parseResource(res string) (kind string, wait bool, resourceType, resource string, ok bool) {
	if rest, found := strings.CutPrefix(res, "arn:aws:states:::"); found {
		svc, action, _ := strings.Cut(rest, ":")
		base, pattern, _ := strings.Cut(action, ".")
		wait = pattern == "waitForTaskToken"
		if pattern != "" && !wait {
			return "", false, "", "", false
		}
		switch {
		case svc == "sqs" && base == "sendMessage":
			return kindSQS, wait, svc, action, true
		case svc == "lambda" && base == "invoke":
			return kindLambdaInvoke, wait, svc, action, true
		}
		return "", false, "", "", false
	}
	if strings.HasPrefix(res, "arn:aws:lambda:") && strings.Contains(res, ":function:") {
		return kindFunction, false, "lambda", res, true
	}
	if isActivityARN(res) {
		return kindActivity, true, "activity", res, true
	}
	return "", false, "", "", false
}

// newToken makes a task token that carries its execution's ARN (see
// sfn.NewTaskToken), so that a token finds its execution and cannot be
// guessed.
func (e *Engine) newToken(executionARN string) string {
	return sfn.NewTaskToken(executionARN, e.randomBytes(18))
}

func tokenExecution(token string) (string, bool) { return sfn.TaskTokenExecution(token) }

func (x *execution) runTask(t *thread, st *asl.State) (string, any) {
	kind, wait, rtype, rname, ok := parseResource(st.Resource)
	if !ok {
		return x.fail(t, st, failure{Error: asl.ErrorRuntime, Cause: fmt.Sprintf("The resource %q is not supported by the local engine; it runs arn:aws:states:::sqs:sendMessage[.waitForTaskToken], arn:aws:states:::lambda:invoke[.waitForTaskToken] and Lambda function ARNs.", st.Resource)})
	}
	// Only a task that waits for its token (a callback or an activity)
	// gets one: nothing else can read the token of a task that returns
	// its result (the Context Object holds none), and its thread's Gen
	// tells its attempts apart.
	token := ""
	if wait {
		token = x.e.newToken(x.rec.ARN)
	}
	env := x.env(t, x.contextObject(t, token, nil))
	eff, err := x.stateInput(t, st, env)
	if err != nil {
		return x.fail(t, st, failureOf(err))
	}
	params, own := x.textOfOwn(eff) // the state's input, encoded as it entered, when the parameters are that input
	if tooBig(params) {
		return x.fail(t, st, dataLimit("state input after Parameters", len(params)))
	}
	timeout, err := x.seconds(st.TimeoutSeconds, st.TimeoutSecondsPath, "TimeoutSecondsPath", t.Input, env)
	if err != nil {
		return x.fail(t, st, failure{Error: asl.ErrorRuntime, Cause: err.Error()})
	}
	heartbeat, err := x.seconds(st.HeartbeatSeconds, st.HeartbeatSecondsPath, "HeartbeatSecondsPath", t.Input, env)
	if err != nil {
		return x.fail(t, st, failure{Error: asl.ErrorRuntime, Cause: err.Error()})
	}
	if timeout, heartbeat, err = x.jsonataTimeouts(t, st, env, timeout, heartbeat); err != nil {
		return x.fail(t, st, failureOf(err))
	}
	if kind == kindActivity && !x.e.activities.has(st.Resource) {
		f := failure{Error: asl.ErrorRuntime, Cause: fmt.Sprintf("The activity %s does not exist.", st.Resource)}
		x.eventAt(t, "ActivityScheduleFailed").ActivityScheduleFailed = &sfn.FailureDetails{Error: f.Error, Cause: f.Cause}
		return x.fail(t, st, f)
	}
	now := x.now()
	call := &taskCall{Kind: kind, Wait: wait, Resource: st.Resource, Params: eff, HeartbeatSeconds: heartbeat, paramsJSON: params, paramsOwn: own}
	if timeout > 0 {
		call.TimeoutDue = now.Add(time.Duration(timeout) * time.Second)
	}
	t.Phase, t.Task, t.Token = phaseTask, call, token
	t.Gen++
	if token != "" {
		x.tokens.set(token, t.ID)
	}
	if kind == kindFunction {
		x.eventAt(t, "LambdaFunctionScheduled").LambdaFunctionScheduled = &sfn.LambdaScheduledDetails{Resource: st.Resource, Input: params, TimeoutInSeconds: timeout}
		x.eventAt(t, "LambdaFunctionStarted")
	} else if kind == kindActivity {
		// ActivityStarted comes when a worker takes the task.
		x.eventAt(t, "ActivityScheduled").ActivityScheduled = &sfn.ActivityScheduledDetails{Resource: st.Resource, Input: params, TimeoutInSeconds: timeout, HeartbeatSeconds: heartbeat}
	} else {
		x.eventAt(t, "TaskScheduled").TaskScheduled = &sfn.TaskScheduledDetails{ResourceType: rtype, Resource: rname, Region: x.e.region, Parameters: params, TimeoutInSeconds: timeout, HeartbeatSeconds: heartbeat}
		x.eventAt(t, "TaskStarted").TaskStarted = &sfn.TaskDetails{ResourceType: rtype, Resource: rname}
	}
	x.armTask(t)
	id, gen := t.ID, t.Gen
	dispatch := func() { x.e.dispatch(x, id, gen, token, call) }
	if kind == kindFunction || kind == kindLambdaInvoke {
		x.handOff(dispatch) // dispatch spawns its invocation
	} else {
		x.effect(dispatch)
	}
	return "", nil
}

// armTask arms the timeout and heartbeat timers of thread t's task.
func (x *execution) armTask(t *thread) {
	id, gen, call := t.ID, t.Gen, t.Task
	if !call.TimeoutDue.IsZero() {
		t.stops = append(t.stops, x.e.afterFunc(max(call.TimeoutDue.Sub(x.now()), 0), "a task's TimeoutSeconds timer", func() {
			x.taskTimerFired(id, gen, asl.ErrorTimeout)
		}))
	}
	x.armHeartbeat(t)
}

func (x *execution) armHeartbeat(t *thread) {
	if t.Task.HeartbeatSeconds <= 0 || !t.Task.Wait {
		return
	}
	if t.hbStop != nil {
		t.hbStop()
	}
	id, gen := t.ID, t.Gen
	t.hbStop = x.e.afterFunc(time.Duration(t.Task.HeartbeatSeconds)*time.Second, "a task's HeartbeatSeconds timer", func() {
		x.taskTimerFired(id, gen, asl.ErrorHeartbeatTimeout)
	})
}

// seconds resolves TimeoutSeconds or HeartbeatSeconds and their paths.
func (x *execution) seconds(n *int, path, field string, input any, env asl.Env) (int64, error) {
	if n != nil {
		return int64(*n), nil
	}
	if path == "" {
		return 0, nil
	}
	v, err := lookupPath(path, input, env)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", field, err)
	}
	s, ok := asInt(v)
	if !ok || s <= 0 {
		return 0, fmt.Errorf("%s %s selects %s, not a positive integer", field, path, text(v))
	}
	return s, nil
}

// named is an error with a Step Functions error name, such as the queue's
// SQS.QueueDoesNotExistException or the Lambda adapter's
// Lambda.ResourceNotFoundException.
type named interface{ ErrorName() string }

func errorName(err error, fallback string) string {
	var n named
	if errors.As(err, &n) {
		return n.ErrorName()
	}
	return fallback
}

// dispatch runs a scheduled task's call, after its scheduling is written.
// A Lambda invocation runs in a goroutine of the engine's, which Close
// cancels; once the engine closes none starts, and the task is dispatched
// again when its execution resumes.
func (e *Engine) dispatch(x *execution, id int, gen int64, token string, call *taskCall) {
	switch call.Kind {
	case kindSQS:
		e.sendMessage(x, id, gen, token, call)
	case kindActivity:
		e.offerActivity(x, token, call)
	default:
		e.work.add(1)
		if !e.spawn(activity{what: "invoking", resource: call.Resource, execution: x.rec.ARN}, func() { defer e.work.done(1); e.invoke(x, id, gen, token, call) }) {
			e.work.done(1)
		}
	}
}

func (e *Engine) sendMessage(x *execution, id int, gen int64, token string, call *taskCall) {
	paramsText := ""
	if call.paramsOwn {
		paramsText = call.paramsJSON
	}
	p, f := sendMessageParams(call.Params, paramsText, x.traceHeader())
	if f == nil && e.queues == nil {
		f = &failure{Error: "SQS.QueueDoesNotExistException", Cause: fmt.Sprintf("the local engine has no queues; no queue %s", p.QueueURL)}
	}
	if f != nil {
		x.taskResult(id, gen, token, nil, f, false)
		return
	}
	msgID, digest, err := e.sendWithDigest(p)
	if err != nil && e.drainCtx.Err() != nil {
		return // the engine closed; the task is sent again when its execution resumes
	}
	if err != nil {
		x.taskResult(id, gen, token, nil, &failure{Error: errorName(err, "SQS.AmazonSQSException"), Cause: err.Error()}, false)
		return
	}
	if call.Wait {
		x.submitted(id, gen, token, sendMessageResultText(msgID, digest))
		return
	}
	x.taskResult(id, gen, token, sendMessageResult(msgID, digest), nil, false)
}

// digestSender is a queue that returns the hex MD5 of a message's body,
// which it computes anyway, with the message's id: the in-process broker
// (queue.Broker.SendMessageDigest).
type digestSender interface {
	SendMessageDigest(ctx context.Context, p sfn.SendMessageParams) (messageID, md5OfBody string, err error)
}

// sendWithDigest sends p and returns the message's id and its body's hex
// MD5, the queue's when it gives it.
func (e *Engine) sendWithDigest(p sfn.SendMessageParams) (msgID, digest string, err error) {
	if ds, ok := e.queues.(digestSender); ok {
		return ds.SendMessageDigest(e.drainCtx, p)
	}
	msgID, err = e.queues.SendMessage(e.drainCtx, p)
	return msgID, md5Hex(p.Body), err
}

// md5Hex is the hex MD5 of s.
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// sendMessageParams reads the parameters of an sqs:sendMessage task;
// paramsText is text(params) when known, "" otherwise, and the message's
// body is cut from it rather than encoded again.
func sendMessageParams(params any, paramsText, traceHeader string) (sfn.SendMessageParams, *failure) {
	obj, ok := asl.AsObject(params)
	if !ok {
		obj = asl.NewObject(0)
	}
	urlV, _ := obj.Get("QueueUrl")
	url, _ := urlV.(string)
	body, hasBody := obj.Get("MessageBody")
	if url == "" || !hasBody {
		return sfn.SendMessageParams{}, &failure{Error: "SQS.InvalidParameterValueException", Cause: "the parameters of sqs:sendMessage need QueueUrl (a string) and MessageBody"}
	}
	text, ok := memberText(paramsText, "MessageBody")
	if !ok {
		text = bodyText(body)
	}
	p := sfn.SendMessageParams{QueueURL: url, Body: text, TraceHeader: traceHeader}
	attrsV, _ := obj.Get("MessageAttributes")
	if attrs, ok := asl.AsObject(attrsV); ok {
		p.Attributes = map[string]string{}
		for k, v := range attrs.All() {
			if a, ok := asl.AsObject(v); ok {
				sv, _ := a.Get("StringValue")
				if s, ok := sv.(string); ok {
					p.Attributes[k] = s
				}
			}
		}
	}
	delay, _ := obj.Get("DelaySeconds")
	if d, ok := asInt(delay); ok {
		p.DelaySeconds = int(d)
	}
	return p, nil
}

// sendMessageResult is the result of an sqs:sendMessage task whose
// message is msgID and body's hex MD5 digest.
func sendMessageResult(msgID, digest string) map[string]any {
	return map[string]any{"MessageId": msgID, "MD5OfMessageBody": digest}
}

// sendMessageResultText is the text of the result of an sqs:sendMessage
// task whose message is msgID and body's hex MD5 digest, written without
// the map: a waitForTaskToken task's TaskSubmitted keeps only the text.
func sendMessageResultText(msgID, digest string) string {
	b := make([]byte, 0, len(`{"MD5OfMessageBody":"","MessageId":""}`)+len(digest)+len(msgID)+8)
	b = append(b, `{"MD5OfMessageBody":`...)
	b, _ = asl.AppendJSON(b, digest) // strings: no error
	b = append(b, `,"MessageId":`...)
	b, _ = asl.AppendJSON(b, msgID)
	return string(append(b, '}'))
}

func bodyText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return text(v)
}

func (x *execution) traceHeader() string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.rec.TraceHeader
}

// submitted records that a waitForTaskToken task sent its message: its
// TaskSubmitted event, with the SendMessage result, made as soon as the
// send succeeds, in Step Functions' order (TaskScheduled, TaskStarted,
// TaskSubmitted, then the callback's TaskSucceeded). It is written with
// the execution's next transition, the callback's when the worker answers
// within Config.SubmittedWait, or alone once that has passed (see
// deferwrite.go).
func (x *execution) submitted(id int, gen int64, token string, out string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	t := x.live(id, gen, phaseTask)
	if t == nil || t.Token != token {
		return
	}
	if call := t.Task; call.paramsJSON != "" {
		// Sent: nothing reads the parameters' tree again (a snapshot
		// writes their text, recovery decodes it), so the thread waits
		// for its callback, an hour perhaps, without it, and the
		// collector does not scan it at every cycle; nor does the
		// execution's memo of the last value it encoded keep it.
		if sameValue(x.text.v, call.Params) {
			x.text = textMemo{}
		}
		call.Params = nil
	}
	if _, done := x.messageIDs.get(token); done {
		return // the callback came first (see ensureSubmitted)
	}
	x.messageIDs.set(token, out)
	x.submitLate(lateSubmit{t: t, at: x.now(), resource: t.Task.Resource, out: out})
}

// ensureSubmitted writes the TaskSubmitted event of thread t's
// waitForTaskToken message when its callback arrives before the engine
// heard that the send succeeded (a worker that fast), so that the history
// keeps Step Functions' order; the SendMessage result is not known yet
// and is left out.
func (x *execution) ensureSubmitted(t *thread) {
	call := t.Task
	if call == nil || call.Kind != kindSQS || !call.Wait {
		return
	}
	if _, done := x.messageIDs.get(t.Token); done {
		return
	}
	x.messageIDs.set(t.Token, "")
	_, _, rtype, rname, _ := parseResource(call.Resource)
	x.eventAt(t, "TaskSubmitted").TaskSubmitted = &sfn.TaskOutputDetails{ResourceType: rtype, Resource: rname}
}

func (e *Engine) invoke(x *execution, id int, gen int64, token string, call *taskCall) {
	ctx := e.runCtx
	if !call.TimeoutDue.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, call.TimeoutDue)
		defer cancel()
	}
	out, outJSON, f := e.callFunction(ctx, call)
	if ctx.Err() != nil {
		return // the task's timeout, or Close, ends it, whatever the call returned
	}
	if f == nil && call.Wait {
		return // the callback completes it
	}
	x.taskResultJSON(id, gen, token, out, outJSON, f, false)
}

// callFunction invokes the function of a Lambda task (a function ARN, or
// lambda:invoke with its parameters) and returns its result as the state
// sees it, or the task's failure. outJSON is the result's encoding when
// the function's payload is that (see asl.DecodeJSONText), or empty.
func (e *Engine) callFunction(ctx context.Context, call *taskCall) (out any, outJSON string, f *failure) {
	name, payload := call.Resource, call.Params
	if call.Kind == kindLambdaInvoke {
		params, ok := asl.AsObject(call.Params)
		if !ok {
			params = asl.NewObject(0)
		}
		nameV, _ := params.Get("FunctionName")
		name, _ = nameV.(string)
		payload, _ = params.Get("Payload")
		if name == "" {
			return nil, "", &failure{Error: "Lambda.InvalidParameterValueException", Cause: "the parameters of lambda:invoke need FunctionName (a string)"}
		}
		qV, _ := params.Get("Qualifier")
		if q, ok := qV.(string); ok && q != "" && !strings.Contains(engineFunctionQualifier(name), ":") {
			name += ":" + q
		}
	}
	if payload == nil {
		payload = map[string]any{}
	}
	if e.functions == nil {
		return nil, "", &failure{Error: "Lambda.ResourceNotFoundException", Cause: fmt.Sprintf("the local engine has no function %s", name)}
	}
	body := call.paramsJSON // a function ARN's payload is the parameters, encoded when scheduled
	if call.Kind == kindLambdaInvoke || body == "" || call.Params == nil {
		body = text(payload)
	}
	res, err := e.functions.Invoke(ctx, sfn.InvokeParams{FunctionName: name, Payload: []byte(body)})
	if err != nil {
		fallback := "Lambda.ServiceException"
		if errors.Is(err, ErrFunctionNotFound) {
			fallback = "Lambda.ResourceNotFoundException"
		}
		return nil, "", &failure{Error: errorName(err, fallback), Cause: err.Error()}
	}
	if res.FunctionError != "" {
		var body struct {
			ErrorType string `json:"errorType"`
		}
		_ = json.Unmarshal(res.Payload, &body)
		name := body.ErrorType
		if name == "" {
			name = "Lambda.Unknown"
		}
		return nil, "", &failure{Error: name, Cause: string(res.Payload)}
	}
	answer := string(res.Payload)
	out, same, err := asl.DecodeJSONText(answer)
	switch {
	case err != nil:
		out = answer
	case same && call.Kind != kindLambdaInvoke:
		outJSON = answer
	}
	if call.Kind == kindLambdaInvoke {
		out = map[string]any{
			"ExecutedVersion":     orDefault(res.ExecutedVersion, "$LATEST"),
			"Payload":             out,
			"SdkHttpMetadata":     map[string]any{"HttpStatusCode": jsonInt(orInt(res.StatusCode, 200))},
			"SdkResponseMetadata": map[string]any{"RequestId": e.uuid()},
			"StatusCode":          jsonInt(orInt(res.StatusCode, 200)),
		}
	}
	return out, outJSON, nil
}

func engineFunctionQualifier(name string) string {
	if i := strings.Index(name, "function:"); i >= 0 {
		return name[i+len("function:"):]
	}
	return name
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func orInt(n, d int) int {
	if n == 0 {
		return d
	}
	return n
}

// taskResult ends thread id's task of generation gen, if it still waits
// for it (token "" matches any token: timers).
func (x *execution) taskResult(id int, gen int64, token string, output any, f *failure, timedOut bool) {
	x.taskResultJSON(id, gen, token, output, "", f, timedOut)
}

// taskResultJSON is taskResult of an output whose encoding is outputJSON,
// when not empty, so that the output is not encoded again.
func (x *execution) taskResultJSON(id int, gen int64, token string, output any, outputJSON string, f *failure, timedOut bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	t := x.live(id, gen, phaseTask)
	if t == nil || token != "" && t.Token != token {
		return
	}
	if outputJSON != "" {
		x.knownText(output, outputJSON)
	}
	x.completeTask(t, output, f, timedOut)
	x.flush(nil)
}

// completeTask records the outcome of thread t's task and drives the
// thread on.
func (x *execution) completeTask(t *thread, output any, f *failure, timedOut bool) {
	st := t.states[t.State]
	call := t.Task
	_, _, rtype, rname, _ := parseResource(call.Resource)
	if t.hbStop != nil {
		t.hbStop()
		t.hbStop = nil
	}
	t.stopAll()
	t.Phase, t.Task = "", nil
	var next string
	var out any
	if f == nil {
		s := x.textOf(output)
		if call.Kind == kindFunction {
			x.eventAt(t, "LambdaFunctionSucceeded").LambdaFunctionSucceeded = &sfn.OutputDetails{Output: s}
		} else if call.Kind == kindActivity {
			x.eventAt(t, "ActivitySucceeded").ActivitySucceeded = &sfn.OutputDetails{Output: s}
		} else {
			x.eventAt(t, "TaskSucceeded").TaskSucceeded = &sfn.TaskOutputDetails{ResourceType: rtype, Resource: rname, Output: s}
		}
		x.closeTask(t, true)
		if tooBig(s) {
			next, out = x.fail(t, st, dataLimit("task result", len(s)))
		} else {
			next, out = x.complete(t, st, output, x.env(t, x.contextObject(t, "", nil)))
		}
	} else {
		switch {
		case call.Kind == kindFunction && timedOut:
			x.eventAt(t, "LambdaFunctionTimedOut").LambdaFunctionTimedOut = &sfn.FailureDetails{Error: f.Error, Cause: f.Cause}
		case call.Kind == kindFunction:
			x.eventAt(t, "LambdaFunctionFailed").LambdaFunctionFailed = &sfn.FailureDetails{Error: f.Error, Cause: f.Cause}
		case call.Kind == kindActivity && timedOut:
			x.eventAt(t, "ActivityTimedOut").ActivityTimedOut = &sfn.FailureDetails{Error: f.Error, Cause: f.Cause}
		case call.Kind == kindActivity:
			x.eventAt(t, "ActivityFailed").ActivityFailed = &sfn.FailureDetails{Error: f.Error, Cause: f.Cause}
		case timedOut:
			x.eventAt(t, "TaskTimedOut").TaskTimedOut = &sfn.TaskFailureDetails{ResourceType: rtype, Resource: rname, Error: f.Error, Cause: f.Cause}
		default:
			x.eventAt(t, "TaskFailed").TaskFailed = &sfn.TaskFailureDetails{ResourceType: rtype, Resource: rname, Error: f.Error, Cause: f.Cause}
		}
		x.closeTask(t, false)
		next, out = x.fail(t, st, *f)
	}
	x.drive(t, next, out)
}
