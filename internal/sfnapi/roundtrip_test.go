package sfnapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/sfn"
)

// These tests call the same engine in process and through the HTTP API
// with the sfn adapter, and require the same answers: every field the
// Step Functions API carries survives the wire.

func TestStateMachinesRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const def = `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`
	created, err := b.client.CreateStateMachine(b.ctx, sfn.CreateStateMachineInput{
		Name: "machines-b", Definition: def, RoleARN: testRole, Type: sfn.TypeExpress,
	})
	require.NoError(t, err)
	require.Equal(t, "arn:aws:states:us-east-1:123456789012:stateMachine:machines-b", created.StateMachineARN)
	local, err := b.eng.DescribeStateMachine(b.ctx, created.StateMachineARN)
	require.NoError(t, err)
	require.Equal(t, local.CreationDate, created.CreationDate)

	remote, err := b.client.DescribeStateMachine(b.ctx, created.StateMachineARN)
	require.NoError(t, err)
	want := local
	want.UpdateDate = time.Time{} // not in the Step Functions API
	require.Equal(t, want, remote)
	require.Equal(t, sfn.TypeExpress, remote.Type)
	require.Equal(t, testRole, remote.RoleARN)
	require.Equal(t, def, remote.Definition)

	const def2 = `{"StartAt":"Q","States":{"Q":{"Type":"Succeed"}}}`
	newRole := testRole + "-2"
	updated, err := b.client.UpdateStateMachine(b.ctx, sfn.UpdateStateMachineInput{
		StateMachineARN: created.StateMachineARN, Definition: new(def2), RoleARN: &newRole,
	})
	require.NoError(t, err)
	local, err = b.eng.DescribeStateMachine(b.ctx, created.StateMachineARN)
	require.NoError(t, err)
	require.Equal(t, sfn.UpdateStateMachineOutput{UpdateDate: local.UpdateDate, RevisionID: local.RevisionID}, updated)
	require.NotEmpty(t, updated.RevisionID)
	remote, err = b.client.DescribeStateMachine(b.ctx, created.StateMachineARN)
	require.NoError(t, err)
	require.Equal(t, def2, remote.Definition)
	require.Equal(t, newRole, remote.RoleARN)
	require.Equal(t, local.RevisionID, remote.RevisionID)

	_ = b.createStateMachine(t, "machines-a", "", def)
	var names []string
	token := ""
	for {
		page, err := b.client.ListStateMachines(b.ctx, sfn.ListStateMachinesInput{MaxResults: 1, NextToken: token})
		require.NoError(t, err)
		localPage, err := b.eng.ListStateMachines(b.ctx, sfn.ListStateMachinesInput{MaxResults: 1, NextToken: token})
		require.NoError(t, err)
		require.Equal(t, localPage.NextToken, page.NextToken)
		require.Len(t, page.StateMachines, len(localPage.StateMachines))
		for i, sm := range page.StateMachines {
			l := localPage.StateMachines[i]
			// A list item of the Step Functions API has these four fields.
			require.Equal(t, sfn.StateMachine{StateMachineARN: l.StateMachineARN, Name: l.Name, Type: l.Type, CreationDate: l.CreationDate}, sm)
			names = append(names, sm.Name)
		}
		if page.NextToken == "" {
			break
		}
		token = page.NextToken
	}
	require.Equal(t, []string{"machines-a", "machines-b"}, names)

	require.NoError(t, b.client.DeleteStateMachine(b.ctx, created.StateMachineARN))
	_, remoteErr := b.client.DescribeStateMachine(b.ctx, created.StateMachineARN)
	_, localErr := b.eng.DescribeStateMachine(b.ctx, created.StateMachineARN)
	require.Error(t, localErr)
	require.Equal(t, localErr, remoteErr, "errors keep their code and message")
}

func TestValidateStateMachineDefinitionRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, def := range []string{
		`{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`,
		`{"StartAt":"Nowhere","States":{"P":{"Type":"Pass","Next":"Gone"}}}`,
		`{not json`,
	} {
		local, err := b.eng.ValidateStateMachineDefinition(b.ctx, def)
		require.NoError(t, err)
		remote, err := b.client.ValidateStateMachineDefinition(b.ctx, def)
		require.NoError(t, err)
		if len(local.Diagnostics) == 0 {
			local.Diagnostics = nil
		}
		require.Equal(t, local, remote, "validation of %s", def)
	}
	bad, err := b.client.ValidateStateMachineDefinition(b.ctx, `{"StartAt":"Nowhere","States":{"P":{"Type":"Pass","Next":"Gone"}}}`)
	require.NoError(t, err)
	require.Equal(t, "FAIL", bad.Result)
	require.NotEmpty(t, bad.Diagnostics)

	_, err = b.client.CreateStateMachine(b.ctx, sfn.CreateStateMachineInput{Name: "bad", Definition: `{not json`, RoleARN: testRole})
	var ae *sfn.Error
	require.ErrorAs(t, err, &ae)
	require.Equal(t, sfn.CodeInvalidDefinition, ae.Code)
}

// richDefinition produces events with most kinds of details: Pass with
// Assign, a Lambda function by ARN, lambda:invoke caught after a failure,
// and a Map.
const richDefinition = `{"StartAt":"Setup","States":{
	"Setup":{"Type":"Pass","Result":{"items":[1,2]},"Assign":{"greeting":"hi"},"Next":"Echo"},
	"Echo":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:Echo","TimeoutSeconds":30,"ResultPath":"$.echo","Next":"Boom"},
	"Boom":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"Boom","Payload.$":"$"},
		"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.caught","Next":"Each"}],"Next":"Each"},
	"Each":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"Inner","States":{"Inner":{"Type":"Pass","End":true}}},"ResultPath":"$.each","Next":"Done"},
	"Done":{"Type":"Succeed"}}}`

func TestExecutionRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fns.Register("Echo", func(ctx context.Context, p json.RawMessage) (json.RawMessage, error) { return p, nil })
	b.fns.Register("Boom", func(ctx context.Context, p json.RawMessage) (json.RawMessage, error) {
		return nil, &engine.FunctionError{Type: "Boom", Message: "it went boom"}
	})
	sm := b.createStateMachine(t, "rich", "", richDefinition)
	started, err := b.client.StartExecution(b.ctx, sfn.StartExecutionInput{
		StateMachineARN: sm, Name: "first", Input: `{"n":1}`, TraceHeader: "Root=1-5759e988-bd862e3fe1be46a994272793",
	})
	require.NoError(t, err)
	require.Equal(t, "arn:aws:states:us-east-1:123456789012:execution:rich:first", started.ExecutionARN)
	x := b.wait(t, started.ExecutionARN)
	require.Equal(t, sfn.StatusSucceeded, x.Status, "%s: %s", x.Error, x.Cause)
	require.Equal(t, x.StartDate, started.StartDate)

	remote, err := b.client.DescribeExecution(b.ctx, started.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, x, remote)
	require.Equal(t, "Root=1-5759e988-bd862e3fe1be46a994272793", remote.TraceHeader)
	require.JSONEq(t, `{"n":1}`, remote.Input)

	for _, in := range []sfn.GetExecutionHistoryInput{
		{ExecutionARN: started.ExecutionARN, MaxResults: 1000},
		{ExecutionARN: started.ExecutionARN, ReverseOrder: true},
		{ExecutionARN: started.ExecutionARN, ExcludeExecutionData: true},
	} {
		local, err := b.eng.GetExecutionHistory(b.ctx, in)
		require.NoError(t, err)
		remote, err := b.client.GetExecutionHistory(b.ctx, in)
		require.NoError(t, err)
		require.Equal(t, local, remote, "history %+v", in)
	}

	all, err := b.client.GetExecutionHistory(b.ctx, sfn.GetExecutionHistoryInput{ExecutionARN: started.ExecutionARN})
	require.NoError(t, err)
	kinds := map[string]bool{}
	for _, ev := range all.Events {
		kinds[ev.Type] = true
	}
	for _, k := range []string{"ExecutionStarted", "PassStateExited", "LambdaFunctionScheduled", "LambdaFunctionSucceeded",
		"TaskScheduled", "TaskStarted", "TaskFailed", "MapStateStarted", "MapIterationStarted", "MapIterationSucceeded", "ExecutionSucceeded"} {
		require.True(t, kinds[k], "the history has a %s event", k)
	}
	require.Equal(t, map[string]string{"greeting": `"hi"`}, all.Events[2].StateExited.AssignedVariables)
	require.Equal(t, sm, all.Events[0].ExecutionStarted.StateMachineARN)

	// Pages: the tokens pass through and give the same events.
	var paged []sfn.HistoryEvent
	token := ""
	for {
		page, err := b.client.GetExecutionHistory(b.ctx, sfn.GetExecutionHistoryInput{ExecutionARN: started.ExecutionARN, MaxResults: 4, NextToken: token})
		require.NoError(t, err)
		paged = append(paged, page.Events...)
		if page.NextToken == "" {
			break
		}
		token = page.NextToken
	}
	require.Equal(t, all.Events, paged)
}

func TestListExecutionsRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sm := b.createStateMachine(t, "listed", "", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Nope","Cause":"on purpose"}}}`)
	for i := range 3 {
		out, err := b.client.StartExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: sm, Name: fmt.Sprint("x", i)})
		require.NoError(t, err)
		x := b.wait(t, out.ExecutionARN)
		require.Equal(t, sfn.StatusFailed, x.Status)
	}
	for _, in := range []sfn.ListExecutionsInput{
		{StateMachineARN: sm},
		{StateMachineARN: sm, StatusFilter: sfn.StatusFailed, MaxResults: 2},
		{StateMachineARN: sm, StatusFilter: sfn.StatusRunning},
	} {
		for {
			local, err := b.eng.ListExecutions(b.ctx, in)
			require.NoError(t, err)
			remote, err := b.client.ListExecutions(b.ctx, in)
			require.NoError(t, err)
			for i := range local.Executions {
				// A list item of the Step Functions API has no error,
				// cause or trace header.
				x := &local.Executions[i]
				x.Error, x.Cause, x.TraceHeader = "", "", ""
			}
			require.Equal(t, local, remote, "list %+v", in)
			if remote.NextToken == "" {
				break
			}
			in.NextToken = remote.NextToken
		}
	}
	failed, err := b.client.DescribeExecution(b.ctx, "arn:aws:states:us-east-1:123456789012:execution:listed:x0")
	require.NoError(t, err)
	require.Equal(t, "Nope", failed.Error)
	require.Equal(t, "on purpose", failed.Cause)
	require.Empty(t, failed.Output)
	require.False(t, failed.StopDate.IsZero())
}

func TestStartSyncExecutionRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sm := b.createStateMachine(t, "sync", sfn.TypeExpress,
		`{"StartAt":"Greet","States":{"Greet":{"Type":"Pass","Parameters":{"greeting.$":"States.Format('Hello, {}!', $.name)"},"End":true}}}`)
	x, err := b.client.StartSyncExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: sm, Name: "hello", Input: `{"name":"wire"}`, TraceHeader: "Root=1-abc"})
	require.NoError(t, err)
	require.Equal(t, sfn.StatusSucceeded, x.Status)
	require.JSONEq(t, `{"greeting":"Hello, wire!"}`, x.Output)
	local, err := b.eng.DescribeExecution(b.ctx, x.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, local, x)

	standard := b.createStateMachine(t, "not-sync", "", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
	_, err = b.client.StartSyncExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: standard})
	var ae *sfn.Error
	require.ErrorAs(t, err, &ae)
	require.Equal(t, sfn.CodeStateMachineTypeNotSupport, ae.Code)
}

const callbackQueue = "https://sqs.us-east-1.amazonaws.com/123456789012/sfnapi-callback"

// callbackDefinition waits for a task token sent to callbackQueue.
const callbackDefinition = `{"StartAt":"Callback","States":{"Callback":{
	"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
	"Parameters":{"QueueUrl":"` + callbackQueue + `","MessageBody":{"taskToken.$":"$$.Task.Token"}},
	"TimeoutSeconds":60,"HeartbeatSeconds":30,"End":true}}}`

