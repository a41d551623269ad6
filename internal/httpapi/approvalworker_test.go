package httpapi_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/httpapi"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/sfn"
)

// TestApprovalWorkerReadsTheTaskMessage: the approvals queue's worker reads
// the task message through package task: an approval step's message (with
// or without a version) becomes a pending approval; one it cannot read,
// one of a version it does not know and one holding text the gate refuses
// included, is dropped, not received again.
func TestApprovalWorkerReadsTheTaskMessage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := apistore.New(pgclustertest.Pool(t))
	worker := &httpapi.ApprovalWorker{Store: store}
	const exec = "arn:aws:states:eu-west-1:123456789012:execution:refund:run-1"
	resp, err := worker.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "v1", Body: `{"version":1,"taskToken":"tok-1","execution":{"id":"` + exec + `"},"step":{"id":"approve","kind":"approval"},"spec":{"approvers":["ops"],"timeout_seconds":60},"data":{"message":"Refund 10?"}}`},
		{MessageId: "none", Body: `{"taskToken":"tok-2","execution":{"id":"` + exec + `"},"step":{"id":"again","kind":"approval"},"spec":{"timeout_seconds":60},"data":{}}`},
		{MessageId: "v2", Body: `{"version":2,"taskToken":"tok-3","execution":{"id":"` + exec + `"},"step":{"id":"later","kind":"approval"}}`},
		{MessageId: "no-execution", Body: `{"version":1,"taskToken":"tok-4","step":{"id":"lost","kind":"approval"}}`},
		{MessageId: "bad-spec", Body: `{"version":1,"taskToken":"tok-5","execution":{"id":"` + exec + `"},"step":{"id":"odd","kind":"approval"},"spec":{"approvers":"ops"}}`},
		{MessageId: "not-json", Body: `{"taskToken":`},
		{MessageId: "nul", Body: `{"version":1,"taskToken":"tok-6","execution":{"id":"` + exec + `"},"step":{"id":"nul","kind":"approval"},"data":{"message":"Refund\u0000?"}}`},
		{MessageId: "surrogate", Body: `{"version":1,"taskToken":"tok-7","execution":{"id":"` + exec + `"},"step":{"id":"surrogate","kind":"approval"},"data":{"message":"\ud800"}}`},
	}})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)

	got, err := store.Approvals(ctx, apistore.ApprovalFilter{ExecutionARN: exec, Limit: 10})
	require.NoError(t, err)
	byStep := map[string]apistore.Approval{}
	for _, a := range got {
		byStep[a.StepID] = a
	}
	require.Len(t, byStep, 2)
	require.Equal(t, apistore.ApprovalID("tok-1"), byStep["approve"].ID)
	require.Equal(t, "Refund 10?", byStep["approve"].Message)
	require.Equal(t, []string{"ops"}, byStep["approve"].Approvers)
	require.Equal(t, "tok-2", byStep["again"].TaskToken)
	require.Empty(t, byStep["again"].Approvers)
}

// heartbeats answers the approval worker's token checks: tokens it knows
// are awaited, others InvalidToken, and "down" a connection error.
type heartbeats map[string]bool

func (h heartbeats) SendTaskHeartbeat(_ context.Context, token string) error {
	switch {
	case token == "down":
		return errors.New("connection refused")
	case !h[token]:
		return &sfn.Error{Code: sfn.CodeInvalidToken, Message: "invalid task token"}
	}
	return nil
}

// TestApprovalWorkerChecksTheToken: a message whose token no task awaits,
// or whose token is another execution's, is dropped before an approval is
// stored; one whose token cannot be checked comes again.
func TestApprovalWorkerChecksTheToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := apistore.New(pgclustertest.Pool(t))
	const exec = "arn:aws:states:eu-west-1:123456789012:execution:refund:run-9"
	other := sfn.NewTaskToken(exec+"-other", make([]byte, 18))
	worker := &httpapi.ApprovalWorker{Store: store, Tokens: heartbeats{"genuine": true, other: true}}
	msg := func(token, step string) string {
		return `{"version":1,"taskToken":"` + token + `","execution":{"id":"` + exec + `"},"step":{"id":"` + step + `","kind":"approval"},"data":{"message":"Refund?"}}`
	}
	resp, err := worker.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "genuine", Body: msg("genuine", "approve")},
		{MessageId: "forged", Body: msg("forged", "forged")},
		{MessageId: "other", Body: msg(other, "other")},
		{MessageId: "down", Body: msg("down", "down")},
	}})
	require.NoError(t, err)
	require.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "down"}}, resp.BatchItemFailures)
	got, err := store.Approvals(ctx, apistore.ApprovalFilter{ExecutionARN: exec, Limit: 10})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "approve", got[0].StepID)
}
