package awslambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/awslambda"
	"github.com/aiflow/aiflow/internal/sfn"
)

// fakeLambda serves the Lambda Invoke REST API
// (POST /2015-03-31/functions/{FunctionName}/invocations) with the
// response shapes of the Lambda API reference, for a few functions.
type fakeLambda struct {
	mu       sync.Mutex
	requests []*http.Request
	bodies   [][]byte
}

func (f *fakeLambda) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, r)
	f.bodies = append(f.bodies, body)
	f.mu.Unlock()

	w.Header().Set("X-Amzn-Requestid", "7b0a3f3e-2b5f-4d0b-9d0c-1a2b3c4d5e6f")
	fail := func(status int, errorType, doc string) {
		w.Header().Set("X-Amzn-Errortype", errorType)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, doc)
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/2015-03-31/functions/") || !strings.HasSuffix(r.URL.Path, "/invocations") {
		fail(http.StatusNotFound, "UnknownOperationException", `{"Type":"User","message":"Unknown operation"}`)
		return
	}
	name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/2015-03-31/functions/"), "/invocations")
	switch name {
	case "echo", "arn:aws:lambda:us-east-1:123456789012:function:echo:live":
		version := "$LATEST"
		if strings.HasSuffix(name, ":live") {
			version = "3"
		}
		w.Header().Set("X-Amz-Executed-Version", version)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	case "fails":
		w.Header().Set("X-Amz-Executed-Version", "$LATEST")
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"errorMessage":"ticket T-1 has no customer","errorType":"ValidationError"}`)
	case "throttled":
		w.Header().Set("Retry-After", "1")
		fail(http.StatusTooManyRequests, "TooManyRequestsException",
			`{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}`)
	case "broken":
		fail(http.StatusInternalServerError, "ServiceException", `{"Type":"Service","message":"An internal error occurred."}`)
	case "unmodeled":
		fail(http.StatusBadGateway, "SomeNewException", `{"Type":"Service","message":"Something new went wrong."}`)
	case "silent":
		w.WriteHeader(http.StatusServiceUnavailable)
	default:
		fail(http.StatusNotFound, "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.awsgir/",
			`{"Type":"User","message":"Function not found: arn:aws:lambda:us-east-1:123456789012:function:`+name+`"}`)
	}
}

func (f *fakeLambda) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

type testBundle struct {
	fake    *fakeLambda
	server  *httptest.Server
	invoker *awslambda.Invoker
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	fake := &fakeLambda{}
	server := httptest.NewServer(fake)
	t.Cleanup(server.Close)
	client, err := awslambda.NewClient(t.Context(), server.URL, "us-east-1")
	require.NoError(t, err)
	return &testBundle{fake: fake, server: server, invoker: awslambda.New(client)}
}

func TestInvokeSucceeds(t *testing.T) {
	t.Parallel()
	tb := setup(t)

	res, err := tb.invoker.Invoke(t.Context(), sfn.InvokeParams{
		FunctionName:  "echo",
		Payload:       []byte(`{"ticket":"T-1"}`),
		ClientContext: "eyJjdXN0b20iOnsic3RlcCI6ImNsYXNzaWZ5In19",
	})
	require.NoError(t, err)
	require.Equal(t, sfn.InvokeResult{StatusCode: 200, Payload: []byte(`{"ticket":"T-1"}`), ExecutedVersion: "$LATEST"}, res)

	require.Equal(t, 1, tb.fake.calls())
	r := tb.fake.requests[0]
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, "/2015-03-31/functions/echo/invocations", r.URL.Path)
	require.Equal(t, "RequestResponse", r.Header.Get("X-Amz-Invocation-Type"))
	require.Equal(t, "eyJjdXN0b20iOnsic3RlcCI6ImNsYXNzaWZ5In19", r.Header.Get("X-Amz-Client-Context"))
	require.True(t, strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=local/"), "signed with the dummy credentials: %s", r.Header.Get("Authorization"))
	require.Contains(t, r.Header.Get("Authorization"), "/us-east-1/lambda/aws4_request")
	require.JSONEq(t, `{"ticket":"T-1"}`, string(tb.fake.bodies[0]))
}

func TestInvokeQualifiedARN(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	res, err := tb.invoker.Invoke(t.Context(), sfn.InvokeParams{
		FunctionName: "arn:aws:lambda:us-east-1:123456789012:function:echo:live",
		Payload:      []byte(`[1,2]`),
	})
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, "3", res.ExecutedVersion)
	require.Equal(t, `[1,2]`, string(res.Payload))
}

func TestInvokeFunctionError(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	res, err := tb.invoker.Invoke(t.Context(), sfn.InvokeParams{FunctionName: "fails", Payload: []byte(`{}`)})
	require.NoError(t, err, "a function error is a result, not a failed call")
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, "Unhandled", res.FunctionError)
	require.Equal(t, "$LATEST", res.ExecutedVersion)
	var doc struct{ ErrorType, ErrorMessage string }
	require.NoError(t, json.Unmarshal(res.Payload, &doc))
	require.Equal(t, "ValidationError", doc.ErrorType)
	require.Equal(t, "ticket T-1 has no customer", doc.ErrorMessage)
}

func TestInvokeServiceErrors(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	// One attempt per call: retries are the state machine's business.
	t.Cleanup(func() { require.Equal(t, 5, tb.fake.calls()) })
	for _, tc := range []struct {
		function string
		name     string
		message  string
		status   int
	}{
		{"missing", "Lambda.ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:123456789012:function:missing", 404},
		{"throttled", "Lambda.TooManyRequestsException", "Rate Exceeded.", 429},
		{"broken", "Lambda.ServiceException", "An internal error occurred.", 500},
		{"unmodeled", "Lambda.SomeNewException", "Something new went wrong.", 502},
		{"silent", "Lambda.ServiceException", "invoking function silent failed with HTTP status 503", 503},
	} {
		t.Run(tc.function, func(t *testing.T) {
			t.Parallel()
			_, err := tb.invoker.Invoke(t.Context(), sfn.InvokeParams{FunctionName: tc.function, Payload: []byte(`{}`)})
			var le *awslambda.Error
			require.ErrorAs(t, err, &le)
			require.Equal(t, tc.name, le.ErrorName())
			require.Equal(t, tc.message, le.Message)
			require.Equal(t, tc.status, le.StatusCode)
			require.Equal(t, tc.name+": "+tc.message, err.Error())

			// The engine finds the name through an interface.
			var named interface{ ErrorName() string }
			require.True(t, errors.As(err, &named))
		})
	}
}

func TestInvokeUnreachable(t *testing.T) {
	t.Parallel()
	server := httptest.NewServer(http.NotFoundHandler())
	url := server.URL
	server.Close()
	client, err := awslambda.NewClient(t.Context(), url, "us-east-1")
	require.NoError(t, err)
	_, err = awslambda.New(client).Invoke(t.Context(), sfn.InvokeParams{FunctionName: "echo"})
	var le *awslambda.Error
	require.ErrorAs(t, err, &le)
	require.Equal(t, "Lambda.SdkClientException", le.ErrorName())
	require.Contains(t, le.Message, "invoking function echo")
}

func TestInvokeCanceled(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := tb.invoker.Invoke(ctx, sfn.InvokeParams{FunctionName: "echo"})
	require.ErrorIs(t, err, context.Canceled)
	var named interface{ ErrorName() string }
	require.False(t, errors.As(err, &named), "a canceled call is the caller's doing, not a task error")
}

func TestInvokeBadInput(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	_, err := tb.invoker.Invoke(t.Context(), sfn.InvokeParams{})
	var le *awslambda.Error
	require.ErrorAs(t, err, &le)
	require.Equal(t, "Lambda.InvalidParameterValueException", le.ErrorName())
	require.Zero(t, tb.fake.calls())

	_, err = awslambda.NewClient(t.Context(), tb.server.URL, "")
	require.ErrorContains(t, err, "region is empty")
}
