package enginetest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/tools/txtar"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/sfn"
)

// Harness is what one case runs against. RunConformance asks for a new
// Harness for every case and every Go check, so a Harness may share its
// Service with others (state machine names are unique per case) but must
// give each case its own Functions and Queues: case files reuse function
// names and queue URLs.
type Harness struct {
	// Service is the API under test.
	Service sfn.Service
	// Functions is where the runner registers the case's Lambda
	// functions; the engine behind Service must invoke them from here.
	Functions *engine.FunctionRegistry
	// Queues is where the runner creates the case's queues and subscribes
	// its workers; the engine behind Service must send sqs:sendMessage
	// tasks here.
	Queues *queue.Broker
}

// Timeout bounds, in real time, how long RunConformance waits for one
// execution to close. It is generous: the cases wait a few seconds at
// most, but a loaded machine running the suite over HTTP is slow.
var Timeout = 60 * time.Second

// pollInterval is how often the runner asks whether an execution closed.
const pollInterval = 20 * time.Millisecond

// RunConformance runs the conformance suite of the Step Functions API:
// every case of dir (*.txtar, one per feature, with expected results from
// the AWS Step Functions documentation) and every check written in Go (for
// what a case file cannot say: idempotent starts, API errors, history
// pages), each in a parallel subtest against its own Harness from
// newHarness. Parallel subtests run after the calling test function
// returns, so what the harnesses share must be released with t.Cleanup,
// not defer.
func RunConformance(t *testing.T, dir string, newHarness func(t *testing.T) Harness) {
	t.Helper()
	cases, err := LoadCases(dir)
	require.NoError(t, err)
	require.NotEmpty(t, cases, "no conformance cases in %s", dir)
	t.Run("cases", func(t *testing.T) {
		t.Parallel()
		for _, c := range cases {
			t.Run(c.Name, func(t *testing.T) {
				t.Parallel()
				runCase(t, newHarness(t), c)
			})
		}
	})
	t.Run("checks", func(t *testing.T) {
		t.Parallel()
		for _, ck := range checks {
			t.Run(ck.name, func(t *testing.T) {
				t.Parallel()
				ck.run(t, newHarness(t))
			})
		}
	})
}

// Case is one conformance case, read from a txtar archive.
type Case struct {
	// Name is the file name without its extension.
	Name string
	// Comment says what the case checks and where the expected result
	// comes from.
	Comment string
	// Definition is the state machine, Input the execution's input.
	Definition string
	Input      string
	// Functions are the in-process Lambda functions by name, each with
	// its replies in order (the last one repeats).
	Functions map[string][]FunctionReply
	// Queues are the queues by URL, each with its worker's replies to
	// waitForTaskToken messages in order (the last one repeats).
	Queues map[string][]QueueReply
	Want   Want
}

// FunctionReply is one reply of a case's Lambda function.
type FunctionReply struct {
	// Return is the function's result; the string "$input", anywhere in
	// it, stands for the payload the function received.
	Return json.RawMessage `json:"return,omitempty"`
	// ReturnStringOfLength, when positive, makes the result a JSON string
	// of that many "x" characters (to exceed payload limits).
	ReturnStringOfLength int `json:"returnStringOfLength,omitempty"`
	// Error, when set, fails the invocation with that error type and
	// Cause as the message.
	Error string `json:"error,omitempty"`
	Cause string `json:"cause,omitempty"`
	// SleepSeconds delays the reply (to exceed TimeoutSeconds); the
	// function returns early when its context ends.
	SleepSeconds float64 `json:"sleepSeconds,omitempty"`
	// ExpectInput, when set, fails the invocation with the error type
	// Conformance.UnexpectedInput unless the payload equals it.
	ExpectInput json.RawMessage `json:"expectInput,omitempty"`
	// ExpectInputText, when set, is the payload's exact text (member
	// order, number spelling, escapes): the invocation fails with
	// Conformance.UnexpectedInput unless the payload is byte for byte it.
	ExpectInputText string `json:"expectInputText,omitempty"`
}

// QueueReply is what a case's worker does with one waitForTaskToken
// message.
type QueueReply struct {
	// TokenField names the field of the message body that holds the task
	// token; empty means "taskToken".
	TokenField string `json:"tokenField,omitempty"`
	// DelaySeconds waits before doing anything else.
	DelaySeconds float64 `json:"delaySeconds,omitempty"`
	// Success sends SendTaskSuccess with this output; the string "$body",
	// anywhere in it, stands for the message body (parsed JSON).
	Success json.RawMessage `json:"success,omitempty"`
	// Failure sends SendTaskFailure.
	Failure *TaskFailure `json:"failure,omitempty"`
	// Heartbeats sends that many SendTaskHeartbeat, one every
	// EverySeconds, then does Then.
	Heartbeats   int         `json:"heartbeats,omitempty"`
	EverySeconds float64     `json:"everySeconds,omitempty"`
	Then         *QueueReply `json:"then,omitempty"`
	// Ignore consumes the message and never answers.
	Ignore bool `json:"ignore,omitempty"`
}

