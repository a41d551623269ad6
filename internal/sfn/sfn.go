// Package sfn is the Step Functions contract that aiflow's two
// implementations share: the local engine (internal/engine) and the
// adapter over the AWS SDK's sfn client (internal/awssfn). It holds the
// operations' inputs and outputs, the history events with Step Functions'
// names and fields, the error codes, and the ports that callers depend on
// (StateMachines, Executions, Callbacks, and Service for all of them),
// plus the task-dispatch ports the engine sends work through (QueueSender,
// FunctionInvoker).
//
// It does no I/O and imports nothing of aiflow's, so the HTTP API, the step
// workers, the recorder and the wire API depend on the contract and never
// on the interpreter.
package sfn

import (
	"errors"
	"fmt"
	"time"
)

// MaxPayloadBytes is the Step Functions quota on a state's input and
// output, and on an execution's input, counted in bytes of UTF-8 JSON.
const MaxPayloadBytes = 256 * 1024

// Error is an error of the Step Functions API with the name Step Functions
// gives it, such as StateMachineDoesNotExist or TaskTimedOut. The local
// engine returns it, the wire API sends Code as the error type, and the
// AWS adapter turns the service's errors back into this type, so callers of
// either implementation match on Code.
type Error struct {
	Code    string
	Message string
}

// Error returns the code and the message.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Error codes, as Step Functions names them.
const (
	CodeExecutionAlreadyExists     = "ExecutionAlreadyExists"
	CodeExecutionDoesNotExist      = "ExecutionDoesNotExist"
	CodeExecutionLimitExceeded     = "ExecutionLimitExceeded"
	CodeInvalidArn                 = "InvalidArn"
	CodeInvalidDefinition          = "InvalidDefinition"
	CodeInvalidExecutionInput      = "InvalidExecutionInput"
	CodeInvalidName                = "InvalidName"
	CodeInvalidOutput              = "InvalidOutput"
	CodeInvalidToken               = "InvalidToken"
	CodeStateMachineAlreadyExists  = "StateMachineAlreadyExists"
	CodeStateMachineDeleting       = "StateMachineDeleting"
	CodeStateMachineDoesNotExist   = "StateMachineDoesNotExist"
	CodeStateMachineTypeNotSupport = "StateMachineTypeNotSupported"
	CodeTaskDoesNotExist           = "TaskDoesNotExist"
	CodeTaskTimedOut               = "TaskTimedOut"
	CodeValidation                 = "ValidationException"
	CodeConflict                   = "ConflictException"
	CodeServiceUnavailable         = "ServiceUnavailable" // the engine is closed or its store failed
)

// State machine types.
const (
	TypeStandard = "STANDARD"
	TypeExpress  = "EXPRESS"
)

// ExecutionStatus is the status of an execution.
type ExecutionStatus string

// Execution statuses.
const (
	StatusRunning   ExecutionStatus = "RUNNING"
	StatusSucceeded ExecutionStatus = "SUCCEEDED"
	StatusFailed    ExecutionStatus = "FAILED"
	StatusTimedOut  ExecutionStatus = "TIMED_OUT"
	StatusAborted   ExecutionStatus = "ABORTED"
)

// Closed reports whether the status is a final one.
func (s ExecutionStatus) Closed() bool { return s != StatusRunning && s != "" }

// CreateStateMachineInput is the input of CreateStateMachine.
type CreateStateMachineInput struct {
	Name       string
	Definition string
	RoleARN    string
	// Type is STANDARD (the default) or EXPRESS.
	Type string
	// Logging sends the executions' history to CloudWatch Logs; nil
	// logs nothing. The local engine keeps every history itself and
	// ignores it.
	Logging *LoggingConfiguration
	// Tracing turns on AWS X-Ray tracing of the executions; the local
	// engine ignores it.
	Tracing bool
	// Publish publishes version 1 with the state machine, described by
	// VersionDescription (which needs Publish).
	Publish            bool
	VersionDescription string
	// Tags tag the state machine.
	Tags []Tag
}

// LoggingConfiguration is how much of a state machine's execution history
// goes to which CloudWatch Logs log group.
type LoggingConfiguration struct {
	// Level is ALL, ERROR, FATAL or OFF.
	Level string
	// IncludeExecutionData logs the states' input and output too.
	IncludeExecutionData bool
	// LogGroupARN is the log group's ARN, ending in ":*".
	LogGroupARN string
}

// CreateStateMachineOutput is the result of CreateStateMachine.
type CreateStateMachineOutput struct {
	StateMachineARN string
	CreationDate    time.Time
	// StateMachineVersionARN is the version Publish published.
	StateMachineVersionARN string
}

// UpdateStateMachineInput is the input of UpdateStateMachine; nil fields
// keep their value.
type UpdateStateMachineInput struct {
	StateMachineARN string
	Definition      *string
	RoleARN         *string
	Logging         *LoggingConfiguration
	Tracing         *bool
	// Publish publishes a version of the updated state machine, described
	// by VersionDescription (which needs Publish).
	Publish            bool
	VersionDescription string
}

