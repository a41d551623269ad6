package awssfn_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdksfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/awssfn"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/sfnapi"
)

// stubService answers the operations the tests need with fixed results;
// the others are not called.
type stubService struct {
	sfn.Service

	history  sfn.GetExecutionHistoryOutput
	sync     sfn.Execution
	err      error
	mu       sync.Mutex
	requests []sfn.GetExecutionHistoryInput
}

func (s *stubService) GetExecutionHistory(_ context.Context, in sfn.GetExecutionHistoryInput) (sfn.GetExecutionHistoryOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, in)
	return s.history, s.err
}

func (s *stubService) StartSyncExecution(context.Context, sfn.StartExecutionInput) (sfn.Execution, error) {
	return s.sync, s.err
}

// hostRecorder serves the API and keeps the Host of each request.
type hostRecorder struct {
	h     http.Handler
	mu    sync.Mutex
	hosts []string
}

func (r *hostRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.hosts = append(r.hosts, req.Host)
	r.mu.Unlock()
	r.h.ServeHTTP(w, req)
}

func serve(t *testing.T, svc sfn.Service) (*httptest.Server, *hostRecorder) {
	t.Helper()
	rec := &hostRecorder{h: sfnapi.NewHandler(svc, sfnapi.Options{})}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return srv, rec
}

const executionARN = "arn:aws:states:us-east-1:123456789012:execution:machine:run"

// fill sets every field of the struct v points to: strings to their
// field's name, numbers to distinct values, maps to one entry.
func fill(v reflect.Value, n *int) {
	for i := range v.NumField() {
		f := v.Field(i)
		*n++
		switch f.Kind() {
		case reflect.String:
			f.SetString(v.Type().Field(i).Name + "-value")
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(*n))
		case reflect.Map:
			f.Set(reflect.ValueOf(map[string]string{"greeting": `"hi"`}))
		default:
			panic(fmt.Sprintf("fill: unhandled kind %s of %s", f.Kind(), v.Type().Field(i).Name))
		}
	}
}

// everyDetail returns one event for each detail field of HistoryEvent,
// with every member of the details set.
func everyDetail() []sfn.HistoryEvent {
	var events []sfn.HistoryEvent
	base := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	n := 0
	typ := reflect.TypeFor[sfn.HistoryEvent]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Type.Kind() != reflect.Pointer {
			continue
		}
		ev := sfn.HistoryEvent{
			Timestamp:       base.Add(time.Duration(i) * 1234 * time.Millisecond),
			Type:            strings.TrimSuffix(strings.Split(f.Tag.Get("json"), ",")[0], "EventDetails"),
			ID:              int64(len(events) + 1),
			PreviousEventID: int64(len(events)),
		}
		d := reflect.New(f.Type.Elem())
		fill(d.Elem(), &n)
		if started, ok := d.Interface().(*sfn.ExecutionStartedDetails); ok {
			// Step Functions does not send it: the adapter takes it from
			// the execution's ARN.
			started.StateMachineARN = "arn:aws:states:us-east-1:123456789012:stateMachine:machine"
		}
		reflect.ValueOf(&ev).Elem().Field(i).Set(d)
		events = append(events, ev)
	}
	return events
}

func TestGetExecutionHistoryKeepsEveryDetail(t *testing.T) {
	t.Parallel()
	events := everyDetail()
	require.GreaterOrEqual(t, len(events), 22, "an event for each detail field")
	stub := &stubService{history: sfn.GetExecutionHistoryOutput{Events: events, NextToken: "page-2"}}
	srv, _ := serve(t, stub)
	c, err := awssfn.NewClient(t.Context(), srv.URL, "")
	require.NoError(t, err)

	in := sfn.GetExecutionHistoryInput{ExecutionARN: executionARN, MaxResults: 25, NextToken: "page-1", ReverseOrder: true, ExcludeExecutionData: true}
	got, err := awssfn.New(c).GetExecutionHistory(t.Context(), in)
	require.NoError(t, err)
	require.Equal(t, stub.history, got)
	require.Equal(t, []sfn.GetExecutionHistoryInput{in}, stub.requests, "every member of the input reaches the service")
}

func TestErrorsBecomeEngineErrors(t *testing.T) {
	t.Parallel()
	stub := &stubService{err: &sfn.Error{Code: sfn.CodeExecutionDoesNotExist, Message: "execution x does not exist"}}
	srv, _ := serve(t, stub)
	c, err := awssfn.NewClient(t.Context(), srv.URL, "")
	require.NoError(t, err)
	_, err = awssfn.New(c).GetExecutionHistory(t.Context(), sfn.GetExecutionHistoryInput{ExecutionARN: executionARN})
	require.Equal(t, stub.err, err, "a typed error of the SDK")

	stub2 := &stubService{err: &sfn.Error{Code: "SomethingNew", Message: "not in the SDK's model"}}
	srv2, _ := serve(t, stub2)
	c2, err := awssfn.NewClient(t.Context(), srv2.URL, "")
	require.NoError(t, err)
	_, err = awssfn.New(c2).GetExecutionHistory(t.Context(), sfn.GetExecutionHistoryInput{ExecutionARN: executionARN})
	require.Equal(t, stub2.err, err, "a generic API error")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = awssfn.New(c).DescribeExecution(ctx, executionARN)
	require.ErrorIs(t, err, context.Canceled, "a call that was not made")
	var ae *sfn.Error
	require.NotErrorAs(t, err, &ae)
	require.Contains(t, err.Error(), "calling Step Functions DescribeExecution")
}

