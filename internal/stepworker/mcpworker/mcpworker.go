// Package mcpworker builds the mcp step worker of functions/mcpstep and
// `aiflow invoke mcpstep` from its configuration (config.MCPStep): the MCP
// pool stepworker.Worker.MCPPool opens (the servers of AIFLOW_MCP_CONFIG
// and AIFLOW_MCP_SERVERS, their secrets from AIFLOW_MCP_SECRETS, approved
// tools from AIFLOW_MCP_PINS), over the runtime package stepworker makes.
// It links no model SDK.
package mcpworker

import (
	"context"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/stepworker"
)

// New builds the mcp step worker: the MCP pool (its sessions stay open
// across invocations; Close closes them) with only approved tools when
// cfg.Pins is set; callbacks to AIFLOW_SFN_ENDPOINT or AWS. It returns the
// errors of making the clients.
func New(ctx context.Context, cfg config.MCPStep, o stepworker.Options) (*stepworker.Worker, error) {
	w, err := stepworker.New(ctx, stepworker.Params{Step: cfg.Step, Secrets: cfg.Secrets, Options: o, Actor: "mcpstep"})
	if err != nil {
		return nil, err
	}
	pool, err := w.MCPPool(ctx, cfg.MCPClients, "aiflow-mcpstep")
	if err != nil {
		w.Close()
		return nil, err
	}
	return w.Finish(ctx, map[string]steps.Handler{"mcp": steps.NewMCP(steps.MCPConfig{Pool: pool, Details: w.Details, Logger: w.Logger})})
}
