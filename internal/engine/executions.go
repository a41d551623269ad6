package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/sfn"
)

// maxTokenLength is Step Functions' limit on a task token.
const maxTokenLength = 1024

// StartExecution starts an execution of a state machine and returns once
// its start is written. Starting again with the same name and input while
// the execution runs returns the same execution; a different input, or a
// name whose execution has closed, is ExecutionAlreadyExists.
func (e *Engine) StartExecution(ctx context.Context, in sfn.StartExecutionInput) (sfn.StartExecutionOutput, error) {
	x, err := e.start(ctx, in)
	if err != nil {
		return sfn.StartExecutionOutput{}, err
	}
	return sfn.StartExecutionOutput{ExecutionARN: x.rec.ARN, StartDate: x.rec.StartDate}, nil
}

// StartSyncExecution runs an execution of an EXPRESS state machine to its
// end and describes it; a STANDARD one is StateMachineTypeNotSupported,
// as in Step Functions.
func (e *Engine) StartSyncExecution(ctx context.Context, in sfn.StartExecutionInput) (sfn.Execution, error) {
	m, _, _, err := e.startTarget(in.StateMachineARN)
	if err != nil {
		return sfn.Execution{}, err
	}
	if m.rec.Type != sfn.TypeExpress {
		return sfn.Execution{}, errorf(sfn.CodeStateMachineTypeNotSupport, "StartSyncExecution runs EXPRESS state machines only; %s is %s", m.rec.ARN, m.rec.Type)
	}
	x, err := e.start(ctx, in)
	if err != nil {
		return sfn.Execution{}, err
	}
	if err := x.wait(ctx); err != nil {
		return sfn.Execution{}, err
	}
	return e.DescribeExecution(ctx, x.rec.ARN)
}

// wait returns when the execution's end is written, or ctx is done, or
// the engine closes (ServiceUnavailable: the execution resumes on the
// next Start).
func (x *execution) wait(ctx context.Context) error {
	select {
	case <-x.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-x.e.closing:
		select {
		case <-x.done:
			return nil
		default:
		}
		return errorf(sfn.CodeServiceUnavailable, "the engine closed before execution %s ended", x.rec.ARN)
	}
}

// Wait returns once the execution has closed and its end is written, or
// when ctx is done; ExecutionDoesNotExist when there is no such execution,
// ServiceUnavailable when the engine closes first.
func (e *Engine) Wait(ctx context.Context, executionARN string) error {
	if err := checkExecutionARN(executionARN); err != nil {
		return err
	}
	e.mu.Lock()
	x := e.execs[executionARN]
	e.mu.Unlock()
	if x != nil {
		return x.wait(ctx)
	}
	rec, err := e.record(ctx, executionARN)
	if err != nil {
		return err
	}
	if rec.Status == sfn.StatusRunning {
		return errorf(sfn.CodeServiceUnavailable, "execution %s runs in another engine", executionARN)
	}
	return nil
}

