package sfn

import (
	"context"
	"time"
)

// Redrive, as Step Functions' RedriveExecution has it: a FAILED, TIMED_OUT
// or ABORTED execution of a STANDARD state machine carries on from the
// states that did not succeed, with the same ARN, input and definition.

// CodeExecutionNotRedrivable is the error of RedriveExecution for an
// execution that cannot be redriven: it runs or succeeded, its redrivable
// period has passed, its history is full, or its state machine is EXPRESS
// or being deleted.
const CodeExecutionNotRedrivable = "ExecutionNotRedrivable"

// StatusPendingRedrive is the status Step Functions shows between a
// redrive's request and the execution's running again.
const StatusPendingRedrive ExecutionStatus = "PENDING_REDRIVE"

// RedriveStatus says whether an execution can be redriven now.
type RedriveStatus string

// Redrive statuses.
const (
	RedriveStatusRedrivable         RedriveStatus = "REDRIVABLE"
	RedriveStatusNotRedrivable      RedriveStatus = "NOT_REDRIVABLE"
	RedriveStatusRedrivableByMapRun RedriveStatus = "REDRIVABLE_BY_MAP_RUN"
)

// RedriveFilter selects executions by whether they were redriven.
type RedriveFilter string

// Redrive filters of ListExecutions.
const (
	RedriveFilterRedriven    RedriveFilter = "REDRIVEN"
	RedriveFilterNotRedriven RedriveFilter = "NOT_REDRIVEN"
)

// The reasons DescribeExecution gives for NOT_REDRIVABLE, in Step
// Functions' words.
const (
	RedriveReasonDeleting      = "State machine is in DELETING status"
	RedriveReasonRunning       = "Execution is RUNNING and cannot be redriven"
	RedriveReasonSucceeded     = "Execution is SUCCEEDED and cannot be redriven"
	RedriveReasonEventLimit    = "Execution history event limit exceeded"
	RedriveReasonMaxTime       = "Execution has exceeded the max execution time"
	RedriveReasonPeriod        = "Execution redrivable period exceeded"
	RedriveReasonExpress       = "Execution of an EXPRESS state machine cannot be redriven"
	RedrivePeriod              = 14 * 24 * time.Hour
	RedriveMaxOpenTime         = 365 * 24 * time.Hour
	RedriveMaxHistoryEvents    = 24999
	RedriveClientTokenLifetime = 15 * time.Minute
	RedriveClientTokensKept    = 10
)

// RedriveExecutionInput is the input of RedriveExecution.
type RedriveExecutionInput struct {
	ExecutionARN string
	// ClientToken makes the request idempotent: the same token answers the
	// same redrive (the last 10 tokens of an execution, for 15 minutes).
	ClientToken string
}

// RedriveExecutionOutput is the result of RedriveExecution.
type RedriveExecutionOutput struct {
	RedriveDate time.Time
}

// Redriver redrives executions.
type Redriver interface {
	RedriveExecution(ctx context.Context, in RedriveExecutionInput) (RedriveExecutionOutput, error)
}

// ExecutionRedrivenDetails are the details of ExecutionRedriven.
type ExecutionRedrivenDetails struct {
	RedriveCount int `json:"redriveCount"`
}
