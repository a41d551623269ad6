package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/uuid"

	"github.com/aiflow/aiflow/internal/apifunction"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/metrics"
	"github.com/aiflow/aiflow/internal/migratefunction"
	"github.com/aiflow/aiflow/internal/recorder"
	"github.com/aiflow/aiflow/internal/registry/health"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/stepworker"
	"github.com/aiflow/aiflow/internal/stepworker/aiworker"
	"github.com/aiflow/aiflow/internal/stepworker/mcpworker"
	"github.com/aiflow/aiflow/internal/stepworker/serviceworker"
	"github.com/aiflow/aiflow/internal/supportdesk"
)

const invokeUsage = "usage: aiflow invoke FUNCTION --event FILE [--timeout DURATION] [--keep-times]"

// invokeTarget is a function `aiflow invoke` can run: its folder under
// functions/, its logical id in template.yaml, and how its handler is
// built, the same way its main builds it.
type invokeTarget struct {
	name, logicalID string
	build           func(ctx context.Context, e env, calls *callbackLog) (lambda.Handler, func(), error)
}

// invokeTargets are the functions `aiflow invoke` knows.
var invokeTargets = []invokeTarget{
	{name: "api", logicalID: "ApiFunction", build: buildAPI},
	{name: "recorder", logicalID: "RecorderFunction", build: buildRecorder},
	{name: "mcpserver", logicalID: "McpServerFunction", build: buildMCPServer},
	{name: "aistep", logicalID: "AiStepFunction", build: buildStepWorker(config.LoadAIStep, aiworker.New)},
	{name: "mcpstep", logicalID: "McpStepFunction", build: buildStepWorker(config.LoadMCPStep, mcpworker.New)},
	{name: "servicestep", logicalID: "ServiceStepFunction", build: buildStepWorker(config.LoadServiceStep, serviceworker.New)},
	{name: "migrate", logicalID: "MigrateFunction", build: buildMigrate},
	{name: "healthcheck", logicalID: "HealthCheckFunction", build: buildHealthCheck},
}

// buildStepWorker builds a step worker's handler with the loader and the
// constructor its function's main calls.
// The worker's callbacks go through calls, so a step that failed is seen.
func buildStepWorker[C any](load func(config.LookupFunc) (C, error), newWorker func(context.Context, C, stepworker.Options) (*stepworker.Worker, error)) func(ctx context.Context, e env, calls *callbackLog) (lambda.Handler, func(), error) {
	return func(ctx context.Context, e env, calls *callbackLog) (lambda.Handler, func(), error) {
		cfg, err := load(e.lookup)
		if err != nil {
			return nil, nil, err
		}
		emf, rec, err := invokeMetrics(e)
		if err != nil {
			return nil, nil, err
		}
		w, err := newWorker(ctx, cfg, stepworker.Options{LogWriter: e.stderr, SecretsLookupFunc: e.lookup, WrapCallbacksFunc: calls.wrap, Metrics: rec})
		if err != nil {
			return nil, nil, err
		}
		return lambda.NewHandler(metrics.Flushing(emf, w.Runtime.Handle)), w.Close, nil
	}
}

// buildAPI builds the API function's entry (API Gateway requests and the
// approvals queue's messages) as functions/api does.
func buildAPI(ctx context.Context, e env, _ *callbackLog) (lambda.Handler, func(), error) {
	cfg, err := config.LoadAPIFunction(e.lookup)
	if err != nil {
		return nil, nil, err
	}
	emf, rec, err := invokeMetrics(e)
	if err != nil {
		return nil, nil, err
	}
	f, err := apifunction.New(ctx, apifunction.Options{Config: cfg, LogWriter: e.stderr, Version: versionString(), Requests: rec})
	if err != nil {
		return nil, nil, err
	}
	// The event is the operator's own, most often a sample whose token no
	// execution issued: its approval is stored without a token check (see
	// callbackLog.SendTaskHeartbeat for the step workers').
	f.Entry.Approvals.Tokens = nil
	return lambda.NewHandler(metrics.Flushing(emf, f.Entry.Handle)), f.Close, nil
}

// buildRecorder builds the recorder's handler as functions/recorder does.
func buildRecorder(ctx context.Context, e env, _ *callbackLog) (lambda.Handler, func(), error) {
	cfg, err := config.LoadRecorder(e.lookup)
	if err != nil {
		return nil, nil, err
	}
	emf, rec, err := invokeMetrics(e)
	if err != nil {
		return nil, nil, err
	}
	r, closePool, err := recorder.NewFromConfig(ctx, cfg, e.stderr, rec)
	if err != nil {
		return nil, nil, err
	}
	return lambda.NewHandler(metrics.Flushing(emf, r.Handle)), closePool, nil
}