// UpdateStateMachineOutput is the result of UpdateStateMachine.
type UpdateStateMachineOutput struct {
	UpdateDate time.Time
	RevisionID string
	// StateMachineVersionARN is the version Publish published.
	StateMachineVersionARN string
}

// StateMachine describes a state machine.
type StateMachine struct {
	StateMachineARN string
	Name            string
	// Status is ACTIVE or DELETING.
	Status       string
	Definition   string
	RoleARN      string
	Type         string
	CreationDate time.Time
	UpdateDate   time.Time
	RevisionID   string
	// Description is a version's description; StateMachineARN is then
	// the version's ARN.
	Description string
}

// ListStateMachinesInput is the input of ListStateMachines.
type ListStateMachinesInput struct {
	MaxResults int // 0 means 100, at most 1000
	NextToken  string
}

// ListStateMachinesOutput is a page of ListStateMachines, in name order.
type ListStateMachinesOutput struct {
	StateMachines []StateMachine // Definition left empty
	NextToken     string
}

// Diagnostic is one problem ValidateStateMachineDefinition found.
type Diagnostic struct {
	Severity string // ERROR
	Code     string // SCHEMA_VALIDATION_FAILED, INVALID_JSON_DESCRIPTION
	Message  string
	Location string // e.g. /States/Classify/Retry/0/ErrorEquals
}

// ValidateOutput is the result of ValidateStateMachineDefinition.
type ValidateOutput struct {
	Result      string // OK or FAIL
	Diagnostics []Diagnostic
}

// StartExecutionInput is the input of StartExecution and
// StartSyncExecution.
type StartExecutionInput struct {
	StateMachineARN string
	// Name is unique among the state machine's executions; empty means a
	// generated one.
	Name string
	// Input is a JSON text; empty means "{}".
	Input string
	// TraceHeader is the X-Ray trace header to pass on to tasks.
	TraceHeader string
}

// StartExecutionOutput is the result of StartExecution.
type StartExecutionOutput struct {
	ExecutionARN string
	StartDate    time.Time
}

// Execution describes an execution.
type Execution struct {
	ExecutionARN    string
	StateMachineARN string
	Name            string
	Status          ExecutionStatus
	StartDate       time.Time
	StopDate        time.Time // zero while running
	Input           string
	Output          string // set when SUCCEEDED
	Error           string // set when FAILED, TIMED_OUT or ABORTED
	Cause           string
	TraceHeader     string
	// RedriveCount is how often the execution was redriven, RedriveDate
	// when last (zero if never); RedriveStatus says whether it can be
	// redriven now and RedriveStatusReason why not (DescribeExecution
	// only).
	RedriveCount        int
	RedriveDate         time.Time
	RedriveStatus       RedriveStatus
	RedriveStatusReason string
	// StateMachineVersionARN is the version the execution runs, when it
	// was started on a version or an alias; StateMachineAliasARN the
	// alias, when it was started on one.
	StateMachineVersionARN string
	StateMachineAliasARN   string
}

// ListExecutionsInput is the input of ListExecutions.
type ListExecutionsInput struct {
	// StateMachineARN is a state machine's ARN, or a version's or an
	// alias's to list the executions started on it.
	StateMachineARN string
	StatusFilter    ExecutionStatus // empty means every status
	MaxResults      int             // 0 means 100, at most 1000
	NextToken       string
	RedriveFilter   RedriveFilter // empty means redriven or not
}

// ListExecutionsOutput is a page of ListExecutions, newest first.
type ListExecutionsOutput struct {
	Executions []Execution // Input and Output left empty
	NextToken  string
}

// StopExecutionInput is the input of StopExecution.
type StopExecutionInput struct {
	ExecutionARN string
	Error        string
	Cause        string
}

// GetExecutionHistoryInput is the input of GetExecutionHistory.
type GetExecutionHistoryInput struct {
	ExecutionARN string
	MaxResults   int // 0 means 100, at most 1000
	NextToken    string
	ReverseOrder bool
	// ExcludeExecutionData leaves inputs and outputs out of the events.
	ExcludeExecutionData bool
}

// GetExecutionHistoryOutput is a page of an execution's history.
type GetExecutionHistoryOutput struct {
	Events    []HistoryEvent
	NextToken string
}

// SendTaskSuccessInput is the input of SendTaskSuccess.
type SendTaskSuccessInput struct {
	TaskToken string
	Output    string // a JSON text
}

// SendTaskFailureInput is the input of SendTaskFailure.
type SendTaskFailureInput struct {
	TaskToken string
	Error     string
	Cause     string
}

// TaskGone reports whether a task callback's error says the task no
// longer waits for an answer: it timed out, its execution closed, or its
// token is unknown. Such an answer is dropped, never retried.
func TaskGone(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code == CodeTaskTimedOut || e.Code == CodeInvalidToken || e.Code == CodeTaskDoesNotExist
}
