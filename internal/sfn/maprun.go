package sfn

import (
	"context"
	"time"
)

// MapRuns are the Map Runs of distributed Map states (ProcessorConfig
// Mode DISTRIBUTED): one per run of such a state, with its item counts
// and settings, which UpdateMapRun changes while it runs. The local
// engine implements it, and so does the adapter over the AWS SDK.
type MapRuns interface {
	// DescribeMapRun describes a Map Run; ResourceNotFound when there is
	// none.
	DescribeMapRun(ctx context.Context, arn string) (MapRun, error)
	// ListMapRuns lists the Map Runs an execution started.
	ListMapRuns(ctx context.Context, in ListMapRunsInput) (ListMapRunsOutput, error)
	// UpdateMapRun changes a running Map Run's concurrency or tolerated
	// failures.
	UpdateMapRun(ctx context.Context, in UpdateMapRunInput) error
}

// Map Run statuses.
const (
	MapRunRunning   = "RUNNING"
	MapRunSucceeded = "SUCCEEDED"
	MapRunFailed    = "FAILED"
	MapRunAborted   = "ABORTED"
)

// MapRun describes a Map Run.
type MapRun struct {
	MapRunARN                  string
	ExecutionARN               string
	Status                     string
	StartDate                  time.Time
	StopDate                   time.Time
	MaxConcurrency             int
	ToleratedFailurePercentage float64
	ToleratedFailureCount      int
	// ItemCounts count the items; ExecutionCounts the child executions
	// that run them.
	ItemCounts      MapRunCounts
	ExecutionCounts MapRunCounts
}

// MapRunCounts count a Map Run's items, or its child executions.
type MapRunCounts struct {
	Pending, Running, Succeeded, Failed, TimedOut, Aborted, Total int
	ResultsWritten                                                int
}

// ListMapRunsInput is the input of ListMapRuns.
type ListMapRunsInput struct {
	ExecutionARN string
	MaxResults   int
	NextToken    string
}

// MapRunListItem is one Map Run of a listing.
type MapRunListItem struct {
	ExecutionARN    string
	MapRunARN       string
	StateMachineARN string
	StartDate       time.Time
	StopDate        time.Time
}

// ListMapRunsOutput is a page of Map Runs.
type ListMapRunsOutput struct {
	MapRuns   []MapRunListItem
	NextToken string
}

// UpdateMapRunInput is the input of UpdateMapRun; nil fields stay as
// they are.
type UpdateMapRunInput struct {
	MapRunARN                  string
	MaxConcurrency             *int
	ToleratedFailurePercentage *float64
	ToleratedFailureCount      *int
}

// MapRunStartedDetails are the details of MapRunStarted.
type MapRunStartedDetails struct {
	MapRunARN string `json:"mapRunArn"`
}
