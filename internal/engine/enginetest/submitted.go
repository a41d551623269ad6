package enginetest

import (
	"crypto/rand"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/sfn"
)

// Checks of the history and the answers of callback tasks, from the AWS
// Step Functions documentation.
func init() {
	checks = append(checks, callbackChecks...)
}

var callbackChecks = []check{
	{"TaskSubmittedWhenTheSendSucceeds", func(t *testing.T, h Harness) {
		// Developer guide, "Wait for a Callback with Task Token": the
		// history of a callback task is TaskScheduled, TaskStarted,
		// TaskSubmitted (the message is sent, with SendMessage's result),
		// then the callback's TaskSucceeded.
		b := setup(t, h)
		ch := b.tokens()
		sm, _ := b.createStateMachine("submitted", callback(3600), "")
		arn := b.start(sm, "submitted", `{}`)
		tok := b.receiveToken(ch)
		b.waitFor("TaskSubmitted before the callback", func() bool { return slices.Contains(b.eventTypes(arn), "TaskSubmitted") })
		for _, e := range b.history(arn, false, 0) {
			if e.Type == "TaskSubmitted" {
				require.NotNil(t, e.TaskSubmitted)
				require.Equal(t, "sqs", e.TaskSubmitted.ResourceType)
				require.Equal(t, "sendMessage.waitForTaskToken", e.TaskSubmitted.Resource)
				require.Contains(t, e.TaskSubmitted.Output, `"MessageId"`)
			}
		}
		require.NoError(t, h.Service.SendTaskSuccess(b.ctx, sfn.SendTaskSuccessInput{TaskToken: tok, Output: `{"ok":true}`}))
		require.Equal(t, sfn.StatusSucceeded, b.waitClosed(arn).Status)
		require.Equal(t, []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted",
			"TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"}, b.eventTypes(arn))
		b.requireNoWorkerErrors()
	}},
	{"ForgedTokenOfAClosedExecution", func(t *testing.T, h Harness) {
		// SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat API
		// reference: InvalidToken, "The provided token is not valid";
		// TaskTimedOut, "The task token has either expired or the task
		// associated with the token has already been closed". A token the
		// service never issued is invalid even when it names an execution
		// that has closed; the token of a closed task has timed out.
		b := setup(t, h)
		ch := b.tokens()
		sm, _ := b.createStateMachine("forged", callback(3600), "")
		arn := b.start(sm, "forged", `{}`)
		tok := b.receiveToken(ch)
		random := make([]byte, 18)
		_, _ = rand.Read(random)
		forged := sfn.NewTaskToken(arn, random)
		err := h.Service.SendTaskSuccess(b.ctx, sfn.SendTaskSuccessInput{TaskToken: forged, Output: `{}`})
		requireAPIError(t, err, sfn.CodeInvalidToken)
		require.NoError(t, h.Service.SendTaskSuccess(b.ctx, sfn.SendTaskSuccessInput{TaskToken: tok, Output: `{}`}))
		require.Equal(t, sfn.StatusSucceeded, b.waitClosed(arn).Status)

		err = h.Service.SendTaskSuccess(b.ctx, sfn.SendTaskSuccessInput{TaskToken: forged, Output: `{}`})
		requireAPIError(t, err, sfn.CodeInvalidToken)
		err = h.Service.SendTaskFailure(b.ctx, sfn.SendTaskFailureInput{TaskToken: forged, Error: "E"})
		requireAPIError(t, err, sfn.CodeInvalidToken)
		err = h.Service.SendTaskHeartbeat(b.ctx, forged)
		requireAPIError(t, err, sfn.CodeInvalidToken)
		err = h.Service.SendTaskFailure(b.ctx, sfn.SendTaskFailureInput{TaskToken: tok, Error: "E"})
		requireAPIError(t, err, sfn.CodeTaskTimedOut)
		b.requireNoWorkerErrors()
	}},
}
