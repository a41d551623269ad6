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
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/uuid"

	"github.com/aiflow/aiflow/internal/apifunction"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/migratefunction"
	"github.com/aiflow/aiflow/internal/recorder"
	"github.com/aiflow/aiflow/internal/stepworker"
	"github.com/aiflow/aiflow/internal/stepworker/aiworker"
	"github.com/aiflow/aiflow/internal/stepworker/mcpworker"
	"github.com/aiflow/aiflow/internal/supportdesk"
)

const invokeUsage = "usage: aiflow invoke FUNCTION --event FILE [--timeout DURATION]"

// invokeTarget is a function `aiflow invoke` can run: its folder under
// functions/, its logical id in template.yaml, and how its handler is
// built, the same way its main builds it.
type invokeTarget struct {
	name, logicalID string
	build           func(ctx context.Context, e env) (lambda.Handler, func(), error)
}

// invokeTargets are the functions `aiflow invoke` knows.
var invokeTargets = []invokeTarget{
	{name: "api", logicalID: "ApiFunction", build: buildAPI},
	{name: "recorder", logicalID: "RecorderFunction", build: buildRecorder},
	{name: "mcpserver", logicalID: "McpServerFunction", build: buildMCPServer},
	{name: "aistep", logicalID: "AiStepFunction", build: buildStepWorker(config.LoadAIStep, aiworker.New)},
	{name: "mcpstep", logicalID: "McpStepFunction", build: buildStepWorker(config.LoadMCPStep, mcpworker.New)},
	{name: "migrate", logicalID: "MigrateFunction", build: buildMigrate},
}

// buildStepWorker builds a step worker's handler with the loader and the
// constructor its function's main calls.
func buildStepWorker[C any](load func(config.LookupFunc) (C, error), newWorker func(context.Context, C, stepworker.Options) (*stepworker.Worker, error)) func(ctx context.Context, e env) (lambda.Handler, func(), error) {
	return func(ctx context.Context, e env) (lambda.Handler, func(), error) {
		cfg, err := load(e.lookup)
		if err != nil {
			return nil, nil, err
		}
		w, err := newWorker(ctx, cfg, stepworker.Options{LogWriter: e.stderr, SecretsLookupFunc: e.lookup})
		if err != nil {
			return nil, nil, err
		}
		return lambda.NewHandler(w.Runtime.Handle), w.Close, nil
	}
}

// buildAPI builds the API function's entry (API Gateway requests and the
// approvals queue's messages) as functions/api does.
func buildAPI(ctx context.Context, e env) (lambda.Handler, func(), error) {
	cfg, err := config.LoadAPIFunction(e.lookup)
	if err != nil {
		return nil, nil, err
	}
	f, err := apifunction.New(ctx, apifunction.Options{Config: cfg, LogWriter: e.stderr, Version: versionString()})
	if err != nil {
		return nil, nil, err
	}
	return lambda.NewHandler(f.Entry.Handle), f.Close, nil
}

// as functions/recorder does.
func buildRecorder(ctx context.Context, e env) (lambda.Handler, func(), error) {
	cfg, err := config.LoadRecorder(e.lookup)
	if err != nil {
		return nil, nil, err
	}
	r, closePool, err := recorder.NewFromConfig(ctx, cfg, e.stderr)
	if err != nil {
		return nil, nil, err
	}
	return lambda.NewHandler(r.Handle), closePool, nil
}

// buildMCPServer builds the customer-support MCP server's function URL
// handler as functions/mcpserver does.
func buildMCPServer(ctx context.Context, e env) (lambda.Handler, func(), error) {
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

// buildMigrate builds the migrations' custom resource handler as
// functions/migrate does.
func buildMigrate(ctx context.Context, e env) (lambda.Handler, func(), error) {
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
// the response encoded by aws-lambda-go as on Lambda. The response goes
// to stdout as JSON and logs to stderr. It returns 0 when the handler
// answered, 1 when it returned an error (printed as Lambda's error JSON)
// or could not be built, 2 for bad usage.
func cmdInvoke(ctx context.Context, args []string, e env) int {
	fs := flag.NewFlagSet("aiflow invoke", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	eventFile := fs.String("event", "", "the event to invoke the function with, a JSON file (see events/)")
	timeout := fs.Duration("timeout", 30*time.Second, "the invocation's deadline, as the function's Timeout sets it on Lambda")
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

	handler, closeFunc, err := target.build(ctx, e)
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
		return 1
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(out)
	}
	pretty.WriteByte('\n')
	_, _ = e.stdout.Write(pretty.Bytes())
	return 0
}

func printJSON(e env, v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	fmt.Fprintf(e.stdout, "%s\n", b)
}