// TaskFailure is the error and cause of SendTaskFailure.
type TaskFailure struct {
	Error string `json:"error"`
	Cause string `json:"cause,omitempty"`
}

// Want is what a case expects.
type Want struct {
	// Status is the execution's final status.
	Status sfn.ExecutionStatus `json:"status,omitempty"`
	// Output is the execution's output when it SUCCEEDED; the strings
	// "$executionArn", "$executionName", "$stateMachineArn" and
	// "$stateMachineName" in it stand for the names the runner chose.
	Output json.RawMessage `json:"output,omitempty"`
	// OutputText, when set, is the output's exact text: member order,
	// number spelling and escapes as Step Functions writes them.
	OutputText string `json:"outputText,omitempty"`
	// Error and Cause are those of a FAILED or TIMED_OUT execution; a nil
	// Cause is not compared, CauseContains is a substring of the cause.
	Error         string  `json:"error,omitempty"`
	Cause         *string `json:"cause,omitempty"`
	CauseContains string  `json:"causeContains,omitempty"`
	// Events, when set, is the exact sequence of history event types.
	Events []string `json:"events,omitempty"`
	// Validation "FAIL" means CreateStateMachine must refuse the
	// definition, with ErrorCode (default InvalidDefinition).
	Validation string `json:"validation,omitempty"`
	ErrorCode  string `json:"errorCode,omitempty"`
}

// ValidationFail is the Want.Validation of definitions that must be
// refused.
const ValidationFail = "FAIL"

// LoadCases reads every *.txtar file of dir, in name order.
func LoadCases(dir string) ([]Case, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		return nil, fmt.Errorf("listing cases in %s: %w", dir, err)
	}
	slices.Sort(paths)
	cases := make([]Case, 0, len(paths))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading case: %w", err)
		}
		c, err := ParseCase(strings.TrimSuffix(filepath.Base(p), ".txtar"), data)
		if err != nil {
			return nil, fmt.Errorf("parsing case %s: %w", p, err)
		}
		cases = append(cases, c)
	}
	return cases, nil
}

var caseFiles = []string{"definition.asl.json", "input.json", "functions.json", "queues.json", "want.json"}

// ParseCase reads one case from its txtar text. Every file must be valid
// JSON of the expected shape, with no unknown fields.
func ParseCase(name string, data []byte) (Case, error) {
	a := txtar.Parse(data)
	c := Case{Name: name, Comment: strings.TrimSpace(string(a.Comment))}
	if c.Comment == "" {
		return c, errors.New("the case has no comment saying what it checks")
	}
	files := map[string][]byte{}
	for _, f := range a.Files {
		if !slices.Contains(caseFiles, f.Name) {
			return c, fmt.Errorf("unknown file %q; a case has %s", f.Name, strings.Join(caseFiles, ", "))
		}
		if _, dup := files[f.Name]; dup {
			return c, fmt.Errorf("file %q appears twice", f.Name)
		}
		if !json.Valid(f.Data) {
			return c, fmt.Errorf("%s: %w", f.Name, jsonSyntaxError(f.Data))
		}
		files[f.Name] = f.Data
	}
	def, ok := files["definition.asl.json"]
	if !ok {
		return c, errors.New("definition.asl.json is missing")
	}
	c.Definition = string(def)
	wantData, ok := files["want.json"]
	if !ok {
		return c, errors.New("want.json is missing")
	}
	if err := decodeStrict(wantData, &c.Want); err != nil {
		return c, fmt.Errorf("want.json: %w", err)
	}
	if err := c.Want.check(); err != nil {
		return c, fmt.Errorf("want.json: %w", err)
	}
	if in, ok := files["input.json"]; ok {
		c.Input = strings.TrimSpace(string(in))
	} else if c.Want.Validation != ValidationFail {
		return c, errors.New("input.json is missing")
	}
	if fn, ok := files["functions.json"]; ok {
		if err := decodeStrict(fn, &c.Functions); err != nil {
			return c, fmt.Errorf("functions.json: %w", err)
		}
		for name, replies := range c.Functions {
			if len(replies) == 0 {
				return c, fmt.Errorf("functions.json: function %q has no replies", name)
			}
		}
	}
	if qs, ok := files["queues.json"]; ok {
		if err := decodeStrict(qs, &c.Queues); err != nil {
			return c, fmt.Errorf("queues.json: %w", err)
		}
		for url, replies := range c.Queues {
			if len(replies) == 0 {
				return c, fmt.Errorf("queues.json: queue %q has no replies", url)
			}
			for i, r := range replies {
				if err := r.check(); err != nil {
					return c, fmt.Errorf("queues.json: queue %q reply %d: %w", url, i, err)
				}
			}
		}
	}
	return c, nil
}

