package httpapi_test

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/httpapi"
)

// TestApprovalWorkerReportsEveryApprovalItCouldNotStore: when the batch
// cannot be stored, nor any approval alone, every message of it comes
// again.
func TestApprovalWorkerReportsEveryApprovalItCouldNotStore(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 1: every statement fails to connect.
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	worker := &httpapi.ApprovalWorker{Store: apistore.New(pool)}
	const exec = "arn:aws:states:eu-west-1:123456789012:execution:refund:run-3"
	msg := func(token string) string {
		return `{"version":1,"taskToken":"` + token + `","execution":{"id":"` + exec + `"},"step":{"id":"approve","kind":"approval"},"data":{"message":"Refund?"}}`
	}
	resp, err := worker.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "a", Body: msg("tok-a")}, {MessageId: "b", Body: msg("tok-b")}, {MessageId: "not-json", Body: `{`},
	}})
	require.NoError(t, err)
	require.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "a"}, {ItemIdentifier: "b"}}, resp.BatchItemFailures)
}
