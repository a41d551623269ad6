package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Error is an error of the engine's API with the name Step Functions gives
// it, such as StateMachineDoesNotExist or TaskTimedOut. The wire API sends
// Code as the error type, and the sfn adapter turns the service's errors
// back into this type, so callers of either adapter match on Code.
type Error struct {
	Code    string
	Message string
}

// Error returns the code and the message.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(code, format string, args ...any) *Error {
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
}

// CreateStateMachineOutput is the result of CreateStateMachine.
type CreateStateMachineOutput struct {
	StateMachineARN string
	CreationDate    time.Time
}

// UpdateStateMachineInput is the input of UpdateStateMachine; nil fields
// keep their value.
type UpdateStateMachineInput struct {
	StateMachineARN string
	Definition      *string
	RoleARN         *string
}

// UpdateStateMachineOutput is the result of UpdateStateMachine.
type UpdateStateMachineOutput struct {
	UpdateDate time.Time
	RevisionID string
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
}

// ListExecutionsInput is the input of ListExecutions.
type ListExecutionsInput struct {
	StateMachineARN string
	StatusFilter    ExecutionStatus // empty means every status
	MaxResults      int             // 0 means 100, at most 1000
	NextToken       string
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

// HistoryEvent is one event of an execution's history, with Step
// Functions' event types and detail fields; the JSON names are those of
// the Step Functions API, and exactly one detail field (or none, for
// types without details) is set.
type HistoryEvent struct {
	Timestamp       time.Time `json:"timestamp"`
	Type            string    `json:"type"`
	ID              int64     `json:"id"`
	PreviousEventID int64     `json:"previousEventId"`

	ExecutionStarted   *ExecutionStartedDetails `json:"executionStartedEventDetails,omitempty"`
	ExecutionSucceeded *OutputDetails           `json:"executionSucceededEventDetails,omitempty"`
	ExecutionFailed    *FailureDetails          `json:"executionFailedEventDetails,omitempty"`
	ExecutionAborted   *FailureDetails          `json:"executionAbortedEventDetails,omitempty"`
	ExecutionTimedOut  *FailureDetails          `json:"executionTimedOutEventDetails,omitempty"`

	StateEntered *StateEnteredDetails `json:"stateEnteredEventDetails,omitempty"`
	StateExited  *StateExitedDetails  `json:"stateExitedEventDetails,omitempty"`

	TaskScheduled *TaskScheduledDetails `json:"taskScheduledEventDetails,omitempty"`
	TaskStarted   *TaskDetails          `json:"taskStartedEventDetails,omitempty"`
	TaskSubmitted *TaskOutputDetails    `json:"taskSubmittedEventDetails,omitempty"`
	TaskSucceeded *TaskOutputDetails    `json:"taskSucceededEventDetails,omitempty"`
	TaskFailed    *TaskFailureDetails   `json:"taskFailedEventDetails,omitempty"`
	TaskTimedOut  *TaskFailureDetails   `json:"taskTimedOutEventDetails,omitempty"`

	LambdaFunctionScheduled *LambdaScheduledDetails `json:"lambdaFunctionScheduledEventDetails,omitempty"`
	LambdaFunctionSucceeded *OutputDetails          `json:"lambdaFunctionSucceededEventDetails,omitempty"`
	LambdaFunctionFailed    *FailureDetails         `json:"lambdaFunctionFailedEventDetails,omitempty"`
	LambdaFunctionTimedOut  *FailureDetails         `json:"lambdaFunctionTimedOutEventDetails,omitempty"`

	MapStateStarted     *MapStateStartedDetails `json:"mapStateStartedEventDetails,omitempty"`
	MapIterationStarted *MapIterationDetails    `json:"mapIterationStartedEventDetails,omitempty"`
	MapIterationSucceed *MapIterationDetails    `json:"mapIterationSucceededEventDetails,omitempty"`
	MapIterationFailed  *MapIterationDetails    `json:"mapIterationFailedEventDetails,omitempty"`
	MapIterationAborted *MapIterationDetails    `json:"mapIterationAbortedEventDetails,omitempty"`
}

// ExecutionStartedDetails are the details of ExecutionStarted.
type ExecutionStartedDetails struct {
	Input           string `json:"input"`
	RoleARN         string `json:"roleArn,omitempty"`
	StateMachineARN string `json:"stateMachineArn,omitempty"`
}

// OutputDetails carry an output.
type OutputDetails struct {
	Output string `json:"output"`
}

// FailureDetails carry an error name and a cause.
type FailureDetails struct {
	Error string `json:"error,omitempty"`
	Cause string `json:"cause,omitempty"`
}

// StateEnteredDetails are the details of the <Type>StateEntered events.
type StateEnteredDetails struct {
	Name  string `json:"name"`
	Input string `json:"input"`
}

// StateExitedDetails are the details of the <Type>StateExited events.
type StateExitedDetails struct {
	Name   string `json:"name"`
	Output string `json:"output"`
	// AssignedVariables holds the JSON text of each variable the state's
	// Assign set.
	AssignedVariables map[string]string `json:"assignedVariables,omitempty"`
}

// TaskScheduledDetails are the details of TaskScheduled.
type TaskScheduledDetails struct {
	ResourceType     string `json:"resourceType"`
	Resource         string `json:"resource"`
	Region           string `json:"region"`
	Parameters       string `json:"parameters"`
	TimeoutInSeconds int64  `json:"timeoutInSeconds,omitempty"`
	HeartbeatSeconds int64  `json:"heartbeatInSeconds,omitempty"`
}

// TaskDetails name a task's resource.
type TaskDetails struct {
	ResourceType string `json:"resourceType"`
	Resource     string `json:"resource"`
}

// TaskOutputDetails are the details of TaskSubmitted and TaskSucceeded.
type TaskOutputDetails struct {
	ResourceType string `json:"resourceType"`
	Resource     string `json:"resource"`
	Output       string `json:"output"`
}

// TaskFailureDetails are the details of TaskFailed and TaskTimedOut.
type TaskFailureDetails struct {
	ResourceType string `json:"resourceType"`
	Resource     string `json:"resource"`
	Error        string `json:"error,omitempty"`
	Cause        string `json:"cause,omitempty"`
}

// LambdaScheduledDetails are the details of LambdaFunctionScheduled.
type LambdaScheduledDetails struct {
	Resource         string `json:"resource"`
	Input            string `json:"input"`
	TimeoutInSeconds int64  `json:"timeoutInSeconds,omitempty"`
}

// MapStateStartedDetails are the details of MapStateStarted.
type MapStateStartedDetails struct {
	Length int `json:"length"`
}

// MapIterationDetails name a Map state's iteration.
type MapIterationDetails struct {
	Name  string `json:"name"`
	Index int    `json:"index"`
}

// StateMachineRecord is a state machine as a Store keeps it.
type StateMachineRecord struct {
	ARN          string
	Name         string
	Definition   string
	RoleARN      string
	Type         string
	CreationDate time.Time
	UpdateDate   time.Time
	RevisionID   string
}

// ExecutionRecord is the summary of an execution that a Store keeps
// beside its history, for describing and listing.
type ExecutionRecord struct {
	ARN             string
	StateMachineARN string
	Name            string
	Status          ExecutionStatus
	StartDate       time.Time
	StopDate        time.Time
	Input           string
	Output          string
	Error           string
	Cause           string
	TraceHeader     string
}

// Commit is one transition of one execution: the execution's summary
// after it and one batch of history. Seq numbers an execution's commits
// from 1 without gaps; a Store refuses a commit whose Seq is not one past
// the last one it holds for that execution.
type Commit struct {
	Execution ExecutionRecord
	Seq       int64
	// Type names the batch, the type of its last history event.
	Type string
	// Data is the batch, a JSON object only the engine reads.
	Data json.RawMessage
}

// ExecutionFilter selects executions to list.
type ExecutionFilter struct {
	StateMachineARN string
	Status          ExecutionStatus // empty means every status
	// After is the position to continue after (from a previous page), empty
	// for the first page.
	After string
	Limit int
}

// Store keeps state machines and executions. The engine calls Commit from
// a few writers at once (Config.CommitWriters), each with every transition
// of its executions that is ready; one execution's transitions always go
// through the same writer, in order. A durable Store should write a whole
// call in one transaction: that is the engine's group commit. Errors other than *Error are reported to callers
// as ServiceUnavailable and logged.
type Store interface {
	// PutStateMachine creates or replaces a state machine.
	PutStateMachine(ctx context.Context, sm StateMachineRecord) error
	// DeleteStateMachine removes a state machine; a missing one is no error.
	DeleteStateMachine(ctx context.Context, arn string) error
	// StateMachines returns every state machine.
	StateMachines(ctx context.Context) ([]StateMachineRecord, error)

	// Commit writes the commits in order, all or none. Several commits of
	// one execution may be in one call. The engine never changes a
	// commit's Data after the call, so a store may keep it.
	Commit(ctx context.Context, commits []Commit) error
	// Batches returns an execution's history batches (the Data of its
	// commits) in Seq order; a missing execution has none.
	Batches(ctx context.Context, executionARN string) ([]json.RawMessage, error)
	// Execution returns one execution's summary; ok is false when there is
	// none.
	Execution(ctx context.Context, arn string) (rec ExecutionRecord, ok bool, err error)
	// Executions lists executions of a state machine, newest start first,
	// and the After of the next page ("" at the end).
	Executions(ctx context.Context, f ExecutionFilter) (recs []ExecutionRecord, next string, err error)
	// OpenExecutions returns every execution whose status is RUNNING.
	OpenExecutions(ctx context.Context) ([]ExecutionRecord, error)
}

// QueueSender puts messages on queues by URL: the SQS SendMessage action
// of the sqs:sendMessage task resources.
type QueueSender interface {
	SendMessage(ctx context.Context, p SendMessageParams) (messageID string, err error)
}

// SendMessageParams is one message to send.
type SendMessageParams struct {
	QueueURL string
	Body     string
	// Attributes are the message attributes, string values only.
	Attributes map[string]string
	// TraceHeader becomes the message's AWSTraceHeader system attribute.
	TraceHeader string
	// DelaySeconds delays the message's first delivery.
	DelaySeconds int
}

// FunctionInvoker invokes Lambda functions: the lambda:invoke task
// resources and function ARNs.
type FunctionInvoker interface {
	// Invoke calls the function synchronously. A function error (the
	// handler returned an error) is reported in the result, not as err;
	// err is for a call that could not be made.
	Invoke(ctx context.Context, p InvokeParams) (InvokeResult, error)
}

// InvokeParams is one synchronous invocation.
type InvokeParams struct {
	// FunctionName is a name, a function ARN or a partial ARN, with an
	// optional :qualifier.
	FunctionName string
	Payload      []byte
	// ClientContext is the base64 client context, if any.
	ClientContext string
}

// InvokeResult is the response of a synchronous invocation.
type InvokeResult struct {
	StatusCode      int
	Payload         []byte
	ExecutedVersion string
	// FunctionError is "Unhandled" or "Handled" when the function failed;
	// Payload then holds {"errorType": ..., "errorMessage": ...}.
	FunctionError string
}

// Clock is the engine's time: Now, and timers. The system clock is
// SystemClock; tests run the engine inside a testing/synctest bubble,
// where the same calls use the bubble's fake time.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed; stop
	// cancels it and reports whether it did.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// SystemClock is the Clock of package time.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// AfterFunc is time.AfterFunc.
func (SystemClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}
