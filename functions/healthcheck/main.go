// Command healthcheck is the Lambda that runs the registered services'
// active health checks: a schedule invokes it every minute, and each
// invocation checks each instance at its service's interval for most of
// the minute, flips statuses at the thresholds, marks instances whose
// heartbeat expired and ends ejections (see internal/registry/health). It
// only wires: the checker is built once per cold start.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/registry/health"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
)

func main() {
	cfg, err := config.LoadHealthCheck(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // it names the binary itself
		os.Exit(1)
	}
	f, closePool, err := health.NewFunctionFromConfig(context.Background(), cfg, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "functions/healthcheck: %v\n", err)
		os.Exit(1)
	}
	defer closePool()
	// Tracing is off unless OTEL_* variables ask for it (the template's
	// OtelExporterEndpoint); on, each invocation is a span whose parent is
	// the function's X-Ray trace header, flushed before it returns.
	traces, err := tracing.SetupFromEnv(os.LookupEnv, "aiflow-healthcheck", nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "functions/healthcheck: %v\n", err)
		os.Exit(1)
	}
	lambda.StartHandlerFunc(tracing.WrapLambda(tracing.LambdaParams{Provider: traces, LookupFunc: os.LookupEnv}, f.Handle))
}
