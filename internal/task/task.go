// Package task is the contract of a task step's message: the body of the
// SQS message that a Task state on
// arn:aws:states:::sqs:sendMessage.waitForTaskToken sends. The workflow
// compiler writes its template with Template; every reader (the step
// runtime, the approvals queue's worker, aiflow run's mock worker) reads it
// with Decode. It imports nothing of aiflow, so every side can import it.
//
// A message is a JSON object:
//
//	{
//	  "version": 1,
//	  "taskToken": "…",
//	  "execution": {"id": "<execution ARN>", "name": "…", "startTime": "…"},
//	  "step": {"id": "classify", "kind": "ai", "attempt": 0, "enteredTime": "…"},
//	  "spec": {…},
//	  "data": {…}
//	}
//
// taskToken is the token to answer with (SendTaskSuccess, SendTaskFailure,
// SendTaskHeartbeat); execution and step come from the state machine's
// context object; spec is what the workflow fixed at compile time and data
// what its templates rendered from the execution's state. Their fields
// depend on the step's kind and belong to its handler.
//
// Versions: the compiler writes "version": Version. A message without a
// version is version 1: the compiler wrote none before versions existed,
// and state machines compiled then still run. Decode refuses any other
// version with an error that wraps ErrUnsupportedVersion; a worker fails
// the task with the error name CodeUnsupportedVersion instead of receiving
// the message again and again. A change that an older reader would misread
// takes a new version; a new optional field does not.
//
// Text: Decode runs the body through internal/textgate first. A message
// holding a NUL, invalid UTF-8 or a lone surrogate anywhere (raw, or as a
// JSON escape that encoding/json would replace with U+FFFD) is refused with
// an error that wraps ErrInvalidText and the *textgate.Error naming the
// JSON pointer; the Message keeps the task token (unless the token itself
// is the flawed string), so a worker fails the task as a malformed message
// instead of running it or receiving it forever. The package imports only
// that leaf of aiflow, and jsonvalid, the leaf under it.
package task

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/textgate"
)

// Version is the version of the message the compiler writes, and the only
// one Decode reads.
const Version = 1

// CodeUnsupportedVersion is the error name a worker fails a task with when
// its message is of a version the worker does not read (Decode's error
// wraps ErrUnsupportedVersion). A workflow's retry and catch can match it;
// the step runtime's registry, steps.Codes, lists it.
const CodeUnsupportedVersion = "Task.UnsupportedVersion"

// ErrUnsupportedVersion is wrapped by Decode's error for a message of a
// version other than Version.
var ErrUnsupportedVersion = errors.New("unsupported version")

// ErrInvalidText is wrapped by Decode's error for a message holding text
// the gate refuses: a NUL, invalid UTF-8 or a lone surrogate.
var ErrInvalidText = errors.New("refused text")

// Message is a task step's message, as Decode reads it.
type Message struct {
	// Version is the message's version; Decode sets it to Version for a
	// message without one.
	Version   int             `json:"version"`
	TaskToken string          `json:"taskToken"`
	Execution Execution       `json:"execution"`
	Step      Step            `json:"step"`
	Spec      json.RawMessage `json:"spec"`
	Data      json.RawMessage `json:"data"`
}

// Execution names the execution a task belongs to: ID is its ARN.
type Execution struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	StartTime string `json:"startTime"`
}

// Step is the step of a task: its id in the workflow, its kind (ai, mcp,
// service, approval), the attempt (0 for the first, counting the state's
// retries) and when the state was entered.
type Step struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Attempt     int    `json:"attempt"`
	EnteredTime string `json:"enteredTime"`
}

// Entered returns the time the step's state was entered, and false when
// the message does not say.
func (s Step) Entered() (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s.EnteredTime)
	return t, err == nil
}

