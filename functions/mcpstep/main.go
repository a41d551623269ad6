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
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/stepworker"
	"github.com/aiflow/aiflow/internal/stepworker/mcpworker"
)

func main() { stepworker.Main("mcpstep", config.LoadMCPStep, mcpworker.New) }
