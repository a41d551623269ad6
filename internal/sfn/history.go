package sfn

import "time"

// HistoryEvent is one event of an execution's history, with Step
// Functions' event types and detail fields; the JSON names are those of
// the Step Functions API, and exactly one detail field (or none, for
// types without details) is set.
type HistoryEvent struct {
	Timestamp       time.Time `json:"timestamp"`
	Type            string    `json:"type"`
	ID              int64     `json:"id"`
	PreviousEventID int64     `json:"previousEventId"`

	ExecutionStarted   *ExecutionStartedDetails  `json:"executionStartedEventDetails,omitempty"`
	ExecutionSucceeded *OutputDetails            `json:"executionSucceededEventDetails,omitempty"`
	ExecutionFailed    *FailureDetails           `json:"executionFailedEventDetails,omitempty"`
	ExecutionAborted   *FailureDetails           `json:"executionAbortedEventDetails,omitempty"`
	ExecutionTimedOut  *FailureDetails           `json:"executionTimedOutEventDetails,omitempty"`
	ExecutionRedriven  *ExecutionRedrivenDetails `json:"executionRedrivenEventDetails,omitempty"`

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

	ActivityScheduled      *ActivityScheduledDetails `json:"activityScheduledEventDetails,omitempty"`
	ActivityStarted        *ActivityStartedDetails   `json:"activityStartedEventDetails,omitempty"`
	ActivitySucceeded      *OutputDetails            `json:"activitySucceededEventDetails,omitempty"`
	ActivityFailed         *FailureDetails           `json:"activityFailedEventDetails,omitempty"`
	ActivityTimedOut       *FailureDetails           `json:"activityTimedOutEventDetails,omitempty"`
	ActivityScheduleFailed *FailureDetails           `json:"activityScheduleFailedEventDetails,omitempty"`

	MapRunStarted *MapRunStartedDetails `json:"mapRunStartedEventDetails,omitempty"`
	MapRunFailed  *FailureDetails       `json:"mapRunFailedEventDetails,omitempty"`

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
	// The version and alias the execution was started on, if any.
	StateMachineVersionARN string `json:"stateMachineVersionArn,omitempty"`
	StateMachineAliasARN   string `json:"stateMachineAliasArn,omitempty"`
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