// IdempotencyKey returns the key of the step invocation m asks for, which
// every effect the step has outside aiflow carries (an MCP call's _meta
// and its tool's idempotency argument, a service call's Idempotency-Key
// header), so that a tool that honours keys does its work once.
//
// It is derived from what stays the same across every delivery of one
// invocation and differs between invocations whose effects should both
// happen: the execution, the step, the time its state was entered, and
// the value of the data the state machine rendered for it (its JSON
// value, not its text: member order, escapes and number forms do not
// count, since a message sent again from a stored copy of its task, as
// the local engine sends it after a restart, may differ from the first in
// text). So
//
//   - an SQS redelivery of the message (the same body) has the same key,
//     and so has the message sent again after a restart;
//   - a retry of the step by its state's Retry has the same key too (the
//     state is not entered again, and the attempt is left out), so a call
//     whose result was lost, say to a timeout, is answered with the first
//     result instead of being made twice, while a call that failed left
//     nothing under its key and is made anew;
//   - the same step entered again (a loop, an iteration of a map over
//     other items) has another key.
//
// The key is "aiflow-" and 32 hex digits: printable, and short enough for
// any header or column.
func (m Message) IdempotencyKey() string {
	var data bytes.Buffer
	if !canonical(&data, m.Data) {
		data.Reset()
		data.Write(m.Data)
	}
	h := sha256.New()
	for _, part := range []string{m.Execution.ID, m.Step.ID, m.Step.EnteredTime} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(data.Bytes())
	return "aiflow-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Decode reads a message body. It returns an error when the body is not
// JSON of the message's shape, has no taskToken, no step.id or no
// step.kind, or is of a version other than Version (the error then wraps
// ErrUnsupportedVersion), or holds text the gate refuses (the error then
// wraps ErrInvalidText and a *textgate.Error). With an error, the Message is empty but for its
// TaskToken, set when the body names one, so that the caller can fail the
// task instead of receiving the message forever.
//
// The version is read before the rest, so that a message of another
// version is refused as such even when its shape differs from this one's.
func Decode(body string) (Message, error) {
	var te *textgate.Error
	if errors.As(textgate.JSON([]byte(body)), &te) {
		m := Message{}
		if te.Pointer != "/taskToken" {
			m.TaskToken = leadingToken(body)
		}
		return m, fmt.Errorf("reading the task message: %w: %w", ErrInvalidText, te)
	}
	if m, ok := decodeFast(body); ok {
		return m, nil
	}
	return decodeReflect(body)
}

// decodeReflect is Decode of a body the text gate let through, with
// encoding/json.
func decodeReflect(body string) (Message, error) {
	var env struct {
		Version   *int            `json:"version"`
		TaskToken string          `json:"taskToken"`
		Execution json.RawMessage `json:"execution"`
		Step      json.RawMessage `json:"step"`
		Spec      json.RawMessage `json:"spec"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		return Message{TaskToken: probeToken(body)}, fmt.Errorf("reading the task message: %w", err)
	}
	m := Message{Version: 1, TaskToken: env.TaskToken, Spec: env.Spec, Data: env.Data}
	if env.Version != nil {
		m.Version = *env.Version
	}
	if m.Version != Version {
		return Message{TaskToken: m.TaskToken}, fmt.Errorf("reading the task message: %w %d: this worker reads version %d (a message without a version is version 1)",
			ErrUnsupportedVersion, m.Version, Version)
	}
	if m.TaskToken == "" {
		return Message{}, errors.New("reading the task message: it has no taskToken")
	}
	if err := unmarshalField("execution", env.Execution, &m.Execution); err != nil {
		return Message{TaskToken: m.TaskToken}, err
	}
	if err := unmarshalField("step", env.Step, &m.Step); err != nil {
		return Message{TaskToken: m.TaskToken}, err
	}
	if m.Step.ID == "" || m.Step.Kind == "" {
		return Message{TaskToken: m.TaskToken}, errors.New("reading the task message: step.id and step.kind are required")
	}
	return m, nil
}

// probeToken reads the taskToken of a body Decode refuses, "" when it
// names none.
func probeToken(body string) string {
	var probe struct {
		TaskToken string `json:"taskToken"`
	}
	_ = json.Unmarshal([]byte(body), &probe)
	return probe.TaskToken
}

// leadingToken reads the taskToken of a body the text gate refused. A raw
// control character (a NUL) in a string is a JSON syntax error that hides
// the rest of the body: read as a space, it leaves the token readable.
func leadingToken(body string) string {
	return probeToken(strings.Map(func(r rune) rune {
		if r < ' ' {
			return ' '
		}
		return r
	}, body))
}

// unmarshalField decodes the message's field name, when it is there.
func unmarshalField(name string, raw json.RawMessage, v any) error {
	if raw == nil {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("reading the task message's %s: %w", name, err)
	}
	return nil
}

// TemplateParams is what the compiler fixes of a task step's message.
type TemplateParams struct {
	// StepID and Kind are the step's id and kind.
	StepID, Kind string
	// Spec and Data are payload templates (keys ending in ".$" take a path
	// or an intrinsic function) of the message's spec and data.
	Spec, Data map[string]any
}

// Template returns the payload template of a task step's message: the
// MessageBody of its Task state's Parameters. The state machine fills in
// the task token, the execution and the step's attempt and entered time
// from its context object, and renders Spec and Data.
func Template(p TemplateParams) map[string]any {
	return map[string]any{
		"version":     Version,
		"taskToken.$": "$$.Task.Token",
		"execution":   map[string]any{"id.$": "$$.Execution.Id", "name.$": "$$.Execution.Name", "startTime.$": "$$.Execution.StartTime"},
		"step":        map[string]any{"id": p.StepID, "kind": p.Kind, "attempt.$": "$$.State.RetryCount", "enteredTime.$": "$$.State.EnteredTime"},
		"spec":        p.Spec,
		"data":        p.Data,
	}
}
