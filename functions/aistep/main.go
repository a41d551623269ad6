// Command aistep is the Lambda that runs ai steps: an SQS event source
// feeds it the messages of the ai-steps queue, and it answers each task
// with SendTaskSuccess or SendTaskFailure. It only wires: the configuration
// comes from internal/config, the worker is built once per cold start by
// internal/stepworker/aiworker (the same handler `aiflow invoke aistep`
// runs), and every batch goes to internal/steps.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/metrics"
	"github.com/aiflow/aiflow/internal/stepworker"
	"github.com/aiflow/aiflow/internal/stepworker/aiworker"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
)

func main() {
	cfg, err := config.LoadAIStep(os.LookupEnv)
	if err != nil {
		exit(err)
	}
	// The invocation's metrics, written to the log as EMF lines after it.
	emf, err := metrics.NewEMF(metrics.EMFConfig{Writer: os.Stdout})
	if err != nil {
		exit(err)
	}
	w, err := aiworker.New(context.Background(), cfg, stepworker.Options{Metrics: metrics.NewRecorder(emf)})
	if err != nil {
		exit(err)
	}
	w.Logger.Info("aistep ready", "config", cfg)
	// Tracing is off unless OTEL_* variables ask for it (the template's
	// OtelExporterEndpoint); on, each invocation is a span whose parent is
	// the function's X-Ray trace header, flushed before it returns. The
	// invocation's metrics are written as EMF lines when it ends.
	traces, err := tracing.SetupFromEnv(os.LookupEnv, "aiflow-aistep", nil)
	if err != nil {
		exit(err)
	}
	lambda.StartHandlerFunc(tracing.WrapLambda(tracing.LambdaParams{Provider: traces, LookupFunc: os.LookupEnv}, metrics.Flushing(emf, w.Runtime.Handle)))
}

func exit(err error) {
	fmt.Fprintln(os.Stderr, stepworker.ErrorOf("functions/aistep", err))
	os.Exit(1)
}
