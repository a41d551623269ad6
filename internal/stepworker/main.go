package stepworker

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/metrics"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
)

// Main is the main of a step worker's function (functions/aistep, mcpstep,
// servicestep), name its folder: it loads the configuration with load,
// builds the worker once with build, its metrics counted into EMF lines
// written after each invocation, sets tracing up (off unless OTEL_*
// variables ask for it; on, each invocation is a span whose parent is the
// function's X-Ray trace header, flushed before it returns) and starts the
// Lambda handler. A configuration or build error is printed, naming the
// function, and the process exits with 1.
func Main[C any](name string, load func(config.LookupFunc) (C, error), build func(context.Context, C, Options) (*Worker, error)) {
	exit := func(err error) {
		fmt.Fprintln(os.Stderr, ErrorOf("functions/"+name, err))
		os.Exit(1)
	}
	cfg, err := load(os.LookupEnv)
	if err != nil {
		exit(err)
	}
	emf, err := metrics.NewEMF(metrics.EMFConfig{Writer: os.Stdout})
	if err != nil {
		exit(err)
	}
	w, err := build(context.Background(), cfg, Options{Metrics: metrics.NewRecorder(emf)})
	if err != nil {
		exit(err)
	}
	w.Logger.Info(name+" ready", "config", cfg)
	traces, err := tracing.SetupFromEnv(os.LookupEnv, "aiflow-"+name, nil)
	if err != nil {
		exit(err)
	}
	lambda.StartHandlerFunc(tracing.WrapLambda(tracing.LambdaParams{Provider: traces, LookupFunc: os.LookupEnv}, metrics.Flushing(emf, w.Runtime.Handle)))
}