// buildMCPServer builds the customer-support MCP server's function URL
// handler as functions/mcpserver does.
func buildMCPServer(ctx context.Context, e env, _ *callbackLog) (lambda.Handler, func(), error) {
	cfg, err := config.LoadMCPServer(e.lookup)
	if err != nil {
		return nil, nil, err
	}
	f, err := supportdesk.NewFunction(ctx, cfg, supportdesk.FunctionOptions{LogWriter: e.stderr, Version: versionString()})
	if err != nil {
		return nil, nil, err
	}
	return lambda.NewHandler(f.Handler.Handle), f.Close, nil
}

// buildHealthCheck builds the health checker's scheduled handler as
// functions/healthcheck does.
func buildHealthCheck(ctx context.Context, e env, _ *callbackLog) (lambda.Handler, func(), error) {
	cfg, err := config.LoadHealthCheck(e.lookup)
	if err != nil {
		return nil, nil, err
	}
	f, closePool, err := health.NewFunctionFromConfig(ctx, cfg, e.stderr)
	if err != nil {
		return nil, nil, err
	}
	return lambda.NewHandler(f.Handle), closePool, nil
}

// buildMigrate builds the migrations' custom resource handler as
// functions/migrate does.
func buildMigrate(ctx context.Context, e env, _ *callbackLog) (lambda.Handler, func(), error) {
	cfg, err := config.LoadMigrateFunction(e.lookup)
	if err != nil {
		return nil, nil, err
	}
	f, err := migratefunction.New(ctx, migratefunction.Options{Config: cfg, LogWriter: e.stderr})
	if err != nil {
		return nil, nil, err
	}
	return lambda.NewHandler(f.Handle), f.Close, nil
}

// findInvokeTarget returns the target named by a folder name or a logical
// id, ignoring case.
func findInvokeTarget(name string) (invokeTarget, bool) {
	for _, t := range invokeTargets {
		if strings.EqualFold(name, t.name) || strings.EqualFold(name, t.logicalID) {
			return t, true
		}
	}
	return invokeTarget{}, false
}

// invokeError is what Lambda answers for a handler's error, and so what
// `aiflow invoke` prints for one.
type invokeError struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

// cmdInvoke runs a function's handler once with an event read from a
// file, like `sam local invoke`: configuration from the environment, the
// handler built as the function's main builds it, the event decoded and
// the response encoded by aws-lambda-go as on Lambda. The event's times
// are moved to now first (shiftEventTimes) unless --keep-times is given.
// The response goes to stdout as JSON and logs to stderr. It returns 0
// when the handler answered and nothing it ran failed; 1 when it returned
// an error (printed as Lambda's error JSON), when what it ran failed (a
// step whose callback was SendTaskFailure, a message of an SQS batch left
// for a retry, an HTTP answer of status 500 or more: each said on stderr
// with its error and cause), or when it could not be built; 2 for bad
// usage.
func cmdInvoke(ctx context.Context, args []string, e env) int {
	fs := flag.NewFlagSet("aiflow invoke", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	eventFile := fs.String("event", "", "the event to invoke the function with, a JSON file (see events/)")
	timeout := fs.Duration("timeout", 30*time.Second, "the invocation's deadline, as the function's Timeout sets it on Lambda")
	keepTimes := fs.Bool("keep-times", false, "pass the event's times as they are, instead of moving them so that the latest is now")
	positional, err := parseAnywhere(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	names := make([]string, len(invokeTargets))
	for i, t := range invokeTargets {
		names[i] = t.name
	}
	if len(positional) != 1 || *eventFile == "" {
		fmt.Fprintf(e.stderr, "%s\nfunctions: %s\n", invokeUsage, strings.Join(names, ", "))
		return 2
	}
	if *timeout <= 0 {
		fmt.Fprintf(e.stderr, "aiflow invoke: --timeout %s is not positive\n", *timeout)
		return 2
	}
	target, ok := findInvokeTarget(positional[0])
	if !ok {
		fmt.Fprintf(e.stderr, "aiflow invoke: no function %q; aiflow invoke runs %s\n", positional[0], strings.Join(names, ", "))
		return 2
	}
	payload, err := os.ReadFile(*eventFile)
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow invoke: reading the event: %v\n", err)
		return 1
	}
	if !json.Valid(payload) {
		fmt.Fprintf(e.stderr, "aiflow invoke: %s is not valid JSON\n", *eventFile)
		return 1
	}
	if !*keepTimes {
		if payload, err = shiftEventTimes(payload, time.Now()); err != nil {
			fmt.Fprintf(e.stderr, "aiflow invoke: moving the times of %s to now: %v\n", *eventFile, err)
			return 1
		}
	}

	calls := &callbackLog{}
	handler, closeFunc, err := target.build(ctx, e, calls)
	if err != nil {
		var cfgErr *config.Error
		if errors.As(err, &cfgErr) {
			fmt.Fprintln(e.stderr, err) // it names the binary itself
		} else {
			fmt.Fprintf(e.stderr, "aiflow invoke %s: %v\n", target.name, err)
		}
		return 1
	}
	defer closeFunc()

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       uuid.NewString(),
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:aiflow-" + target.name,
	})
	out, err := handler.Invoke(ctx, payload)
	if err != nil {
		typ := reflect.TypeOf(err)
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		printJSON(e, invokeError{ErrorMessage: err.Error(), ErrorType: typ.Name()})
		fmt.Fprintf(e.stderr, "aiflow invoke %s: the handler returned an error (%s): %v\n", target.name, typ.Name(), err)
		return 1
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(out)
	}
	pretty.WriteByte('\n')
	_, _ = e.stdout.Write(pretty.Bytes())
	failures := append(calls.failures(), responseFailures(out, calls.errors())...)
	for _, f := range failures {
		fmt.Fprintf(e.stderr, "aiflow invoke %s: %s\n", target.name, f)
	}
	if len(failures) > 0 {
		return 1
	}
	return 0
}