func (e *Engine) start(ctx context.Context, in sfn.StartExecutionInput) (*execution, error) {
	e.work.add(1) // see workCount: timers armed before the transition is queued
	defer e.work.done(1)
	if err := e.checkOpen(); err != nil {
		return nil, err
	}
	m, versionARN, aliasARN, err := e.startTarget(in.StateMachineARN)
	if err != nil {
		return nil, err
	}
	name, made := in.Name, false
	if name == "" {
		name, made = e.executionName(e.now()), true
	}
	if err := checkName("execution", name); err != nil {
		return nil, err
	}
	input := in.Input
	if input == "" {
		input = "{}"
	}
	if len(input) > sfn.MaxPayloadBytes {
		return nil, errorf(sfn.CodeInvalidExecutionInput, "the execution input has %d bytes; the limit is %d", len(input), sfn.MaxPayloadBytes)
	}
	if !utf8.ValidString(input) {
		return nil, errorf(sfn.CodeInvalidExecutionInput, "the execution input is not valid UTF-8")
	}
	value, inputIsText, err := asl.DecodeJSONText(input)
	if err != nil {
		return nil, errorf(sfn.CodeInvalidExecutionInput, "the execution input is not valid JSON: %v", err)
	}
	arn := e.executionARN(m.rec.Name, name)
	same := func(rec ExecutionRecord) bool { return rec.Input == input }
	e.mu.Lock()
	if x := e.execs[arn]; x != nil {
		e.mu.Unlock()
		x.mu.Lock()
		rec := x.rec
		x.mu.Unlock()
		if rec.Status == sfn.StatusRunning && same(rec) {
			return x, nil
		}
		return nil, errorf(sfn.CodeExecutionAlreadyExists, "execution %s exists already", arn)
	}
	e.mu.Unlock()
	// A closed execution of this name is not in memory. The store would
	// refuse a second one's first commit (see Engine.write), but until then
	// the new execution would stand in memory under the closed one's ARN,
	// where a late callback for the closed one would find it: look first,
	// unless the name is one the engine made from its millisecond and
	// crypto/rand's 74 random bits, which no execution had (the store still
	// refuses a second).
	if !made || !e.uniqueNames {
		if rec, ok, err := e.store.Execution(ctx, arn); err != nil {
			return nil, e.storeError("StartExecution", err)
		} else if ok {
			return nil, errorf(sfn.CodeExecutionAlreadyExists, "execution %s exists already (%s)", arn, rec.Status)
		}
	}
	now := e.now()
	x := e.newExecution(ExecutionRecord{ARN: arn, StateMachineARN: m.rec.ARN, Name: name, Status: sfn.StatusRunning, StartDate: now,
		Input: input, TraceHeader: in.TraceHeader, VersionARN: versionARN, AliasARN: aliasARN})
	x.smName, x.roleARN, x.definition, x.sm, x.input = m.rec.Name, m.rec.RoleARN, m.rec.Definition, m.sm, value
	e.mu.Lock()
	if other := e.execs[arn]; other != nil {
		e.mu.Unlock()
		return nil, errorf(sfn.CodeExecutionAlreadyExists, "execution %s exists already", arn)
	}
	if e.closed {
		e.mu.Unlock()
		return nil, errorf(sfn.CodeServiceUnavailable, "the engine is closed")
	}
	e.execs[arn] = x
	e.mu.Unlock()

	x.mu.Lock()
	x.batch().Start = startOf(m.rec)
	x.eventAt(nil, "ExecutionStarted").ExecutionStarted = &sfn.ExecutionStartedDetails{Input: input, RoleARN: m.rec.RoleARN, StateMachineARN: m.rec.ARN,
		StateMachineVersionARN: versionARN, StateMachineAliasARN: aliasARN}
	x.armTTL()
	root, err := x.newThread(nil, 0, nil)
	if err != nil {
		x.mu.Unlock()
		return nil, err
	}
	root.LastEvent = x.lastEventID
	if inputIsText {
		x.knownText(value, input) // the first state's input, not encoded again
	}
	x.drive(root, x.sm.StartAt, value)
	done := make(chan error, 1)
	x.flush(done)
	x.mu.Unlock()
	if err := e.awaitWrite(ctx, done); err != nil {
		e.forgetUnwritten(ctx, x, err)
		return nil, err
	}
	return x, nil
}

// armTTL arms the state machine's TimeoutSeconds.
func (x *execution) armTTL() {
	if x.sm.TimeoutSeconds == nil || *x.sm.TimeoutSeconds <= 0 {
		return
	}
	// A redrive starts the state machine's timeout again.
	from := x.rec.StartDate
	if x.rec.RedriveDate.After(from) {
		from = x.rec.RedriveDate
	}
	due := from.Add(time.Duration(*x.sm.TimeoutSeconds) * time.Second)
	x.stopTTL = x.e.afterFunc(max(due.Sub(x.now()), 0), "an execution's TimeoutSeconds timer", func() {
		x.mu.Lock()
		defer x.mu.Unlock()
		if x.closed || x.dead {
			return
		}
		x.finish(sfn.StatusTimedOut, nil, failure{Error: asl.ErrorTimeout, Cause: fmt.Sprintf("The execution timed out after %d seconds (the state machine's TimeoutSeconds).", *x.sm.TimeoutSeconds)})
		x.flush(nil)
	})
}

func (x *execution) stopTimers() {
	for _, t := range x.threads {
		t.stopAll()
		if t.hbStop != nil {
			t.hbStop()
		}
	}
	if x.stopTTL != nil {
		x.stopTTL()
	}
}

func describe(r ExecutionRecord) sfn.Execution {
	return sfn.Execution{ExecutionARN: r.ARN, StateMachineARN: r.StateMachineARN, Name: r.Name, Status: r.Status,
		StartDate: r.StartDate, StopDate: r.StopDate, Input: r.Input, Output: r.Output, Error: r.Error, Cause: r.Cause,
		TraceHeader: r.TraceHeader, RedriveCount: r.RedriveCount, RedriveDate: r.RedriveDate,
		StateMachineVersionARN: r.VersionARN, StateMachineAliasARN: r.AliasARN}
}

