package sqsapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/awsjson/awsjsontest"
	"github.com/aiflow/aiflow/internal/sqsapi"
)

// rawResponse is an answer read off the wire.
type rawResponse struct {
	status int
	header http.Header
	body   map[string]any
}

// post sends one raw request to the server at url.
func post(t *testing.T, url, target, contentType, body string) rawResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := rawResponse{status: resp.StatusCode, header: resp.Header}
	require.NoError(t, json.Unmarshal(raw, &r.body), "%s", raw)
	return r
}

// requireError checks an error answer's status, __type, query error and
// message.
func requireError(t *testing.T, r rawResponse, status int, typ, query, mentions string) {
	t.Helper()
	require.Equal(t, status, r.status, "%v", r.body)
	require.Equal(t, typ, r.body["__type"])
	require.Equal(t, query, r.header.Get("x-amzn-query-error"))
	require.Equal(t, "application/x-amz-json-1.0", r.header.Get("Content-Type"))
	require.NotEmpty(t, r.header.Get("x-amzn-RequestId"))
	require.Contains(t, r.body["message"], mentions)
}

func TestProtocol(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const json10 = "application/x-amz-json-1.0"

	t.Run("success", func(t *testing.T) {
		t.Parallel()
		r := post(t, b.srv.URL, "AmazonSQS.CreateQueue", json10, `{"QueueName":"raw"}`)
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, b.srv.URL+"/123456789012/raw", r.body["QueueUrl"])
		require.NotEmpty(t, r.header.Get("x-amzn-RequestId"))
		// The queue's URL reaches the API as well as the endpoint does.
		r = post(t, b.srv.URL+"/123456789012/raw", "AmazonSQS.ListQueues", json10, `{}`)
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, []any{b.srv.URL + "/123456789012/raw"}, r.body["QueueUrls"])
	})
	t.Run("queue does not exist", func(t *testing.T) {
		t.Parallel()
		r := post(t, b.srv.URL, "AmazonSQS.GetQueueUrl", json10, `{"QueueName":"nope"}`)
		requireError(t, r, 400, "com.amazonaws.sqs#QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue;Sender", `"nope"`)
	})
	t.Run("malformed body", func(t *testing.T) {
		t.Parallel()
		r := post(t, b.srv.URL, "AmazonSQS.ListQueues", json10, `{"QueueNamePrefix":`)
		requireError(t, r, 400, "com.amazon.coral.service#SerializationException", "SerializationException;Sender", "not a JSON object")
	})
	t.Run("member of the wrong type", func(t *testing.T) {
		t.Parallel()
		r := post(t, b.srv.URL, "AmazonSQS.ReceiveMessage", json10, `{"QueueUrl":"u","MaxNumberOfMessages":"ten"}`)
		requireError(t, r, 400, "com.amazon.coral.service#SerializationException", "SerializationException;Sender", "MaxNumberOfMessages")
	})
	t.Run("unknown member", func(t *testing.T) {
		t.Parallel()
		r := post(t, b.srv.URL, "AmazonSQS.GetQueueUrl", json10, `{"QueueName":"raw","Colour":"blue"}`)
		requireError(t, r, 400, "com.amazon.coral.service#SerializationException", "SerializationException;Sender", "unknown member Colour")
	})
	t.Run("missing member", func(t *testing.T) {
		t.Parallel()
		r := post(t, b.srv.URL, "AmazonSQS.DeleteMessage", json10, `{"QueueUrl":"u"}`)
		requireError(t, r, 400, "com.amazonaws.sqs#MissingParameter", "MissingParameter;Sender", "ReceiptHandle")
	})
	t.Run("unknown action", func(t *testing.T) {
		t.Parallel()
		r := post(t, b.srv.URL, "AmazonSQS.SendPostcard", json10, `{}`)
		requireError(t, r, 400, "com.amazon.coral.service#UnknownOperationException", "UnknownOperationException;Sender", "AmazonSQS.SendPostcard")
		r = post(t, b.srv.URL, "AWSStepFunctions.ListQueues", json10, `{}`)
		requireError(t, r, 400, "com.amazon.coral.service#UnknownOperationException", "UnknownOperationException;Sender", "AWSStepFunctions.ListQueues")
		r = post(t, b.srv.URL, "", json10, `{}`)
		requireError(t, r, 400, "com.amazon.coral.service#UnknownOperationException", "UnknownOperationException;Sender", "missing X-Amz-Target")
	})
	t.Run("action SQS has and the local queues do not", func(t *testing.T) {
		t.Parallel()
		r := post(t, b.srv.URL, "AmazonSQS.TagQueue", json10, `{}`)
		requireError(t, r, 400, "com.amazonaws.sqs#UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation;Sender", "tags")
	})
	t.Run("content type", func(t *testing.T) {
		t.Parallel()
		r := post(t, b.srv.URL, "AmazonSQS.ListQueues", "text/plain", `{}`)
		requireError(t, r, 400, "com.amazon.coral.service#SerializationException", "SerializationException;Sender", "text/plain")
	})
	t.Run("method", func(t *testing.T) {
		t.Parallel()
		resp, err := http.Get(b.srv.URL)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
		require.Equal(t, http.MethodPost, resp.Header.Get("Allow"))
	})
}

func TestInternalFailure(t *testing.T) {
	t.Parallel()
	logs := &awsjsontest.Buffer{}
	// A Broker whose every method panics (a nil interface inside).
	h := sqsapi.NewHandler(struct{ sqsapi.Broker }{}, sqsapi.Options{
		Logger:        newLogger(logs),
		RequestIDFunc: func() string { return "req-1" },
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	r := post(t, srv.URL, "AmazonSQS.ListQueues", "application/x-amz-json-1.0", `{}`)
	requireError(t, r, 500, "com.amazon.coral.service#InternalFailure", "InternalFailure;Receiver", "req-1")
	require.NotContains(t, r.body["message"], "nil pointer", "the failure's text stays in the log")
	require.Contains(t, logs.String(), "nil pointer")
	require.Equal(t, "req-1", r.header.Get("x-amzn-RequestId"))
}
