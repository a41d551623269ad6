// Command mcpstep is the Lambda that runs mcp steps: an SQS event source
// feeds it the messages of the mcp-steps queue, and it answers each task
// with SendTaskSuccess or SendTaskFailure. It only wires: the worker (the
// step settings, the MCP servers of AIFLOW_MCP_CONFIG and
// AIFLOW_MCP_SERVERS, their secrets from AIFLOW_MCP_SECRETS, their approved
// tools from AIFLOW_MCP_PINS, the detail store) is built once per cold start
// by internal/stepworker, the same handler `aiflow invoke mcpstep` runs;
// the MCP sessions stay open across invocations.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aiflow/aiflow/internal/stepworker"
)

func main() {
	w, err := stepworker.NewMCPStep(context.Background(), stepworker.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, stepworker.ErrorOf("functions/mcpstep", err))
		os.Exit(1)
	}
	w.Logger.Info("mcpstep ready", "config", w.Config)
	lambda.StartHandlerFunc(w.Runtime.Handle)
}
