package sfn

import (
	"context"
	"time"
)

// Activities are Step Functions' activities: a Task state whose Resource
// is an activity ARN waits until a worker takes its input with
// GetActivityTask and answers with the task token (SendTaskSuccess,
// SendTaskFailure, SendTaskHeartbeat). The local engine implements it,
// and so does the adapter over the AWS SDK.
type Activities interface {
	// CreateActivity creates an activity, or returns the one of that
	// name (it is idempotent).
	CreateActivity(ctx context.Context, in CreateActivityInput) (CreateActivityOutput, error)
	// DescribeActivity returns an activity; ActivityDoesNotExist when
	// there is none.
	DescribeActivity(ctx context.Context, arn string) (Activity, error)
	// ListActivities lists activities by name, a page at a time.
	ListActivities(ctx context.Context, in ListActivitiesInput) (ListActivitiesOutput, error)
	// DeleteActivity deletes an activity; deleting a missing one is no
	// error.
	DeleteActivity(ctx context.Context, arn string) error
	// GetActivityTask waits up to MaxActivityTaskWait for a task of the
	// activity and returns its token and input; both are empty when none
	// came.
	GetActivityTask(ctx context.Context, in GetActivityTaskInput) (GetActivityTaskOutput, error)
}

// MaxActivityTaskWait is how long GetActivityTask waits for a task.
const MaxActivityTaskWait = 60 * time.Second

// Error codes of the activity operations.
const (
	CodeActivityDoesNotExist        = "ActivityDoesNotExist"
	CodeActivityAlreadyExists       = "ActivityAlreadyExists"
	CodeActivityWorkerLimitExceeded = "ActivityWorkerLimitExceeded"
	CodeActivityLimitExceeded       = "ActivityLimitExceeded"
)

// CreateActivityInput is the input of CreateActivity.
type CreateActivityInput struct {
	Name string
	// Tags are accepted and kept by AWS; the local engine ignores them.
	Tags map[string]string
}

// CreateActivityOutput is the output of CreateActivity.
type CreateActivityOutput struct {
	ActivityARN  string
	CreationDate time.Time
}

// Activity describes an activity.
type Activity struct {
	ActivityARN  string
	Name         string
	CreationDate time.Time
}

// ListActivitiesInput is the input of ListActivities.
type ListActivitiesInput struct {
	MaxResults int
	NextToken  string
}

// ListActivitiesOutput is a page of activities.
type ListActivitiesOutput struct {
	Activities []Activity
	NextToken  string
}

// GetActivityTaskInput is the input of GetActivityTask.
type GetActivityTaskInput struct {
	ActivityARN string
	// WorkerName names the worker in the ActivityStarted event.
	WorkerName string
}

// GetActivityTaskOutput is a task of an activity, or nothing.
type GetActivityTaskOutput struct {
	TaskToken string
	Input     string
}

// ActivityScheduledDetails are the details of ActivityScheduled.
type ActivityScheduledDetails struct {
	Resource         string `json:"resource"`
	Input            string `json:"input"`
	TimeoutInSeconds int64  `json:"timeoutInSeconds,omitempty"`
	HeartbeatSeconds int64  `json:"heartbeatInSeconds,omitempty"`
}

// ActivityStartedDetails are the details of ActivityStarted.
type ActivityStartedDetails struct {
	WorkerName string `json:"workerName,omitempty"`
}
