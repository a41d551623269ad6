package sfnapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdksfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/awsjson/awsjsontest"
	"github.com/aiflow/aiflow/internal/awssfn"
	"github.com/aiflow/aiflow/internal/clock"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/sfnapi"
)

// testBundle is a real engine (in memory) served over loopback HTTP, and
// the clients that talk to it.
type testBundle struct {
	ctx    context.Context
	eng    *engine.Engine
	fns    *engine.FunctionRegistry
	queues *queue.Broker
	srv    *httptest.Server
	// sfn is the SDK client at the server; client the adapter over it.
	sfn    *sdksfn.Client
	client *awssfn.Client
	logs   *awsjsontest.Buffer
}

// milliClock is the system clock to the millisecond, the precision of the
// wire's timestamps, so that what the engine says in process and what
// the HTTP API says compare equal.
type milliClock struct{ clock.System }

func (milliClock) Now() time.Time { return time.Now().Truncate(time.Millisecond) }

type setupOptions struct {
	// wrap, if set, wraps the engine before it is served.
	wrap func(sfn.Service) sfn.Service
	// maxBody is Options.MaxBodyBytes.
	maxBody int64
}

func setup(t *testing.T) *testBundle { t.Helper(); return setupWith(t, setupOptions{}) }

func setupWith(t *testing.T, o setupOptions) *testBundle {
	t.Helper()
	ctx := t.Context()
	b := &testBundle{ctx: ctx, fns: &engine.FunctionRegistry{}, logs: &awsjsontest.Buffer{}}
	b.queues = queue.New(queue.Config{})
	t.Cleanup(func() { require.NoError(t, b.queues.Close()) })
	eng, err := engine.New(engine.Config{
		Store:     engine.NewMemoryStore(),
		Functions: b.fns,
		Queues:    b.queues,
		Clock:     milliClock{},
	})
	require.NoError(t, err)
	require.NoError(t, eng.Start(ctx))
	t.Cleanup(func() { _ = eng.Close() }) // some tests close it themselves
	b.eng = eng

	var svc sfn.Service = eng
	if o.wrap != nil {
		svc = o.wrap(eng)
	}
	logger := slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b.srv = httptest.NewServer(sfnapi.NewHandler(svc, sfnapi.Options{Logger: logger, MaxBodyBytes: o.maxBody}))
	t.Cleanup(b.srv.Close)

	b.sfn, err = awssfn.NewClient(ctx, b.srv.URL, "")
	require.NoError(t, err)
	b.client = awssfn.New(b.sfn)
	return b
}

// createStateMachine creates a state machine through the adapter.
func (b *testBundle) createStateMachine(t *testing.T, name, typ, definition string) string {
	t.Helper()
	out, err := b.client.CreateStateMachine(b.ctx, sfn.CreateStateMachineInput{
		Name: name, Definition: definition, RoleARN: testRole, Type: typ,
	})
	require.NoError(t, err)
	return out.StateMachineARN
}

// wait waits for an execution to close and its end to be written.
func (b *testBundle) wait(t *testing.T, arn string) sfn.Execution {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, b.eng.Wait(ctx, arn))
	x, err := b.eng.DescribeExecution(b.ctx, arn)
	require.NoError(t, err)
	return x
}

// rawResponse is an answer of the API to a hand-made request.
type rawResponse struct {
	status int
	header http.Header
	body   map[string]any
}

// post sends a hand-made request to the API.
func (b *testBundle) post(t *testing.T, target, body string, header ...string) rawResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(b.ctx, http.MethodPost, b.srv.URL+"/", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(t, req)
}

func (b *testBundle) do(t *testing.T, req *http.Request) rawResponse {
	t.Helper()
	resp, err := b.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := rawResponse{status: resp.StatusCode, header: resp.Header}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&r.body), "response body %q", data)
	require.NotEmpty(t, resp.Header.Get("x-amzn-RequestId"), "every response has a request id")
	require.Equal(t, "application/x-amz-json-1.0", resp.Header.Get("Content-Type"))
	return r
}

// requireError requires an error response of the AWS JSON protocol with
// the type, and a message that contains each of contains.
func (r rawResponse) requireError(t *testing.T, status int, code string, contains ...string) {
	t.Helper()
	require.Equal(t, status, r.status, "status of %v", r.body)
	require.Equal(t, code, r.header.Get("x-amzn-ErrorType"))
	require.Equal(t, "com.amazonaws.swf.service.v2.model#"+code, r.body["__type"])
	msg, _ := r.body["message"].(string)
	for _, c := range contains {
		require.Contains(t, msg, c)
	}
}

const testRole = "arn:aws:iam::123456789012:role/sfnapi-test"
