// Package mcpworker builds the mcp step worker of functions/mcpstep and
// `aiflow invoke mcpstep` from its configuration (config.MCPStep): the MCP
// servers of AIFLOW_MCP_CONFIG and AIFLOW_MCP_SERVERS, their secrets
// (AIFLOW_MCP_SECRETS) and approved tools (AIFLOW_MCP_PINS), over the
// runtime package stepworker makes. It links no model SDK.
package mcpworker

import (
	"context"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/mcpclient"
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
	opts := mcpclient.Options{Config: cfg.MCP, Secrets: w.Secrets, Logger: w.Logger, ClientName: "aiflow-mcpstep"}
	if cfg.Pins != "" {
		opts.Pins, opts.RequireApproval = &mcpclient.FilePins{Path: cfg.Pins}, true
	}
	pool, err := mcpclient.New(opts)
	if err != nil {
		w.Close()
		return nil, err
	}
	w.OnClose(func() { _ = pool.Close() })
	return w.Finish(ctx, map[string]steps.Handler{"mcp": steps.NewMCP(steps.MCPConfig{Pool: pool, Details: w.Details, Logger: w.Logger})})
}
