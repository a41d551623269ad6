package steps

import (
	"errors"
	"fmt"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/task"
)

// Error names this package adds to the ai package's codes. A workflow's
// retry and catch match them like any other step error.
const (
	// CodeMaxTurnsExceeded fails an agent step whose model still asked for
	// tools after max_turns model calls.
	CodeMaxTurnsExceeded ai.Code = "AI.MaxTurnsExceeded"
	// CodeToolUnavailable fails an agent step whose tool runner could not
	// list or call a tool (a tool's own error goes back to the model).
	CodeToolUnavailable ai.Code = "AI.ToolUnavailable"
	// CodeMalformedMessage fails a task whose message the worker cannot
	// read (a body that is not a step message, a spec of the wrong shape).
	CodeMalformedMessage = "Steps.MalformedMessage"
	// CodeUnknownKind fails a task of a step kind this worker has no
	// handler for.
	CodeUnknownKind = "Steps.UnknownKind"
	// CodeOutputTooLarge fails a task whose result is over the Step
	// Functions payload quota.
	CodeOutputTooLarge = "Steps.OutputTooLarge"
	// CodeInternal fails a task whose handler returned an error without a
	// name: a bug, reported rather than retried forever.
	CodeInternal = "Steps.Internal"
	// CodeInvalidText fails a task whose result holds text the gate
	// (internal/textgate) refuses: a NUL, invalid UTF-8 or a lone
	// surrogate, from a tool's or a model's answer. Sent on, the engine
	// and PostgreSQL could not keep it.
	CodeInvalidText = "Steps.InvalidText"
)

// Codes lists the error names this package adds (the service step's
// ServiceCodes among them), and the task message's
// task.CodeUnsupportedVersion that the runtime fails a task with, for
// documentation and the type checker; ai.Codes lists the others.
var Codes = append([]string{
	string(CodeMaxTurnsExceeded), string(CodeToolUnavailable),
	CodeMalformedMessage, CodeUnknownKind, CodeOutputTooLarge, CodeInternal, CodeInvalidText, CodeBlobUnreadable,
	task.CodeUnsupportedVersion,
}, ServiceCodes...)

// Failure is a step's failure as SendTaskFailure reports it: an error name
// a workflow matches and a cause a person reads.
type Failure struct {
	Name  string
	Cause string
}

// Error returns the name and the cause.
func (f *Failure) Error() string { return f.Name + ": " + f.Cause }

// Failf builds a *Failure with a formatted cause.
func Failf(name, format string, args ...any) *Failure {
	return &Failure{Name: name, Cause: fmt.Sprintf(format, args...)}
}

// ErrorName is the error name a handler's error fails its task with (see
// Handler): a *Failure's name, an *ai.Error's code, Steps.Internal for any
// other error.
func ErrorName(err error) string { return failureOf(err).Name }

// failureOf names the failure of a handler's error: a *Failure as it is, an
// *ai.Error by its code and message, anything else Steps.Internal.
func failureOf(err error) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	var ae *ai.Error
	if errors.As(err, &ae) {
		cause := ae.Message
		if ae.Provider != "" {
			cause = ae.Provider + ": " + cause
		}
		return &Failure{Name: string(ae.Code), Cause: cause}
	}
	return &Failure{Name: CodeInternal, Cause: err.Error()}
}
