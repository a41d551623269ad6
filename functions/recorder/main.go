// Command recorder is the Lambda that copies the history of Step Functions
// executions into the event store: an EventBridge rule sends it every
// "Step Functions Execution Status Change" event of the stack's state
// machines, and it reads the execution's history with GetExecutionHistory
// and appends what is new (see internal/recorder). It only wires: the
// recorder is built once per cold start.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/metrics"
	"github.com/aiflow/aiflow/internal/recorder"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
)

func main() {
	cfg, err := config.LoadRecorder(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // it names the binary itself
		os.Exit(1)
	}
	// The executions and states of the events each invocation stores are
	// counted, and written after it as EMF lines on standard output.
	emf, err := metrics.NewEMF(metrics.EMFConfig{Writer: os.Stdout})
	if err != nil {
		fmt.Fprintf(os.Stderr, "functions/recorder: %v\n", err)
		os.Exit(1)
	}
	r, closePool, err := recorder.NewFromConfig(context.Background(), cfg, os.Stderr, metrics.NewRecorder(emf))
	if err != nil {
		fmt.Fprintf(os.Stderr, "functions/recorder: %v\n", err)
		os.Exit(1)
	}
	defer closePool()
	// Tracing is off unless OTEL_* variables ask for it (the template's
	// OtelExporterEndpoint); on, each invocation is a span whose parent is
	// the function's X-Ray trace header, flushed before it returns.
	traces, err := tracing.SetupFromEnv(os.LookupEnv, "aiflow-recorder", nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "functions/recorder: %v\n", err)
		os.Exit(1)
	}
	lambda.StartHandlerFunc(tracing.WrapLambda(tracing.LambdaParams{Provider: traces, LookupFunc: os.LookupEnv}, metrics.Flushing(emf, r.Handle)))
}
