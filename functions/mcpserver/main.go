// Command mcpserver is the customer-support MCP server as a Lambda behind a
// Function URL. It only wires: the configuration comes from
// internal/config, and the function (logger, database pool, the desk's MCP
// server) is built once per cold start by supportdesk.NewFunction, the same
// handler `aiflow invoke mcpserver` runs; every request goes to
// internal/supportdesk, served stateless (plain JSON responses, no
// sessions), as Lambda's buffered responses require.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/supportdesk"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
)

func main() {
	cfg, err := config.LoadMCPServer(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // it names the binary itself
		os.Exit(1)
	}
	f, err := supportdesk.NewFunction(context.Background(), cfg, supportdesk.FunctionOptions{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "functions/mcpserver: %v\n", err)
		os.Exit(1)
	}
	// Tracing is off unless OTEL_* variables ask for it (the template's
	// OtelExporterEndpoint); on, each invocation is a span whose parent is
	// the function's X-Ray trace header, flushed before it returns.
	traces, err := tracing.SetupFromEnv(os.LookupEnv, "aiflow-mcpserver", nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "functions/mcpserver: %v\n", err)
		os.Exit(1)
	}
	lambda.StartHandlerFunc(tracing.WrapLambda(tracing.LambdaParams{Provider: traces, LookupFunc: os.LookupEnv}, f.Handler.Handle))
}
