package enginetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/sfn"
)

// The activity checks follow the activity operations of the API reference
// (CreateActivity, DescribeActivity, ListActivities, DeleteActivity,
// GetActivityTask) and the guide's activities page
// (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-activities.html).
func init() {
	checks = append(checks, activityChecks...)
}

func activities(t *testing.T, h Harness) sfn.Activities {
	t.Helper()
	a, ok := h.Service.(sfn.Activities)
	require.True(t, ok, "the Service (%T) does not implement sfn.Activities", h.Service)
	return a
}

// takeActivityTask waits for a task of the activity, within Timeout.
func (b *bundle) takeActivityTask(a sfn.Activities, arn, worker string) sfn.GetActivityTaskOutput {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	task, err := a.GetActivityTask(ctx, sfn.GetActivityTaskInput{ActivityARN: arn, WorkerName: worker})
	require.NoError(b.t, err)
	require.NotEmpty(b.t, task.TaskToken, "a task of %s", arn)
	return task
}

func activityMachine(arn, extra string) string {
	return `{"StartAt":"Work","States":{"Work":{"Type":"Task","Resource":"` + arn + `",
	  "Parameters":{"doc.$":"$.doc","static":1}` + extra + `,"End":true}}}`
}

var activityChecks = []check{
	{"ActivityLifecycle", func(t *testing.T, h Harness) {
		// CreateActivity "is an idempotent API": the same name gives the
		// same activity. ListActivities pages; DescribeActivity of a
		// deleted activity is ActivityDoesNotExist.
		b := setup(t, h)
		a := activities(t, h)
		first, second := uniqueName("act-a"), uniqueName("act-b")
		one, err := a.CreateActivity(b.ctx, sfn.CreateActivityInput{Name: first})
		require.NoError(t, err)
		again, err := a.CreateActivity(b.ctx, sfn.CreateActivityInput{Name: first})
		require.NoError(t, err)
		require.Equal(t, one.ActivityARN, again.ActivityARN)
		require.Contains(t, one.ActivityARN, ":activity:"+first)
		two, err := a.CreateActivity(b.ctx, sfn.CreateActivityInput{Name: second})
		require.NoError(t, err)
		d, err := a.DescribeActivity(b.ctx, one.ActivityARN)
		require.NoError(t, err)
		require.Equal(t, first, d.Name)
		require.Equal(t, one.CreationDate.UnixMilli(), d.CreationDate.UnixMilli())

		seen := map[string]bool{}
		token := ""
		for range 100 {
			page, err := a.ListActivities(b.ctx, sfn.ListActivitiesInput{MaxResults: 1, NextToken: token})
			require.NoError(t, err)
			require.LessOrEqual(t, len(page.Activities), 1)
			for _, x := range page.Activities {
				seen[x.ActivityARN] = true
			}
			if token = page.NextToken; token == "" {
				break
			}
		}
		require.True(t, seen[one.ActivityARN] && seen[two.ActivityARN], "both activities listed")

		require.NoError(t, a.DeleteActivity(b.ctx, one.ActivityARN))
		_, err = a.DescribeActivity(b.ctx, one.ActivityARN)
		requireAPIError(t, err, sfn.CodeActivityDoesNotExist)
		_, err = a.GetActivityTask(b.ctx, sfn.GetActivityTaskInput{ActivityARN: one.ActivityARN})
		requireAPIError(t, err, sfn.CodeActivityDoesNotExist)
		_, err = a.DescribeActivity(b.ctx, "arn:aws:states:us-east-1:123456789012:stateMachine:nope")
		requireAPIError(t, err, sfn.CodeInvalidArn)
		_, err = a.CreateActivity(b.ctx, sfn.CreateActivityInput{Name: "bad name"})
		requireAPIError(t, err, sfn.CodeInvalidName)
	}},
	{"ActivityTaskGoesToAWorker", func(t *testing.T, h Harness) {
		// A worker takes the task's input with GetActivityTask, keeps it
		// alive with SendTaskHeartbeat and answers with SendTaskSuccess;
		// the history has the Activity events, the worker's name in
		// ActivityStarted.
		b := setup(t, h)
		a := activities(t, h)
		act, err := a.CreateActivity(b.ctx, sfn.CreateActivityInput{Name: uniqueName("worked")})
		require.NoError(t, err)
		sm, _ := b.createStateMachine("activity", activityMachine(act.ActivityARN, `,"TimeoutSeconds":300,"HeartbeatSeconds":60`), "")
		arn := b.start(sm, "one", `{"doc":"d-1"}`)
		task := b.takeActivityTask(a, act.ActivityARN, "worker-1")
		require.JSONEq(t, `{"doc":"d-1","static":1}`, task.Input)
		require.NoError(t, h.Service.SendTaskHeartbeat(b.ctx, task.TaskToken))
		require.NoError(t, h.Service.SendTaskSuccess(b.ctx, sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: `{"reviewed":true}`}))
		x := b.waitClosed(arn)
		require.Equal(t, sfn.StatusSucceeded, x.Status, "%s: %s", x.Error, x.Cause)
		require.JSONEq(t, `{"reviewed":true}`, x.Output)
		events := b.history(arn, false, 0)
		var types []string
		for _, e := range events {
			types = append(types, e.Type)
			switch e.Type {
			case "ActivityScheduled":
				require.NotNil(t, e.ActivityScheduled)
				require.Equal(t, act.ActivityARN, e.ActivityScheduled.Resource)
				require.EqualValues(t, 300, e.ActivityScheduled.TimeoutInSeconds)
				require.EqualValues(t, 60, e.ActivityScheduled.HeartbeatSeconds)
			case "ActivityStarted":
				require.NotNil(t, e.ActivityStarted)
				require.Equal(t, "worker-1", e.ActivityStarted.WorkerName)
			}
		}
		require.Equal(t, []string{"ExecutionStarted", "TaskStateEntered", "ActivityScheduled", "ActivityStarted",
			"ActivitySucceeded", "TaskStateExited", "ExecutionSucceeded"}, types)
	}},
	{"ActivityFailureIsCaught", func(t *testing.T, h Harness) {
		b := setup(t, h)
		a := activities(t, h)
		act, err := a.CreateActivity(b.ctx, sfn.CreateActivityInput{Name: uniqueName("failing")})
		require.NoError(t, err)
		def := `{"StartAt":"Work","States":{"Work":{"Type":"Task","Resource":"` + act.ActivityARN + `",
		  "Catch":[{"ErrorEquals":["Review.Rejected"],"ResultPath":"$.error","Next":"Rejected"}],"End":true},
		  "Rejected":{"Type":"Pass","End":true}}}`
		sm, _ := b.createStateMachine("activity-fail", def, "")
		arn := b.start(sm, "one", `{"doc":"d-2"}`)
		task := b.takeActivityTask(a, act.ActivityARN, "")
		require.NoError(t, h.Service.SendTaskFailure(b.ctx, sfn.SendTaskFailureInput{TaskToken: task.TaskToken, Error: "Review.Rejected", Cause: "no"}))
		x := b.waitClosed(arn)
		require.Equal(t, sfn.StatusSucceeded, x.Status)
		require.JSONEq(t, `{"doc":"d-2","error":{"Error":"Review.Rejected","Cause":"no"}}`, x.Output)
		types := b.historyTypes(arn)
		require.Contains(t, types, "ActivityFailed")
	}},
	{"ActivityHeartbeatTimesOut", func(t *testing.T, h Harness) {
		// HeartbeatSeconds with no heartbeat: ActivityTimedOut and
		// States.HeartbeatTimeout.
		b := setup(t, h)
		a := activities(t, h)
		act, err := a.CreateActivity(b.ctx, sfn.CreateActivityInput{Name: uniqueName("silent")})
		require.NoError(t, err)
		sm, _ := b.createStateMachine("activity-timeout", activityMachine(act.ActivityARN, `,"HeartbeatSeconds":1`), "")
		arn := b.start(sm, "one", `{"doc":"d-3"}`)
		b.takeActivityTask(a, act.ActivityARN, "sleepy")
		x := b.waitClosed(arn)
		require.Equal(t, sfn.StatusFailed, x.Status)
		require.Equal(t, "States.HeartbeatTimeout", x.Error)
		require.Contains(t, b.historyTypes(arn), "ActivityTimedOut")
	}},
	{"ActivityThatDoesNotExistFailsToSchedule", func(t *testing.T, h Harness) {
		b := setup(t, h)
		missing := "arn:aws:states:us-east-1:123456789012:activity:" + uniqueName("missing")
		sm, _ := b.createStateMachine("activity-missing", activityMachine(missing, ""), "")
		arn := b.start(sm, "one", `{"doc":"d-4"}`)
		x := b.waitClosed(arn)
		require.Equal(t, sfn.StatusFailed, x.Status)
		require.Equal(t, "States.Runtime", x.Error)
		require.Equal(t, []string{"ExecutionStarted", "TaskStateEntered", "ActivityScheduleFailed", "ExecutionFailed"}, b.historyTypes(arn))
	}},
}

func (b *bundle) historyTypes(arn string) []string {
	var types []string
	for _, e := range b.history(arn, false, 0) {
		types = append(types, e.Type)
	}
	return types
}