// record returns an execution's latest summary: from memory while it
// runs here, else from the store.
func (e *Engine) record(ctx context.Context, arn string) (ExecutionRecord, error) {
	if err := checkExecutionARN(arn); err != nil {
		return ExecutionRecord{}, err
	}
	e.mu.Lock()
	x := e.execs[arn]
	e.mu.Unlock()
	if x != nil {
		if w := x.written.Load(); w != nil {
			return *w, nil
		}
	} else if rec, ok := e.closedRecs.get(arn); ok {
		return rec, nil
	}
	rec, ok, err := e.store.Execution(ctx, arn)
	if err != nil {
		return ExecutionRecord{}, e.storeError("DescribeExecution", err)
	}
	if !ok {
		return ExecutionRecord{}, errorf(sfn.CodeExecutionDoesNotExist, "execution %s does not exist", arn)
	}
	return rec, nil
}

// DescribeExecution describes an execution; ExecutionDoesNotExist when
// there is none.
func (e *Engine) DescribeExecution(ctx context.Context, arn string) (sfn.Execution, error) {
	rec, err := e.record(ctx, arn)
	if err != nil {
		return sfn.Execution{}, err
	}
	d := describe(rec)
	e.describeRedrive(&d, rec)
	return d, nil
}

// ListExecutions lists a state machine's executions, newest first.
func (e *Engine) ListExecutions(ctx context.Context, in sfn.ListExecutionsInput) (sfn.ListExecutionsOutput, error) {
	target, err := e.listTarget(in.StateMachineARN)
	if err != nil {
		return sfn.ListExecutionsOutput{}, err
	}
	limit, err := pageSize(in.MaxResults)
	if err != nil {
		return sfn.ListExecutionsOutput{}, err
	}
	switch in.StatusFilter {
	case "", sfn.StatusRunning, sfn.StatusSucceeded, sfn.StatusFailed, sfn.StatusTimedOut, sfn.StatusAborted, sfn.StatusPendingRedrive:
	default:
		return sfn.ListExecutionsOutput{}, errorf(sfn.CodeValidation, "statusFilter %q is not RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED or PENDING_REDRIVE", in.StatusFilter)
	}
	switch in.RedriveFilter {
	case "", sfn.RedriveFilterRedriven, sfn.RedriveFilterNotRedriven:
	default:
		return sfn.ListExecutionsOutput{}, errorf(sfn.CodeValidation, "redriveFilter %q is not REDRIVEN or NOT_REDRIVEN", in.RedriveFilter)
	}
	recs, next, err := e.store.Executions(ctx, ExecutionFilter{StateMachineARN: target.machineARN, Status: in.StatusFilter, Redrive: in.RedriveFilter,
		VersionARN: target.versionARN, AliasARN: target.aliasARN, After: in.NextToken, Limit: limit})
	if err != nil {
		return sfn.ListExecutionsOutput{}, e.storeError("ListExecutions", err)
	}
	out := sfn.ListExecutionsOutput{NextToken: next}
	for _, r := range recs {
		d := describe(r)
		d.Input, d.Output = "", ""
		out.Executions = append(out.Executions, d)
	}
	return out, nil
}

// StopExecution aborts a running execution with an optional error and
// cause; stopping a closed one changes nothing and returns when it closed.
func (e *Engine) StopExecution(ctx context.Context, in sfn.StopExecutionInput) (time.Time, error) {
	e.work.add(1) // see workCount: timers armed before the transition is queued
	defer e.work.done(1)
	if err := e.checkOpen(); err != nil {
		return time.Time{}, err
	}
	if err := checkExecutionARN(in.ExecutionARN); err != nil {
		return time.Time{}, err
	}
	if len(in.Error) > 256 || len(in.Cause) > 32768 {
		return time.Time{}, errorf(sfn.CodeValidation, "error is limited to 256 and cause to 32768 characters")
	}
	e.mu.Lock()
	x := e.execs[in.ExecutionARN]
	e.mu.Unlock()
	if x == nil {
		rec, err := e.record(ctx, in.ExecutionARN)
		if err != nil {
			return time.Time{}, err
		}
		return rec.StopDate, nil
	}
	x.mu.Lock()
	if x.closed {
		stop := x.rec.StopDate
		x.mu.Unlock()
		return stop, nil
	}
	x.finish(sfn.StatusAborted, nil, failure{Error: in.Error, Cause: in.Cause})
	stop := x.rec.StopDate
	done := make(chan error, 1)
	x.flush(done)
	x.mu.Unlock()
	if err := e.awaitWrite(ctx, done); err != nil {
		return time.Time{}, err
	}
	return stop, nil
}

