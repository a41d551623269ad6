// Command mcpstep is the Lambda that runs mcp steps: an SQS event source
// feeds it the messages of the mcp-steps queue, and it answers each task
// with SendTaskSuccess or SendTaskFailure. It only wires: the configuration
// (the step settings, the MCP servers of AIFLOW_MCP_CONFIG and
// AIFLOW_MCP_SERVERS, their secrets from AIFLOW_MCP_SECRETS, their approved
// tools from AIFLOW_MCP_PINS) comes from internal/config, and the worker is
// built once per cold start by internal/stepworker/mcpworker, the same
// handler `aiflow invoke mcpstep` runs; the MCP sessions stay open across
// invocations. It links no model SDK.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/metrics"
	"github.com/aiflow/aiflow/internal/stepworker"
	"github.com/aiflow/aiflow/internal/stepworker/mcpworker"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
)

func main() {
	cfg, err := config.LoadMCPStep(os.LookupEnv)
	if err != nil {
		exit(err)
	}
	// The invocation's metrics, written to the log as EMF lines after it.
	emf, err := metrics.NewEMF(metrics.EMFConfig{Writer: os.Stdout})
	if err != nil {
		exit(err)
	}
	w, err := mcpworker.New(context.Background(), cfg, stepworker.Options{Metrics: metrics.NewRecorder(emf)})
	if err != nil {
		exit(err)
	}
	w.Logger.Info("mcpstep ready", "config", cfg)
	// Tracing is off unless OTEL_* variables ask for it (the template's
	// OtelExporterEndpoint); on, each invocation is a span whose parent is
	// the function's X-Ray trace header, flushed before it returns. The
	// invocation's metrics are written as EMF lines when it ends.
	traces, err := tracing.SetupFromEnv(os.LookupEnv, "aiflow-mcpstep", nil)
	if err != nil {
		exit(err)
	}
	lambda.StartHandlerFunc(tracing.WrapLambda(tracing.LambdaParams{Provider: traces, LookupFunc: os.LookupEnv}, metrics.Flushing(emf, w.Runtime.Handle)))
}

func exit(err error) {
	fmt.Fprintln(os.Stderr, stepworker.ErrorOf("functions/mcpstep", err))
	os.Exit(1)
}
