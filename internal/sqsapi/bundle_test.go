package sqsapi_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/awsjson/awsjsontest"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/sqsapi"
	"github.com/aiflow/aiflow/internal/sqsapi/sqsqueue"
)

// testBundle is a real queue broker served over loopback HTTP, and an SDK
// client that talks to it.
type testBundle struct {
	ctx    context.Context
	broker *queue.Broker
	srv    *httptest.Server
	sqs    *sqs.Client
	logs   *awsjsontest.Buffer
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	b := &testBundle{ctx: t.Context(), logs: &awsjsontest.Buffer{}}
	b.broker = queue.New(queue.Config{})
	t.Cleanup(func() { require.NoError(t, b.broker.Close()) })
	logger := newLogger(b.logs)
	b.srv = httptest.NewUnstartedServer(nil)
	base := "http://" + b.srv.Listener.Addr().String()
	b.srv.Config.Handler = sqsapi.NewHandler(sqsqueue.New(b.broker), sqsapi.Options{
		Logger:       logger,
		QueueURLFunc: func(name string) string { return base + "/123456789012/" + name },
	})
	b.srv.Start()
	t.Cleanup(b.srv.Close)
	b.sqs = newClient(b.srv.URL)
	return b
}

// newLogger logs everything to w.
func newLogger(w *awsjsontest.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newClient is the SDK's SQS client at endpoint, as a function reaching
// the stack through AWS_ENDPOINT_URL_SQS would make it.
func newClient(endpoint string) *sqs.Client {
	return sqs.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(endpoint),
	})
}

// createQueue creates a queue through the API.
func (b *testBundle) createQueue(t *testing.T, name string, attrs map[string]string) string {
	t.Helper()
	out, err := b.sqs.CreateQueue(b.ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(*out.QueueUrl, "/123456789012/"+name), *out.QueueUrl)
	return *out.QueueUrl
}

// send sends one body and returns the message id.
func (b *testBundle) send(t *testing.T, url, body string) string {
	t.Helper()
	out, err := b.sqs.SendMessage(b.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)})
	require.NoError(t, err)
	return *out.MessageId
}