// GetExecutionHistory returns a page of an execution's history, oldest
// first or, with ReverseOrder, newest first.
func (e *Engine) GetExecutionHistory(ctx context.Context, in sfn.GetExecutionHistoryInput) (sfn.GetExecutionHistoryOutput, error) {
	if _, err := e.record(ctx, in.ExecutionARN); err != nil {
		return sfn.GetExecutionHistoryOutput{}, err
	}
	limit, err := pageSize(in.MaxResults)
	if err != nil {
		return sfn.GetExecutionHistoryOutput{}, err
	}
	events, err := e.history(ctx, in.ExecutionARN)
	if err != nil {
		return sfn.GetExecutionHistoryOutput{}, err
	}
	if in.ReverseOrder {
		slices.Reverse(events)
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 || n > len(events) {
			return sfn.GetExecutionHistoryOutput{}, errorf(sfn.CodeValidation, "invalid nextToken %q", in.NextToken)
		}
		start = n
	}
	end := min(start+limit, len(events))
	out := sfn.GetExecutionHistoryOutput{Events: events[start:end]}
	if end < len(events) {
		out.NextToken = strconv.Itoa(end)
	}
	if in.ExcludeExecutionData {
		for i := range out.Events {
			stripData(&out.Events[i])
		}
	}
	return out, nil
}

// history expands an execution's stored batches into its events.
func (e *Engine) history(ctx context.Context, arn string) ([]sfn.HistoryEvent, error) {
	batches, err := e.store.Batches(ctx, arn)
	if err != nil {
		return nil, e.storeError("GetExecutionHistory", err)
	}
	var events []sfn.HistoryEvent
	for i, raw := range batches {
		var b struct {
			Events []sfn.HistoryEvent `json:"events"`
		}
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, e.storeError("GetExecutionHistory", fmt.Errorf("decoding batch %d of %s: %w", i+1, arn, err))
		}
		events = append(events, b.Events...)
	}
	return events, nil
}

func stripData(ev *sfn.HistoryEvent) {
	if d := ev.ExecutionStarted; d != nil {
		c := *d
		c.Input = ""
		ev.ExecutionStarted = &c
	}
	if d := ev.ExecutionSucceeded; d != nil {
		ev.ExecutionSucceeded = &sfn.OutputDetails{}
	}
	if d := ev.StateEntered; d != nil {
		ev.StateEntered = &sfn.StateEnteredDetails{Name: d.Name}
	}
	if d := ev.StateExited; d != nil {
		ev.StateExited = &sfn.StateExitedDetails{Name: d.Name}
	}
	if d := ev.TaskSucceeded; d != nil {
		ev.TaskSucceeded = &sfn.TaskOutputDetails{ResourceType: d.ResourceType, Resource: d.Resource}
	}
	if d := ev.TaskSubmitted; d != nil {
		ev.TaskSubmitted = &sfn.TaskOutputDetails{ResourceType: d.ResourceType, Resource: d.Resource}
	}
	if d := ev.TaskScheduled; d != nil {
		c := *d
		c.Parameters = ""
		ev.TaskScheduled = &c
	}
	if d := ev.LambdaFunctionScheduled; d != nil {
		c := *d
		c.Input = ""
		ev.LambdaFunctionScheduled = &c
	}
	if d := ev.LambdaFunctionSucceeded; d != nil {
		ev.LambdaFunctionSucceeded = &sfn.OutputDetails{}
	}
}