// token receives the task token of the next message on callbackQueue.
func (b *testBundle) token(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	for {
		msgs, err := b.queues.ReceiveMessage(ctx, callbackQueue, 1, time.Second)
		require.NoError(t, err)
		if len(msgs) == 0 {
			continue
		}
		var body struct {
			TaskToken string `json:"taskToken"`
		}
		require.NoError(t, json.Unmarshal([]byte(msgs[0].Body), &body))
		require.NotEmpty(t, body.TaskToken)
		return body.TaskToken
	}
}

func TestTaskCallbacksRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.queues.CreateQueue(queue.QueueConfig{Name: "sfnapi-callback", URL: callbackQueue})
	require.NoError(t, err)
	sm := b.createStateMachine(t, "callback", "", callbackDefinition)

	// Success after a heartbeat.
	ok, err := b.client.StartExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: sm, Name: "ok", Input: `{}`})
	require.NoError(t, err)
	tok := b.token(t)
	require.NoError(t, b.client.SendTaskHeartbeat(b.ctx, tok))
	require.NoError(t, b.client.SendTaskSuccess(b.ctx, sfn.SendTaskSuccessInput{TaskToken: tok, Output: `{"done":true}`}))
	x := b.wait(t, ok.ExecutionARN)
	require.Equal(t, sfn.StatusSucceeded, x.Status)
	require.JSONEq(t, `{"done":true}`, x.Output)

	// Failure.
	bad, err := b.client.StartExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: sm, Name: "bad", Input: `{}`})
	require.NoError(t, err)
	tok = b.token(t)
	require.NoError(t, b.client.SendTaskFailure(b.ctx, sfn.SendTaskFailureInput{TaskToken: tok, Error: "Worker.Failed", Cause: "no luck"}))
	x = b.wait(t, bad.ExecutionARN)
	require.Equal(t, sfn.StatusFailed, x.Status)
	require.Equal(t, "Worker.Failed", x.Error)
	require.Equal(t, "no luck", x.Cause)

	// Stopped while it waits.
	stopped, err := b.client.StartExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: sm, Name: "stopped", Input: `{}`})
	require.NoError(t, err)
	tok = b.token(t)
	stopDate, err := b.client.StopExecution(b.ctx, sfn.StopExecutionInput{ExecutionARN: stopped.ExecutionARN, Error: "Test.Stop", Cause: "enough"})
	require.NoError(t, err)
	x = b.wait(t, stopped.ExecutionARN)
	require.Equal(t, sfn.StatusAborted, x.Status)
	require.Equal(t, x.StopDate, stopDate)

	// The histories of all three, with TaskSubmitted, TaskSucceeded,
	// TaskFailed and ExecutionAborted details, read the same both ways.
	for _, arn := range []string{ok.ExecutionARN, bad.ExecutionARN, stopped.ExecutionARN} {
		local, err := b.eng.GetExecutionHistory(b.ctx, sfn.GetExecutionHistoryInput{ExecutionARN: arn})
		require.NoError(t, err)
		remote, err := b.client.GetExecutionHistory(b.ctx, sfn.GetExecutionHistoryInput{ExecutionARN: arn})
		require.NoError(t, err)
		require.Equal(t, local, remote)
	}

	// Errors of callbacks keep their codes.
	localErr := b.eng.SendTaskSuccess(b.ctx, sfn.SendTaskSuccessInput{TaskToken: tok, Output: `{}`})
	require.Error(t, localErr)
	remoteErr := b.client.SendTaskSuccess(b.ctx, sfn.SendTaskSuccessInput{TaskToken: tok, Output: `{}`})
	require.Equal(t, localErr, remoteErr)
	remoteErr = b.client.SendTaskHeartbeat(b.ctx, "not-a-token")
	var ae *sfn.Error
	require.ErrorAs(t, remoteErr, &ae)
	require.Equal(t, sfn.CodeInvalidToken, ae.Code)
}
