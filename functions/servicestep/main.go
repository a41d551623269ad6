// Command servicestep is the Lambda that runs service steps: an SQS event
// source feeds it the messages of the service-steps queue, and it answers
// each task with SendTaskSuccess or SendTaskFailure. It only wires: the
// configuration (the step settings, the database the service registry is
// read from, AIFLOW_SERVICE_SECRETS, the egress caps) comes from
// internal/config, and the worker is built once per cold start by
// internal/stepworker/serviceworker, the same handler `aiflow invoke
// servicestep` runs. It links no model SDK.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/metrics"
	"github.com/aiflow/aiflow/internal/stepworker"
	"github.com/aiflow/aiflow/internal/stepworker/serviceworker"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
)

func main() {
	cfg, err := config.LoadServiceStep(os.LookupEnv)
	if err != nil {
		exit(err)
	}
	// The invocation's metrics, written to the log as EMF lines after it.
	emf, err := metrics.NewEMF(metrics.EMFConfig{Writer: os.Stdout})
	if err != nil {
		exit(err)
	}
	w, err := serviceworker.New(context.Background(), cfg, stepworker.Options{Metrics: metrics.NewRecorder(emf)})
	if err != nil {
		exit(err)
	}
	w.Logger.Info("servicestep ready", "config", cfg)
	// Tracing is off unless OTEL_* variables ask for it (the template's
	// OtelExporterEndpoint); on, each invocation is a span whose parent is
	// the function's X-Ray trace header, flushed before it returns. The
	// invocation's metrics are written as EMF lines when it ends.
	traces, err := tracing.SetupFromEnv(os.LookupEnv, "aiflow-servicestep", nil)
	if err != nil {
		exit(err)
	}
	lambda.StartHandlerFunc(tracing.WrapLambda(tracing.LambdaParams{Provider: traces, LookupFunc: os.LookupEnv}, metrics.Flushing(emf, w.Runtime.Handle)))
}

func exit(err error) {
	fmt.Fprintln(os.Stderr, stepworker.ErrorOf("functions/servicestep", err))
	os.Exit(1)
}
