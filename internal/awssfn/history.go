package awssfn

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/aiflow/aiflow/internal/sfn"
)

// historyEvent converts a history event of the client into the engine's,
// with every detail the engine's HistoryEvent has. Details the engine has
// no field for (failures to schedule or
// start a task) are left out; the event keeps its type, id and time.
func historyEvent(ev types.HistoryEvent) sfn.HistoryEvent {
	out := sfn.HistoryEvent{
		Timestamp:       aws.ToTime(ev.Timestamp),
		Type:            string(ev.Type),
		ID:              ev.Id,
		PreviousEventID: ev.PreviousEventId,
	}
	if d := ev.ExecutionStartedEventDetails; d != nil {
		out.ExecutionStarted = &sfn.ExecutionStartedDetails{
			Input:   aws.ToString(d.Input),
			RoleARN: aws.ToString(d.RoleArn),

			StateMachineVersionARN: aws.ToString(d.StateMachineVersionArn),
			StateMachineAliasARN:   aws.ToString(d.StateMachineAliasArn),
		}
	}
	if d := ev.ExecutionSucceededEventDetails; d != nil {
		out.ExecutionSucceeded = &sfn.OutputDetails{Output: aws.ToString(d.Output)}
	}
	if d := ev.ExecutionFailedEventDetails; d != nil {
		out.ExecutionFailed = failure(d.Error, d.Cause)
	}
	if d := ev.ExecutionAbortedEventDetails; d != nil {
		out.ExecutionAborted = failure(d.Error, d.Cause)
	}
	if d := ev.ExecutionTimedOutEventDetails; d != nil {
		out.ExecutionTimedOut = failure(d.Error, d.Cause)
	}
	if d := ev.ExecutionRedrivenEventDetails; d != nil {
		out.ExecutionRedriven = &sfn.ExecutionRedrivenDetails{RedriveCount: int(aws.ToInt32(d.RedriveCount))}
	}

	if d := ev.StateEnteredEventDetails; d != nil {
		out.StateEntered = &sfn.StateEnteredDetails{Name: aws.ToString(d.Name), Input: aws.ToString(d.Input)}
	}
	if d := ev.StateExitedEventDetails; d != nil {
		out.StateExited = &sfn.StateExitedDetails{
			Name:              aws.ToString(d.Name),
			Output:            aws.ToString(d.Output),
			AssignedVariables: d.AssignedVariables,
		}
	}

	if d := ev.MapRunStartedEventDetails; d != nil {
		out.MapRunStarted = &sfn.MapRunStartedDetails{MapRunARN: aws.ToString(d.MapRunArn)}
	}
	if d := ev.MapRunFailedEventDetails; d != nil {
		out.MapRunFailed = failure(d.Error, d.Cause)
	}
	if d := ev.ActivityScheduledEventDetails; d != nil {
		out.ActivityScheduled = &sfn.ActivityScheduledDetails{
			Resource: aws.ToString(d.Resource), Input: aws.ToString(d.Input),
			TimeoutInSeconds: aws.ToInt64(d.TimeoutInSeconds), HeartbeatSeconds: aws.ToInt64(d.HeartbeatInSeconds),
		}
	}
	if d := ev.ActivityStartedEventDetails; d != nil {
		out.ActivityStarted = &sfn.ActivityStartedDetails{WorkerName: aws.ToString(d.WorkerName)}
	}
	if d := ev.ActivitySucceededEventDetails; d != nil {
		out.ActivitySucceeded = &sfn.OutputDetails{Output: aws.ToString(d.Output)}
	}
	if d := ev.ActivityFailedEventDetails; d != nil {
		out.ActivityFailed = failure(d.Error, d.Cause)
	}
	if d := ev.ActivityTimedOutEventDetails; d != nil {
		out.ActivityTimedOut = failure(d.Error, d.Cause)
	}
	if d := ev.ActivityScheduleFailedEventDetails; d != nil {
		out.ActivityScheduleFailed = failure(d.Error, d.Cause)
	}

	if d := ev.TaskScheduledEventDetails; d != nil {
		out.TaskScheduled = &sfn.TaskScheduledDetails{
			ResourceType:     aws.ToString(d.ResourceType),
			Resource:         aws.ToString(d.Resource),
			Region:           aws.ToString(d.Region),
			Parameters:       aws.ToString(d.Parameters),
			TimeoutInSeconds: aws.ToInt64(d.TimeoutInSeconds),
			HeartbeatSeconds: aws.ToInt64(d.HeartbeatInSeconds),
		}
	}
	if d := ev.TaskStartedEventDetails; d != nil {
		out.TaskStarted = &sfn.TaskDetails{ResourceType: aws.ToString(d.ResourceType), Resource: aws.ToString(d.Resource)}
	}
	if d := ev.TaskSubmittedEventDetails; d != nil {
		out.TaskSubmitted = taskOutput(d.ResourceType, d.Resource, d.Output)
	}
	if d := ev.TaskSucceededEventDetails; d != nil {
		out.TaskSucceeded = taskOutput(d.ResourceType, d.Resource, d.Output)
	}
	if d := ev.TaskFailedEventDetails; d != nil {
		out.TaskFailed = taskFailure(d.ResourceType, d.Resource, d.Error, d.Cause)
	}
	if d := ev.TaskTimedOutEventDetails; d != nil {
		out.TaskTimedOut = taskFailure(d.ResourceType, d.Resource, d.Error, d.Cause)
	}

	if d := ev.LambdaFunctionScheduledEventDetails; d != nil {
		out.LambdaFunctionScheduled = &sfn.LambdaScheduledDetails{
			Resource:         aws.ToString(d.Resource),
			Input:            aws.ToString(d.Input),
			TimeoutInSeconds: aws.ToInt64(d.TimeoutInSeconds),
		}
	}
	if d := ev.LambdaFunctionSucceededEventDetails; d != nil {
		out.LambdaFunctionSucceeded = &sfn.OutputDetails{Output: aws.ToString(d.Output)}
	}
	if d := ev.LambdaFunctionFailedEventDetails; d != nil {
		out.LambdaFunctionFailed = failure(d.Error, d.Cause)
	}
	if d := ev.LambdaFunctionTimedOutEventDetails; d != nil {
		out.LambdaFunctionTimedOut = failure(d.Error, d.Cause)
	}

	if d := ev.MapStateStartedEventDetails; d != nil {
		out.MapStateStarted = &sfn.MapStateStartedDetails{Length: int(d.Length)}
	}
	out.MapIterationStarted = mapIteration(ev.MapIterationStartedEventDetails)
	out.MapIterationSucceed = mapIteration(ev.MapIterationSucceededEventDetails)
	out.MapIterationFailed = mapIteration(ev.MapIterationFailedEventDetails)
	out.MapIterationAborted = mapIteration(ev.MapIterationAbortedEventDetails)
	return out
}

func failure(errName, cause *string) *sfn.FailureDetails {
	return &sfn.FailureDetails{Error: aws.ToString(errName), Cause: aws.ToString(cause)}
}

func taskOutput(resourceType, resource, output *string) *sfn.TaskOutputDetails {
	return &sfn.TaskOutputDetails{
		ResourceType: aws.ToString(resourceType),
		Resource:     aws.ToString(resource),
		Output:       aws.ToString(output),
	}
}

func taskFailure(resourceType, resource, errName, cause *string) *sfn.TaskFailureDetails {
	return &sfn.TaskFailureDetails{
		ResourceType: aws.ToString(resourceType),
		Resource:     aws.ToString(resource),
		Error:        aws.ToString(errName),
		Cause:        aws.ToString(cause),
	}
}

func mapIteration(d *types.MapIterationEventDetails) *sfn.MapIterationDetails {
	if d == nil {
		return nil
	}
	return &sfn.MapIterationDetails{Name: aws.ToString(d.Name), Index: int(d.Index)}
}