// callback finds the execution of a task token and runs f on it with the
// thread that waits for the token (nil when none does).
func (e *Engine) callback(ctx context.Context, token string, success bool, f func(x *execution, t *thread)) error {
	e.work.add(1) // see workCount: timers armed before the transition is queued
	defer e.work.done(1)
	if err := e.checkOpen(); err != nil {
		return err
	}
	if token == "" || len(token) > maxTokenLength {
		return errorf(sfn.CodeValidation, "taskToken must be 1 to %d characters long", maxTokenLength)
	}
	arn, ok := tokenExecution(token)
	if !ok {
		return errorf(sfn.CodeInvalidToken, "invalid task token")
	}
	e.mu.Lock()
	x := e.execs[arn]
	e.mu.Unlock()
	if x == nil {
		return e.closedToken(ctx, arn, token, success)
	}
	x.mu.Lock()
	if id, ok := x.tokens.get(token); ok && !x.closed {
		t := x.threads[id]
		f(x, t)
		done := make(chan error, 1)
		x.flush(done)
		x.mu.Unlock()
		return e.awaitWrite(ctx, done)
	}
	succeeded, _ := x.succeeded.get(token)
	spent, _ := x.spent.get(token)
	x.mu.Unlock()
	switch {
	case succeeded && success:
		return nil
	case succeeded || spent:
		return errorf(sfn.CodeTaskTimedOut, "the task of this token has closed")
	}
	// A token the execution never issued, even one that names it: the
	// API reference's InvalidToken ("The provided token is not valid"),
	// where TaskTimedOut is for a token whose task has closed.
	return errorf(sfn.CodeInvalidToken, "invalid task token")
}

// closedToken answers a callback for an execution that does not run here.
func (e *Engine) closedToken(ctx context.Context, arn, token string, success bool) error {
	if err := checkExecutionARN(arn); err != nil {
		return errorf(sfn.CodeInvalidToken, "invalid task token")
	}
	rec, ok, err := e.store.Execution(ctx, arn)
	if err != nil {
		return e.storeError("SendTask", err)
	}
	if !ok {
		return errorf(sfn.CodeInvalidToken, "invalid task token")
	}
	if rec.Status == sfn.StatusRunning {
		return errorf(sfn.CodeServiceUnavailable, "the execution is not loaded yet; try again")
	}
	batches, err := e.store.Batches(ctx, arn)
	if err != nil {
		return e.storeError("SendTask", err)
	}
	quoted := []byte(strconv.Quote(token))
	for _, raw := range batches {
		if !bytes.Contains(raw, quoted) {
			continue
		}
		var b batch
		if json.Unmarshal(raw, &b) != nil {
			continue
		}
		if slices.Contains(b.Succeeded, token) {
			if success {
				return nil
			}
			return errorf(sfn.CodeTaskTimedOut, "the task of this token has closed")
		}
		if slices.Contains(b.Spent, token) {
			return errorf(sfn.CodeTaskTimedOut, "the task of this token has closed")
		}
	}
	// Every token the execution issued is closed in its history: this one
	// was never issued (forged, or of another store).
	return errorf(sfn.CodeInvalidToken, "invalid task token")
}

// SendTaskSuccess completes the task of a token with output, a JSON text.
// A token of a closed task is TaskTimedOut, except that succeeding again
// a task that succeeded changes nothing; a token the engine never issued
// is InvalidToken, even one that names an execution that exists.
func (e *Engine) SendTaskSuccess(ctx context.Context, in sfn.SendTaskSuccessInput) error {
	if len(in.Output) > sfn.MaxPayloadBytes {
		return errorf(sfn.CodeValidation, "output has %d bytes; the limit is %d", len(in.Output), sfn.MaxPayloadBytes)
	}
	out, outIsText, err := asl.DecodeJSONText(in.Output)
	if err != nil {
		return errorf(sfn.CodeInvalidOutput, "output is not valid JSON: %v", err)
	}
	return e.callback(ctx, in.TaskToken, true, func(x *execution, t *thread) {
		x.ensureSubmitted(t)
		if outIsText {
			x.knownText(out, in.Output) // the task's output, not encoded again
		}
		x.completeTask(t, out, nil, false)
	})
}

// SendTaskFailure fails the task of a token with an error name and cause.
func (e *Engine) SendTaskFailure(ctx context.Context, in sfn.SendTaskFailureInput) error {
	if len(in.Error) > 256 || len(in.Cause) > 32768 {
		return errorf(sfn.CodeValidation, "error is limited to 256 and cause to 32768 characters")
	}
	return e.callback(ctx, in.TaskToken, false, func(x *execution, t *thread) {
		x.ensureSubmitted(t)
		x.completeTask(t, nil, &failure{Error: in.Error, Cause: in.Cause}, false)
	})
}

// SendTaskHeartbeat resets the HeartbeatSeconds timer of a token's task.
func (e *Engine) SendTaskHeartbeat(ctx context.Context, token string) error {
	return e.callback(ctx, token, false, func(x *execution, t *thread) {
		x.armHeartbeat(t)
	})
}