func TestStartSyncExecutionWithoutHostPrefix(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	want := sfn.Execution{
		ExecutionARN:    "arn:aws:states:us-east-1:123456789012:express:machine:run:1",
		StateMachineARN: "arn:aws:states:us-east-1:123456789012:stateMachine:machine",
		Name:            "run",
		Status:          sfn.StatusSucceeded,
		StartDate:       start,
		StopDate:        start.Add(1500 * time.Millisecond),
		Input:           `{"in":1}`,
		Output:          `{"out":2}`,
		TraceHeader:     "Root=1-abc",
	}
	stub := &stubService{sync: want}
	srv, rec := serve(t, stub)

	// A client made by hand, not by NewClient, at a custom endpoint.
	c := sdksfn.New(sdksfn.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("a", "b", ""),
	})
	got, err := awssfn.New(c).StartSyncExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: want.StateMachineARN})
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Equal(t, []string{strings.TrimPrefix(srv.URL, "http://")}, rec.hosts, "no sync- prefix at a custom endpoint")
}

func TestNewClient(t *testing.T) {
	t.Parallel()
	c, err := awssfn.NewClient(t.Context(), "http://127.0.0.1:1", "")
	require.NoError(t, err)
	o := c.Options()
	require.Equal(t, "us-east-1", o.Region, "the default region at an endpoint")
	require.Equal(t, "http://127.0.0.1:1", aws.ToString(o.BaseEndpoint))
	creds, err := o.Credentials.Retrieve(t.Context())
	require.NoError(t, err)
	require.Equal(t, "local", creds.AccessKeyID, "static dummy credentials")

	c, err = awssfn.NewClient(t.Context(), "", "eu-central-1")
	require.NoError(t, err)
	require.Equal(t, "eu-central-1", c.Options().Region)
	require.Nil(t, c.Options().BaseEndpoint)
}

func TestPageSizeBeyondInt32IsRefused(t *testing.T) {
	t.Parallel()
	srv, _ := serve(t, &stubService{})
	c, err := awssfn.NewClient(t.Context(), srv.URL, "")
	require.NoError(t, err)
	// 1<<32 + 1 would wrap to 1 in an int32 and pass.
	_, err = awssfn.New(c).GetExecutionHistory(t.Context(), sfn.GetExecutionHistoryInput{ExecutionARN: executionARN, MaxResults: 1<<32 + 1})
	var ae *sfn.Error
	require.ErrorAs(t, err, &ae)
	require.Equal(t, sfn.CodeValidation, ae.Code)
	require.Contains(t, ae.Message, "maxResults")
}

// TestStateMachineLoggingAndTracing: the logging and tracing of a create
// and an update reach Step Functions in its wire format; an update that
// names neither leaves them out.
func TestStateMachineLoggingAndTracing(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	bodies := map[string]map[string]any{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		require.NoError(t, json.NewDecoder(r.Body).Decode(&body))
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSStepFunctions.")
		mu.Lock()
		if _, ok := bodies[op]; ok {
			op += "-again"
		}
		bodies[op] = body
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = io.WriteString(w, `{"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:m", "creationDate": 1, "updateDate": 1}`)
	}))
	t.Cleanup(srv.Close)
	c, err := awssfn.NewClient(t.Context(), srv.URL, "")
	require.NoError(t, err)
	a := awssfn.New(c)
	logs := &sfn.LoggingConfiguration{Level: "ERROR", LogGroupARN: "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/aiflow:*"}
	_, err = a.CreateStateMachine(t.Context(), sfn.CreateStateMachineInput{Name: "m", Definition: "{}", RoleARN: "r", Logging: logs, Tracing: true})
	require.NoError(t, err)
	on := true
	_, err = a.UpdateStateMachine(t.Context(), sfn.UpdateStateMachineInput{StateMachineARN: "arn:aws:states:us-east-1:123456789012:stateMachine:m", Logging: logs, Tracing: &on})
	require.NoError(t, err)
	_, err = a.UpdateStateMachine(t.Context(), sfn.UpdateStateMachineInput{StateMachineARN: "arn:aws:states:us-east-1:123456789012:stateMachine:m"})
	require.NoError(t, err)

	// includeExecutionData false is the API's default, which the SDK
	// leaves out.
	wantLogs := map[string]any{
		"level":        "ERROR",
		"destinations": []any{map[string]any{"cloudWatchLogsLogGroup": map[string]any{"logGroupArn": logs.LogGroupARN}}},
	}
	for _, op := range []string{"CreateStateMachine", "UpdateStateMachine"} {
		require.Equal(t, wantLogs, bodies[op]["loggingConfiguration"], op)
		require.Equal(t, map[string]any{"enabled": true}, bodies[op]["tracingConfiguration"], op)
	}
	require.NotContains(t, bodies["UpdateStateMachine-again"], "loggingConfiguration")
	require.NotContains(t, bodies["UpdateStateMachine-again"], "tracingConfiguration")
}