func (w Want) check() error {
	if w.Validation != "" {
		if w.Validation != ValidationFail {
			return fmt.Errorf("validation must be %q, not %q", ValidationFail, w.Validation)
		}
		if w.Status != "" || w.Output != nil || w.Error != "" || w.Events != nil {
			return errors.New("a case whose validation fails expects no execution")
		}
		return nil
	}
	if w.ErrorCode != "" {
		return errors.New("errorCode is only for cases whose validation fails")
	}
	switch w.Status {
	case sfn.StatusSucceeded:
		if w.Output == nil {
			return errors.New("a SUCCEEDED case needs an output")
		}
		if w.Error != "" || w.Cause != nil || w.CauseContains != "" {
			return errors.New("a SUCCEEDED case has no error or cause")
		}
	case sfn.StatusFailed, sfn.StatusTimedOut, sfn.StatusAborted:
		if w.Error == "" {
			return fmt.Errorf("a %s case needs an error", w.Status)
		}
		if w.Output != nil {
			return fmt.Errorf("a %s case has no output", w.Status)
		}
	default:
		return fmt.Errorf("status must be SUCCEEDED, FAILED, TIMED_OUT or ABORTED, not %q", w.Status)
	}
	return nil
}

func (r QueueReply) check() error {
	n := 0
	for _, set := range []bool{r.Success != nil, r.Failure != nil, r.Heartbeats > 0, r.Ignore} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("a reply does exactly one of success, failure, heartbeats or ignore")
	}
	if r.Heartbeats > 0 {
		if r.EverySeconds <= 0 {
			return errors.New("heartbeats need everySeconds")
		}
		if r.Then == nil {
			return errors.New("heartbeats need then")
		}
		return r.Then.check()
	}
	return nil
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

func jsonSyntaxError(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	return errors.New("invalid JSON")
}

// runCase runs one case against h.
func runCase(t *testing.T, h Harness, c Case) {
	ctx := t.Context()
	if c.Want.Validation == ValidationFail {
		_, err := h.Service.CreateStateMachine(ctx, sfn.CreateStateMachineInput{
			Name: uniqueName(c.Name), Definition: c.Definition, RoleARN: roleARN,
		})
		code := c.Want.ErrorCode
		if code == "" {
			code = sfn.CodeInvalidDefinition
		}
		requireAPIError(t, err, code)
		return
	}
	b := setup(t, h)
	for name, replies := range c.Functions {
		b.registerFunction(name, replies)
	}
	for url, replies := range c.Queues {
		b.subscribeWorker(url, replies)
	}
	smARN, smName := b.createStateMachine(c.Name, c.Definition, "")
	out, err := h.Service.StartExecution(ctx, sfn.StartExecutionInput{
		StateMachineARN: smARN, Name: "conformance", Input: c.Input,
	})
	require.NoError(t, err)
	x := b.waitClosed(out.ExecutionARN)
	b.requireNoWorkerErrors()

	w := c.Want
	require.Equal(t, w.Status, x.Status, "status of the execution (error %q, cause %q, output %s)", x.Error, x.Cause, x.Output)
	if w.Output != nil {
		want := strings.NewReplacer(
			`"$executionArn"`, jsonString(out.ExecutionARN),
			`"$executionName"`, jsonString("conformance"),
			`"$stateMachineArn"`, jsonString(smARN),
			`"$stateMachineName"`, jsonString(smName),
		).Replace(string(w.Output))
		require.JSONEq(t, want, x.Output, "output of the execution")
	}
	if w.OutputText != "" {
		require.Equal(t, w.OutputText, x.Output, "text of the output of the execution")
	}
	if w.Error != "" {
		require.Equal(t, w.Error, x.Error, "error of the execution (cause %q)", x.Cause)
	}
	if w.Cause != nil {
		require.Equal(t, *w.Cause, x.Cause, "cause of the execution")
	}
	if w.CauseContains != "" {
		require.Contains(t, x.Cause, w.CauseContains, "cause of the execution")
	}
	if w.Events != nil {
		var types []string
		for _, e := range b.history(out.ExecutionARN, false, 0) {
			types = append(types, e.Type)
		}
		require.Equal(t, w.Events, types, "history event types")
	}
}

// roleARN is the role the suite's state machines name; the local engine
// does not check it.
const roleARN = "arn:aws:iam::123456789012:role/conformance"

