package awssfn

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/aiflow/aiflow/internal/engine"
)

// historyEvent converts a history event of the client into the engine's,
// with every detail the engine's HistoryEvent has. Details the engine has
// no field for (activities, Map Runs, redrives, failures to schedule or
// start a task) are left out; the event keeps its type, id and time.
func historyEvent(ev types.HistoryEvent) engine.HistoryEvent {
	out := engine.HistoryEvent{
		Timestamp:       aws.ToTime(ev.Timestamp),
		Type:            string(ev.Type),
		ID:              ev.Id,
		PreviousEventID: ev.PreviousEventId,
	}
	if d := ev.ExecutionStartedEventDetails; d != nil {
		out.ExecutionStarted = &engine.ExecutionStartedDetails{
			Input:   aws.ToString(d.Input),
			RoleARN: aws.ToString(d.RoleArn),
		}
	}
	if d := ev.ExecutionSucceededEventDetails; d != nil {
		out.ExecutionSucceeded = &engine.OutputDetails{Output: aws.ToString(d.Output)}
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

	if d := ev.StateEnteredEventDetails; d != nil {
		out.StateEntered = &engine.StateEnteredDetails{Name: aws.ToString(d.Name), Input: aws.ToString(d.Input)}
	}
	if d := ev.StateExitedEventDetails; d != nil {
		out.StateExited = &engine.StateExitedDetails{
			Name:              aws.ToString(d.Name),
			Output:            aws.ToString(d.Output),
			AssignedVariables: d.AssignedVariables,
		}
	}

	if d := ev.TaskScheduledEventDetails; d != nil {
		out.TaskScheduled = &engine.TaskScheduledDetails{
			ResourceType:     aws.ToString(d.ResourceType),
			Resource:         aws.ToString(d.Resource),
			Region:           aws.ToString(d.Region),
			Parameters:       aws.ToString(d.Parameters),
			TimeoutInSeconds: aws.ToInt64(d.TimeoutInSeconds),
			HeartbeatSeconds: aws.ToInt64(d.HeartbeatInSeconds),
		}
	}
	if d := ev.TaskStartedEventDetails; d != nil {
		out.TaskStarted = &engine.TaskDetails{ResourceType: aws.ToString(d.ResourceType), Resource: aws.ToString(d.Resource)}
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
		out.LambdaFunctionScheduled = &engine.LambdaScheduledDetails{
			Resource:         aws.ToString(d.Resource),
			Input:            aws.ToString(d.Input),
			TimeoutInSeconds: aws.ToInt64(d.TimeoutInSeconds),
		}
	}
	if d := ev.LambdaFunctionSucceededEventDetails; d != nil {
		out.LambdaFunctionSucceeded = &engine.OutputDetails{Output: aws.ToString(d.Output)}
	}
	if d := ev.LambdaFunctionFailedEventDetails; d != nil {
		out.LambdaFunctionFailed = failure(d.Error, d.Cause)
	}
	if d := ev.LambdaFunctionTimedOutEventDetails; d != nil {
		out.LambdaFunctionTimedOut = failure(d.Error, d.Cause)
	}

	if d := ev.MapStateStartedEventDetails; d != nil {
		out.MapStateStarted = &engine.MapStateStartedDetails{Length: int(d.Length)}
	}
	out.MapIterationStarted = mapIteration(ev.MapIterationStartedEventDetails)
	out.MapIterationSucceed = mapIteration(ev.MapIterationSucceededEventDetails)
	out.MapIterationFailed = mapIteration(ev.MapIterationFailedEventDetails)
	out.MapIterationAborted = mapIteration(ev.MapIterationAbortedEventDetails)
	return out
}

func failure(errName, cause *string) *engine.FailureDetails {
	return &engine.FailureDetails{Error: aws.ToString(errName), Cause: aws.ToString(cause)}
}

func taskOutput(resourceType, resource, output *string) *engine.TaskOutputDetails {
	return &engine.TaskOutputDetails{
		ResourceType: aws.ToString(resourceType),
		Resource:     aws.ToString(resource),
		Output:       aws.ToString(output),
	}
}

func taskFailure(resourceType, resource, errName, cause *string) *engine.TaskFailureDetails {
	return &engine.TaskFailureDetails{
		ResourceType: aws.ToString(resourceType),
		Resource:     aws.ToString(resource),
		Error:        aws.ToString(errName),
		Cause:        aws.ToString(cause),
	}
}

func mapIteration(d *types.MapIterationEventDetails) *engine.MapIterationDetails {
	if d == nil {
		return nil
	}
	return &engine.MapIterationDetails{Name: aws.ToString(d.Name), Index: int(d.Index)}
}
