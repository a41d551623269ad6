package httpapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/aiflow/aiflow/internal/auth"
)

// MCPServers is what GET /v1/mcp/servers asks of the MCP client pool the
// step workers call tools through: its servers, their endpoints and their
// tools. The pool lives beside the workers (aiflow dev's, aiflow run's), so
// a server without one in process is given none and answers 501. The API
// defines the shapes itself: the API function links no MCP SDK.
type MCPServers interface {
	// MCPServers lists the configured servers by name. A server whose
	// tools could not be listed (within ctx) is in the list with Error
	// set.
	MCPServers(ctx context.Context) []MCPServer
}

// MCPServer is one configured MCP server as the API shows it.
type MCPServer struct {
	Name      string        `json:"name"`
	Endpoints []MCPEndpoint `json:"endpoints"`
	Tools     []MCPTool     `json:"tools"`
	// Error says, for the caller, why the tools could not be listed;
	// empty when they were.
	Error string `json:"error,omitempty"`
}

// MCPEndpoint is the state of one of a server's endpoints (replicas).
type MCPEndpoint struct {
	Endpoint        string `json:"endpoint"`
	Connected       bool   `json:"connected"`
	Healthy         bool   `json:"healthy"`
	Breaker         string `json:"breaker"`
	ProtocolVersion string `json:"protocol_version,omitempty"`
}

// MCPTool is one tool a server offers, with whether it may be called
// (status: pinned, changed or unapproved).
type MCPTool struct {
	Name        string          `json:"name"`
	Title       string          `json:"title,omitempty"`
	Description string          `json:"description,omitempty"`
	ReadOnly    bool            `json:"read_only"`
	Idempotent  bool            `json:"idempotent"`
	Status      string          `json:"status"`
	InputSchema json.RawMessage `json:"input_schema,omitempty"`
}

// handleMCP registers an /v1/mcp route as handleService does, needing
// Options.MCP: without it the route answers 501.
func (s *Server) handleMCP(pattern string, perm auth.Permission, h http.HandlerFunc) {
	s.guarded(pattern, perm, auditMutations, func(w http.ResponseWriter, r *http.Request) bool {
		if s.opts.MCP == nil {
			writeProblem(w, r, Problem{Status: http.StatusNotImplemented, Title: "Not Implemented",
				Detail: "this server has no MCP client pool configured"})
			return false
		}
		return true
	}, h)
}

// listMCPServers answers GET /v1/mcp/servers: every configured MCP server
// with its endpoints and tools.
func (s *Server) listMCPServers(w http.ResponseWriter, r *http.Request) {
	list := s.opts.MCP.MCPServers(r.Context())
	if list == nil {
		list = []MCPServer{}
	}
	for i := range list {
		if list[i].Endpoints == nil {
			list[i].Endpoints = []MCPEndpoint{}
		}
		if list[i].Tools == nil {
			list[i].Tools = []MCPTool{}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
}
