// Command api is the HTTP API Lambda behind API Gateway (HTTP API, payload
// format 2.0). It only wires: the function is built once per cold start by
// internal/apifunction (the same handler `aiflow invoke api` runs), and
// every request goes to internal/httpapi. Subscribed to the approvals queue
// as well, it stores the approval steps' messages (httpapi.Entry tells the
// two kinds of event apart).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aiflow/aiflow/internal/apifunction"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/metrics"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
)

func main() {
	cfg, err := config.LoadAPIFunction(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // it names the binary itself
		os.Exit(1)
	}
	// The invocation's metrics, written to the log as EMF lines after it.
	emf, err := metrics.NewEMF(metrics.EMFConfig{Writer: os.Stdout})
	if err != nil {
		fmt.Fprintf(os.Stderr, "functions/api: %v\n", err)
		os.Exit(1)
	}
	f, err := apifunction.New(context.Background(), apifunction.Options{Config: cfg, Requests: metrics.NewRecorder(emf)})
	if err != nil {
		fmt.Fprintf(os.Stderr, "functions/api: %v\n", err)
		os.Exit(1)
	}
	// Tracing is off unless OTEL_* variables ask for it (the template's
	// OtelExporterEndpoint); on, each invocation is a span whose parent is
	// the function's X-Ray trace header, flushed before it returns.
	traces, err := tracing.SetupFromEnv(os.LookupEnv, "aiflow-api", nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "functions/api: %v\n", err)
		os.Exit(1)
	}
	lambda.StartHandlerFunc(tracing.WrapLambda(tracing.LambdaParams{Provider: traces, LookupFunc: os.LookupEnv}, metrics.Flushing(emf, f.Entry.Handle)))
}