// uniqueName makes a state machine name from a case name: the characters
// Step Functions allows in names, and a random suffix, so that cases may
// share a Service and a Store with earlier runs.
func uniqueName(base string) string {
	base = regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(base, "-")
	if len(base) > 60 {
		base = base[:60]
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	return base + "-" + hex.EncodeToString(suffix)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// requireAPIError requires err to be an *sfn.Error with the code.
func requireAPIError(t *testing.T, err error, code string) {
	t.Helper()
	require.Error(t, err, "want an error %s", code)
	var ae *sfn.Error
	require.ErrorAs(t, err, &ae, "want an *sfn.Error %s, got %T %v", code, err, err)
	require.Equal(t, code, ae.Code, "error code (message %q)", ae.Message)
}

// check is a conformance check written in Go, for what a case file cannot
// say.
type check struct {
	name string
	run  func(t *testing.T, h Harness)
}

// Definitions the checks share.
const (
	// waitLong stays RUNNING until it is stopped.
	waitLong = `{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","Seconds":3600,"End":true}}}`
	// threePasses has a history of 8 events.
	threePasses = `{"StartAt":"One","States":{
		"One":{"Type":"Pass","Next":"Two"},
		"Two":{"Type":"Pass","Next":"Three"},
		"Three":{"Type":"Pass","End":true}}}`
	// waitIfAsked waits for an hour when its input says so.
	waitIfAsked = `{"StartAt":"Ask","States":{
		"Ask":{"Type":"Choice","Choices":[{"Variable":"$.wait","BooleanEquals":true,"Next":"Wait"}],"Default":"Done"},
		"Wait":{"Type":"Wait","Seconds":3600,"Next":"Done"},
		"Done":{"Type":"Succeed"}}}`
	callbackQueue = "https://sqs.us-east-1.amazonaws.com/123456789012/conformance-callback"
)

// callback is a waitForTaskToken task on callbackQueue with the given
// TimeoutSeconds.
func callback(timeoutSeconds int) string {
	return fmt.Sprintf(`{"StartAt":"Callback","States":{"Callback":{
		"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
		"Parameters":{"QueueUrl":%q,"MessageBody":{"taskToken.$":"$$.Task.Token"}},
		"TimeoutSeconds":%d,"End":true}}}`, callbackQueue, timeoutSeconds)
}

// tokens subscribes to callbackQueue and returns the task tokens of its
// messages as they come.
func (b *bundle) tokens() <-chan string {
	ch := make(chan string, 16)
	b.subscribe(callbackQueue, func(body string) {
		var msg struct {
			TaskToken string `json:"taskToken"`
		}
		if err := json.Unmarshal([]byte(body), &msg); err != nil || msg.TaskToken == "" {
			b.workerError("callback message without a task token: %s", body)
			return
		}
		select {
		case ch <- msg.TaskToken:
		default:
			b.workerError("too many callback messages")
		}
	})
	return ch
}

func (b *bundle) receiveToken(ch <-chan string) string {
	b.t.Helper()
	select {
	case tok := <-ch:
		return tok
	case <-time.After(Timeout):
		require.FailNow(b.t, "no task token", "no message reached %s in %v", callbackQueue, Timeout)
		return ""
	}
}

var checks = []check{
	{"StartExecutionIsIdempotentWhileRunning", func(t *testing.T, h Harness) {
		// StartExecution API reference: with the same name and input as a
		// running execution the call succeeds with the same response; a
		// different input, or a closed execution, gives
		// ExecutionAlreadyExists.
		b := setup(t, h)
		sm, _ := b.createStateMachine("idempotent", waitLong, "")
		first, err := h.Service.StartExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: sm, Name: "once", Input: `{"a":1}`})
		require.NoError(t, err)
		again, err := h.Service.StartExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: sm, Name: "once", Input: `{"a":1}`})
		require.NoError(t, err, "the same name and input while running")
		require.Equal(t, first.ExecutionARN, again.ExecutionARN)
		_, err = h.Service.StartExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: sm, Name: "once", Input: `{"a":2}`})
		requireAPIError(t, err, sfn.CodeExecutionAlreadyExists)
		_, err = h.Service.StopExecution(b.ctx, sfn.StopExecutionInput{ExecutionARN: first.ExecutionARN})
		require.NoError(t, err)
		require.Equal(t, sfn.StatusAborted, b.waitClosed(first.ExecutionARN).Status)
		_, err = h.Service.StartExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: sm, Name: "once", Input: `{"a":1}`})
		requireAPIError(t, err, sfn.CodeExecutionAlreadyExists)
	}},
	{"DescribeExecutionOfUnknownARN", func(t *testing.T, h Harness) {
		b := setup(t, h)
		sm, _ := b.createStateMachine("unknown", threePasses, "")
		arn := strings.Replace(sm, ":stateMachine:", ":execution:", 1) + ":never-started"
		_, err := h.Service.DescribeExecution(b.ctx, arn)
		requireAPIError(t, err, sfn.CodeExecutionDoesNotExist)
		_, err = h.Service.GetExecutionHistory(b.ctx, sfn.GetExecutionHistoryInput{ExecutionARN: arn})
		requireAPIError(t, err, sfn.CodeExecutionDoesNotExist)
	}},
	{"MalformedARNs", func(t *testing.T, h Harness) {
		b := setup(t, h)
		_, err := h.Service.DescribeExecution(b.ctx, "not-an-arn")
		requireAPIError(t, err, sfn.CodeInvalidArn)
		_, err = h.Service.DescribeStateMachine(b.ctx, "not-an-arn")
		requireAPIError(t, err, sfn.CodeInvalidArn)
		_, err = h.Service.StartExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: "not-an-arn"})
		requireAPIError(t, err, sfn.CodeInvalidArn)
	}},
	{"TaskCallbacksWithUnknownToken", func(t *testing.T, h Harness) {
		b := setup(t, h)
		err := h.Service.SendTaskSuccess(b.ctx, sfn.SendTaskSuccessInput{TaskToken: "not-a-token", Output: `{}`})
		requireAPIError(t, err, sfn.CodeInvalidToken)
		err = h.Service.SendTaskFailure(b.ctx, sfn.SendTaskFailureInput{TaskToken: "not-a-token", Error: "E"})
		requireAPIError(t, err, sfn.CodeInvalidToken)
		err = h.Service.SendTaskHeartbeat(b.ctx, "not-a-token")
		requireAPIError(t, err, sfn.CodeInvalidToken)
	}},
	{"SendTaskSuccessTwice", func(t *testing.T, h Harness) {
		// A worker fed by an at-least-once queue may report twice: the
		// second report is accepted and changes nothing.
		b := setup(t, h)
		ch := b.tokens()
		sm, _ := b.createStateMachine("twice", callback(60), "")
		arn := b.start(sm, "twice", `{}`)
		tok := b.receiveToken(ch)
		require.NoError(t, h.Service.SendTaskSuccess(b.ctx, sfn.SendTaskSuccessInput{TaskToken: tok, Output: `{"n":1}`}))
		require.NoError(t, h.Service.SendTaskSuccess(b.ctx, sfn.SendTaskSuccessInput{TaskToken: tok, Output: `{"n":1}`}))
		x := b.waitClosed(arn)
		require.Equal(t, sfn.StatusSucceeded, x.Status)
		require.JSONEq(t, `{"n":1}`, x.Output)
		b.requireNoWorkerErrors()
	}},
	{"SendTaskSuccessAfterTimeout", func(t *testing.T, h Harness) {
		// SendTaskSuccess API reference: TaskTimedOut when the task token
		// has expired or its task has already closed.
		b := setup(t, h)
		ch := b.tokens()
		sm, _ := b.createStateMachine("late", callback(1), "")
		arn := b.start(sm, "late", `{}`)
		tok := b.receiveToken(ch)
		x := b.waitClosed(arn)
		require.Equal(t, sfn.StatusFailed, x.Status)
		require.Equal(t, "States.Timeout", x.Error)
		err := h.Service.SendTaskSuccess(b.ctx, sfn.SendTaskSuccessInput{TaskToken: tok, Output: `{}`})
		requireAPIError(t, err, sfn.CodeTaskTimedOut)
		b.requireNoWorkerErrors()
	}},
	{"StopExecution", func(t *testing.T, h Harness) {
		b := setup(t, h)
		sm, _ := b.createStateMachine("stop", waitLong, "")
		arn := b.start(sm, "stopped", `{}`)
		b.waitFor("the Wait state", func() bool { return slices.Contains(b.eventTypes(arn), "WaitStateEntered") })
		stopped, err := h.Service.StopExecution(b.ctx, sfn.StopExecutionInput{ExecutionARN: arn, Error: "Conformance.Stop", Cause: "stopped by the suite"})
		require.NoError(t, err)
		require.False(t, stopped.IsZero(), "StopExecution's stop date")
		x := b.waitClosed(arn)
		require.Equal(t, sfn.StatusAborted, x.Status)
		require.Equal(t, "Conformance.Stop", x.Error)
		require.Equal(t, "stopped by the suite", x.Cause)
		require.False(t, x.StopDate.IsZero(), "the stop date of an aborted execution")
		types := b.eventTypes(arn)
		require.Equal(t, "ExecutionAborted", types[len(types)-1])
	}},
	{"HistoryPagesAndReverseOrder", func(t *testing.T, h Harness) {
		b := setup(t, h)
		sm, _ := b.createStateMachine("history", threePasses, "")
		arn := b.start(sm, "history", `{"n":1}`)
		require.Equal(t, sfn.StatusSucceeded, b.waitClosed(arn).Status)
		all := b.history(arn, false, 0)
		types := make([]string, len(all))
		ids := make([]int64, len(all))
		for i, e := range all {
			types[i], ids[i] = e.Type, e.ID
		}
		require.Equal(t, []string{"ExecutionStarted",
			"PassStateEntered", "PassStateExited", "PassStateEntered", "PassStateExited",
			"PassStateEntered", "PassStateExited", "ExecutionSucceeded"}, types)
		require.Equal(t, []int64{1, 2, 3, 4, 5, 6, 7, 8}, ids, "event ids count from 1")
		require.NotNil(t, all[0].ExecutionStarted)
		require.JSONEq(t, `{"n":1}`, all[0].ExecutionStarted.Input)
		require.NotNil(t, all[1].StateEntered)
		require.Equal(t, "One", all[1].StateEntered.Name)
		require.NotNil(t, all[7].ExecutionSucceeded)
		require.JSONEq(t, `{"n":1}`, all[7].ExecutionSucceeded.Output)

		paged := b.history(arn, false, 3)
		require.Equal(t, ids, eventIDs(paged), "the same history in pages of 3")
		reversed := b.history(arn, true, 2)
		want := slices.Clone(ids)
		slices.Reverse(want)
		require.Equal(t, want, eventIDs(reversed), "the history in reverse order, in pages of 2")
	}},
	{"ListExecutionsStatusFilter", func(t *testing.T, h Harness) {
		b := setup(t, h)
		sm, _ := b.createStateMachine("list", waitIfAsked, "")
		done := b.start(sm, "done", `{"wait":false}`)
		running := b.start(sm, "running", `{"wait":true}`)
		require.Equal(t, sfn.StatusSucceeded, b.waitClosed(done).Status)
		names := func(status sfn.ExecutionStatus, pageSize int) []string {
			var out []string
			token := ""
			for {
				page, err := h.Service.ListExecutions(b.ctx, sfn.ListExecutionsInput{
					StateMachineARN: sm, StatusFilter: status, MaxResults: pageSize, NextToken: token,
				})
				require.NoError(t, err)
				for _, x := range page.Executions {
					out = append(out, x.Name)
				}
				if page.NextToken == "" {
					return out
				}
				token = page.NextToken
			}
		}
		require.Equal(t, []string{"running"}, names(sfn.StatusRunning, 0))
		require.Equal(t, []string{"done"}, names(sfn.StatusSucceeded, 0))
		require.Empty(t, names(sfn.StatusFailed, 0))
		require.ElementsMatch(t, []string{"running", "done"}, names("", 1), "every execution, one per page")
		_, err := h.Service.StopExecution(b.ctx, sfn.StopExecutionInput{ExecutionARN: running})
		require.NoError(t, err)
		b.waitClosed(running)
		require.ElementsMatch(t, []string{"running"}, names(sfn.StatusAborted, 0))
	}},
	{"StartSyncExecutionOnExpress", func(t *testing.T, h Harness) {
		// StartSyncExecution API reference: only EXPRESS state machines;
		// a STANDARD one gives StateMachineTypeNotSupported.
		b := setup(t, h)
		def := `{"StartAt":"Greet","States":{"Greet":{"Type":"Pass",
			"Parameters":{"greeting.$":"States.Format('Hello, {}!', $.name)"},"End":true}}}`
		express, _ := b.createStateMachine("express", def, sfn.TypeExpress)
		x, err := h.Service.StartSyncExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: express, Input: `{"name":"Express"}`})
		require.NoError(t, err)
		require.Equal(t, sfn.StatusSucceeded, x.Status)
		require.JSONEq(t, `{"greeting":"Hello, Express!"}`, x.Output)
		standard, _ := b.createStateMachine("standard", def, "")
		_, err = h.Service.StartSyncExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: standard, Input: `{"name":"Standard"}`})
		requireAPIError(t, err, sfn.CodeStateMachineTypeNotSupport)
	}},
	{"WaitSecondsWaits", func(t *testing.T, h Harness) {
		b := setup(t, h)
		sm, _ := b.createStateMachine("wait", `{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","Seconds":1,"End":true}}}`, "")
		arn := b.start(sm, "wait", `{}`)
		require.Equal(t, sfn.StatusSucceeded, b.waitClosed(arn).Status)
		var entered, exited time.Time
		for _, e := range b.history(arn, false, 0) {
			switch e.Type {
			case "WaitStateEntered":
				entered = e.Timestamp
			case "WaitStateExited":
				exited = e.Timestamp
			}
		}
		require.False(t, entered.IsZero() || exited.IsZero(), "the history has WaitStateEntered and WaitStateExited")
		// Timestamps are kept to the millisecond.
		require.GreaterOrEqual(t, exited.Sub(entered), time.Second-time.Millisecond, "time spent in a Wait of 1 second")
	}},
	{"CreateStateMachineTwice", func(t *testing.T, h Harness) {
		// CreateStateMachine API reference: creating a state machine
		// again with the same name, definition and role is idempotent;
		// another definition gives StateMachineAlreadyExists.
		b := setup(t, h)
		name := uniqueName("twice")
		first, err := h.Service.CreateStateMachine(b.ctx, sfn.CreateStateMachineInput{Name: name, Definition: threePasses, RoleARN: roleARN})
		require.NoError(t, err)
		again, err := h.Service.CreateStateMachine(b.ctx, sfn.CreateStateMachineInput{Name: name, Definition: threePasses, RoleARN: roleARN})
		require.NoError(t, err)
		require.Equal(t, first.StateMachineARN, again.StateMachineARN)
		_, err = h.Service.CreateStateMachine(b.ctx, sfn.CreateStateMachineInput{Name: name, Definition: waitLong, RoleARN: roleARN})
		requireAPIError(t, err, sfn.CodeStateMachineAlreadyExists)
	}},
	{"StartExecutionWithInvalidInput", func(t *testing.T, h Harness) {
		// StartExecution API reference: InvalidExecutionInput when the
		// input is not valid JSON.
		b := setup(t, h)
		sm, _ := b.createStateMachine("badinput", threePasses, "")
		_, err := h.Service.StartExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: sm, Input: `{"unterminated":`})
		requireAPIError(t, err, sfn.CodeInvalidExecutionInput)
	}},
	{"ValidateStateMachineDefinition", func(t *testing.T, h Harness) {
		// ValidateStateMachineDefinition API reference: OK, or FAIL with
		// diagnostics naming a code and a location.
		b := setup(t, h)
		out, err := h.Service.ValidateStateMachineDefinition(b.ctx, threePasses)
		require.NoError(t, err)
		require.Equal(t, "OK", out.Result)
		require.Empty(t, out.Diagnostics)
		out, err = h.Service.ValidateStateMachineDefinition(b.ctx, `{"StartAt":"First","States":{"First":{"Type":"Pass","Next":"Nowhere"}}}`)
		require.NoError(t, err)
		require.Equal(t, "FAIL", out.Result)
		require.NotEmpty(t, out.Diagnostics)
		for _, d := range out.Diagnostics {
			require.Equal(t, "ERROR", d.Severity)
			require.NotEmpty(t, d.Code)
			require.NotEmpty(t, d.Message)
		}
		out, err = h.Service.ValidateStateMachineDefinition(b.ctx, `{"StartAt":`)
		require.NoError(t, err)
		require.Equal(t, "FAIL", out.Result)
		require.NotEmpty(t, out.Diagnostics)
	}},
	{"StateMachineLifecycle", func(t *testing.T, h Harness) {
		// CreateStateMachine, DescribeStateMachine, UpdateStateMachine,
		// ListStateMachines and DeleteStateMachine API references; a
		// deleted state machine is DELETING until it is gone.
		b := setup(t, h)
		arn, name := b.createStateMachine("lifecycle", threePasses, "")
		sm, err := h.Service.DescribeStateMachine(b.ctx, arn)
		require.NoError(t, err)
		require.Equal(t, arn, sm.StateMachineARN)
		require.Equal(t, name, sm.Name)
		require.Equal(t, "ACTIVE", sm.Status)
		require.Equal(t, sfn.TypeStandard, sm.Type)
		require.Equal(t, roleARN, sm.RoleARN)
		require.JSONEq(t, threePasses, sm.Definition)

		def := waitLong
		upd, err := h.Service.UpdateStateMachine(b.ctx, sfn.UpdateStateMachineInput{StateMachineARN: arn, Definition: &def})
		require.NoError(t, err)
		require.False(t, upd.UpdateDate.IsZero())
		sm, err = h.Service.DescribeStateMachine(b.ctx, arn)
		require.NoError(t, err)
		require.JSONEq(t, waitLong, sm.Definition)
		bad := `{"StartAt":"Nowhere","States":{}}`
		_, err = h.Service.UpdateStateMachine(b.ctx, sfn.UpdateStateMachineInput{StateMachineARN: arn, Definition: &bad})
		requireAPIError(t, err, sfn.CodeInvalidDefinition)

		listed := false
		token := ""
		for !listed {
			page, err := h.Service.ListStateMachines(b.ctx, sfn.ListStateMachinesInput{MaxResults: 1000, NextToken: token})
			require.NoError(t, err)
			for _, m := range page.StateMachines {
				listed = listed || m.StateMachineARN == arn
			}
			if page.NextToken == "" {
				break
			}
			token = page.NextToken
		}
		require.True(t, listed, "ListStateMachines lists %s", arn)

		require.NoError(t, h.Service.DeleteStateMachine(b.ctx, arn))
		b.waitFor("the state machine to go", func() bool {
			sm, err := h.Service.DescribeStateMachine(b.ctx, arn)
			if err != nil {
				requireAPIError(t, err, sfn.CodeStateMachineDoesNotExist)
				return true
			}
			require.Equal(t, "DELETING", sm.Status)
			return false
		})
		_, err = h.Service.StartExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: arn})
		requireAPIError(t, err, sfn.CodeStateMachineDoesNotExist)
	}},
	{"RetryIntervalsGrowByBackoffRate", func(t *testing.T, h Harness) {
		// Error handling guide: the first retry waits IntervalSeconds, each
		// next one BackoffRate times longer. Only lower bounds are checked:
		// a loaded machine may wait longer.
		b := setup(t, h)
		b.registerFunction("AlwaysFails", []FunctionReply{{Error: "Transient", Cause: "again"}})
		def := `{"StartAt":"Work","States":{"Work":{"Type":"Task",
			"Resource":"arn:aws:lambda:us-east-1:123456789012:function:AlwaysFails","End":true,
			"Retry":[{"ErrorEquals":["Transient"],"IntervalSeconds":1,"BackoffRate":2,"MaxAttempts":2}]}}}`
		sm, _ := b.createStateMachine("backoff", def, "")
		arn := b.start(sm, "backoff", `{}`)
		x := b.waitClosed(arn)
		require.Equal(t, sfn.StatusFailed, x.Status)
		require.Equal(t, "Transient", x.Error)
		var failedAt, scheduledAt []time.Time
		for _, e := range b.history(arn, false, 0) {
			switch e.Type {
			case "LambdaFunctionFailed":
				failedAt = append(failedAt, e.Timestamp)
			case "LambdaFunctionScheduled":
				scheduledAt = append(scheduledAt, e.Timestamp)
			}
		}
		require.Len(t, scheduledAt, 3, "one attempt and two retries")
		require.Len(t, failedAt, 3)
		require.GreaterOrEqual(t, scheduledAt[1].Sub(failedAt[0]), time.Second-time.Millisecond, "the first retry waits IntervalSeconds")
		require.GreaterOrEqual(t, scheduledAt[2].Sub(failedAt[1]), 2*time.Second-time.Millisecond, "the second retry waits twice as long")
	}},
	{"DescribeExecutionFields", func(t *testing.T, h Harness) {
		// DescribeExecution API reference: the execution's names, dates,
		// input and output; the output only once it succeeded.
		b := setup(t, h)
		sm, _ := b.createStateMachine("describe", waitIfAsked, "")
		arn := b.start(sm, "described", `{"wait":false,"n":1}`)
		x := b.waitClosed(arn)
		require.Equal(t, arn, x.ExecutionARN)
		require.Equal(t, sm, x.StateMachineARN)
		require.Equal(t, "described", x.Name)
		require.Equal(t, sfn.StatusSucceeded, x.Status)
		require.JSONEq(t, `{"wait":false,"n":1}`, x.Input)
		require.JSONEq(t, `{"wait":false,"n":1}`, x.Output)
		require.False(t, x.StartDate.IsZero())
		require.False(t, x.StopDate.Before(x.StartDate), "the stop date is not before the start date")
		require.Empty(t, x.Error)

		running := b.start(sm, "running", `{"wait":true}`)
		r, err := h.Service.DescribeExecution(b.ctx, running)
		require.NoError(t, err)
		require.Equal(t, sfn.StatusRunning, r.Status)
		require.True(t, r.StopDate.IsZero(), "a running execution has no stop date")
		require.Empty(t, r.Output)
		_, err = h.Service.StopExecution(b.ctx, sfn.StopExecutionInput{ExecutionARN: running})
		require.NoError(t, err)
		b.waitClosed(running)
	}},
	{"StartSyncExecutionFailure", func(t *testing.T, h Harness) {
		// StartSyncExecution API reference: a failed execution is a
		// response with status FAILED, error and cause, not an API error.
		b := setup(t, h)
		def := `{"StartAt":"Fail","States":{"Fail":{"Type":"Fail","Error":"ErrorA","Cause":"Kaiju attack"}}}`
		express, _ := b.createStateMachine("express-fail", def, sfn.TypeExpress)
		x, err := h.Service.StartSyncExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: express, Input: `{}`})
		require.NoError(t, err)
		require.Equal(t, sfn.StatusFailed, x.Status)
		require.Equal(t, "ErrorA", x.Error)
		require.Equal(t, "Kaiju attack", x.Cause)
	}},
}

func eventIDs(events []sfn.HistoryEvent) []int64 {
	ids := make([]int64, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	return ids
}