// callbackLog keeps the task callbacks a step worker sent and what they
// returned. A step worker's response says only which messages to receive
// again: a step that failed and whose failure was delivered (or dropped,
// its task being gone) looks like success there.
type callbackLog struct {
	mu    sync.Mutex
	sent  []sfn.SendTaskFailureInput
	errs  []string
	inner sfn.Callbacks
}

// wrap is the worker's stepworker.Options.WrapCallbacksFunc.
func (l *callbackLog) wrap(c sfn.Callbacks) sfn.Callbacks {
	l.inner = c
	return l
}

// SendTaskSuccess sends the result and keeps its error.
func (l *callbackLog) SendTaskSuccess(ctx context.Context, in sfn.SendTaskSuccessInput) error {
	err := l.inner.SendTaskSuccess(ctx, in)
	l.keep(nil, "sending the step's result", err)
	return err
}

// SendTaskFailure sends the failure and keeps it.
func (l *callbackLog) SendTaskFailure(ctx context.Context, in sfn.SendTaskFailureInput) error {
	err := l.inner.SendTaskFailure(ctx, in)
	l.keep(&in, "sending the step's failure", err)
	return err
}

// SendTaskHeartbeat sends a heartbeat and keeps its error. A heartbeat
// that finds no task awaiting the token is answered as if one did: a step
// worker checks a message's token with a heartbeat before the step runs
// and drops a message no task awaits, but an event that invoke runs is the
// operator's own, most often a sample whose token no execution issued,
// and the point is to see its step run. Its callback is then dropped.
func (l *callbackLog) SendTaskHeartbeat(ctx context.Context, token string) error {
	err := l.inner.SendTaskHeartbeat(ctx, token)
	if sfn.TaskGone(err) {
		return nil
	}
	l.keep(nil, "checking the task token", err)
	return err
}

func (l *callbackLog) keep(failure *sfn.SendTaskFailureInput, what string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if failure != nil {
		l.sent = append(l.sent, *failure)
	}
	if err != nil {
		l.errs = append(l.errs, fmt.Sprintf("%s: %v", what, err))
	}
}

// failures says each step failure the worker sent.
func (l *callbackLog) failures() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.sent))
	for _, f := range l.sent {
		out = append(out, fmt.Sprintf("the step failed: error %s, cause: %s", f.Error, f.Cause))
	}
	return out
}

// errors returns the callbacks' errors.
func (l *callbackLog) errors() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.errs)
}

// responseFailures reads a handler's response for what failed: the
// messages of an SQS batch it leaves for a retry (why, from the
// callbacks' errors when a step worker sent them, else from its log), or
// an HTTP answer of status 500 or more.
func responseFailures(out []byte, callbackErrs []string) []string {
	var res struct {
		BatchItemFailures []struct {
			ItemIdentifier string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	if json.Unmarshal(out, &res) != nil {
		return nil
	}
	var failures []string
	if len(res.BatchItemFailures) > 0 {
		why := "the function's log above says why"
		if len(callbackErrs) > 0 {
			why = strings.Join(callbackErrs, "; ")
		}
		ids := make([]string, len(res.BatchItemFailures))
		for i, f := range res.BatchItemFailures {
			ids[i] = f.ItemIdentifier
		}
		failures = append(failures, fmt.Sprintf("message %s failed (SQS would deliver it again): %s", strings.Join(ids, ", "), why))
	}
	if res.StatusCode >= 500 {
		failures = append(failures, fmt.Sprintf("the function answered HTTP %d: %s", res.StatusCode, res.Body))
	}
	return failures
}

func printJSON(e env, v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	fmt.Fprintf(e.stdout, "%s\n", b)
}
