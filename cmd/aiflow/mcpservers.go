package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/aiflow/aiflow/internal/httpapi"
	"github.com/aiflow/aiflow/internal/mcpclient"
)

// mcpListTimeout bounds the listing of one MCP server's tools for
// GET /v1/mcp/servers: a server that does not answer is shown with an
// error instead of holding the page.
const mcpListTimeout = 5 * time.Second

// poolServers serves the MCP client pool of the in-process workers to the
// API's GET /v1/mcp/servers (httpapi.MCPServers).
type poolServers struct {
	pool   *mcpclient.Pool
	logger *slog.Logger
}

// apiMCPServers is the API's view of pool; nil (no route behind it) when
// the workers have no pool.
func apiMCPServers(pool *mcpclient.Pool, logger *slog.Logger) httpapi.MCPServers {
	if pool == nil {
		return nil
	}
	return poolServers{pool: pool, logger: logger}
}

// MCPServers lists the pool's servers with their endpoints' state and
// their tools. A server whose tools could not be listed shows the error's
// code; its text, which may name internal addresses, goes to the log.
func (p poolServers) MCPServers(ctx context.Context) []httpapi.MCPServer {
	var out []httpapi.MCPServer
	for _, name := range p.pool.Servers() {
		s := httpapi.MCPServer{Name: name}
		listCtx, cancel := context.WithTimeout(ctx, mcpListTimeout)
		tools, err := p.pool.Tools(listCtx, name)
		cancel()
		if err != nil {
			p.logger.WarnContext(ctx, "listing an MCP server's tools", "server", name, "error", err)
			code := string(mcpclient.CodeOf(err))
			if code == "" {
				code = string(mcpclient.CodeUnavailable)
			}
			s.Error = code + ": the server's tools could not be listed; the log says why"
		}
		for _, t := range tools {
			s.Tools = append(s.Tools, httpapi.MCPTool{Name: t.Name, Title: t.Title, Description: t.Description,
				ReadOnly: t.ReadOnly, Idempotent: t.Idempotent, Status: string(t.Status), InputSchema: t.InputSchema})
		}
		out = append(out, s)
	}
	// The endpoints' state once the listings have connected them.
	stats := p.pool.Stats()
	for i := range out {
		for _, ep := range stats.Servers[out[i].Name].Endpoints {
			out[i].Endpoints = append(out[i].Endpoints, httpapi.MCPEndpoint{Endpoint: ep.Endpoint, Connected: ep.Connected, Healthy: ep.Healthy,
				Breaker: ep.Breaker, ProtocolVersion: ep.ProtocolVersion})
		}
	}
	return out
}
