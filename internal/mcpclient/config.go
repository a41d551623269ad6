package mcpclient

import (
	"time"

	"github.com/aiflow/aiflow/internal/mcpclient/mcpconfig"
)

// The pool's configuration is package mcpconfig's, which imports no MCP
// SDK; these names keep it reachable as the pool's own.
type (
	// Config is the pool's configuration: the MCP servers by the name a
	// workflow's mcp steps and tools use.
	Config = mcpconfig.Config
	// ServerConfig is one MCP server.
	ServerConfig = mcpconfig.ServerConfig
	// Sources are the values of AIFLOW_MCP_CONFIG and AIFLOW_MCP_SERVERS.
	Sources = mcpconfig.Sources
)

// Environment variables of Sources (internal/config reads them).
const (
	EnvConfigFile = mcpconfig.EnvConfigFile
	EnvServers    = mcpconfig.EnvServers
)

// DefaultProtocolVersion is the MCP version the pool asks for unless a
// server's configuration says otherwise.
const DefaultProtocolVersion = mcpconfig.DefaultProtocolVersion

// ProtocolVersions are the MCP versions a server may be configured to be
// asked for, newest first.
var ProtocolVersions = mcpconfig.ProtocolVersions

// ParseConfig is mcpconfig.Parse.
func ParseConfig(src []byte) (Config, error) { return mcpconfig.Parse(src) }

// ReadConfig is mcpconfig.Read.
func ReadConfig(src Sources, readFile func(string) ([]byte, error)) (Config, error) {
	return mcpconfig.Read(src, readFile)
}

// Defaults of ServerConfig.
const (
	defaultConnectTimeout = 10 * time.Second
	defaultCallTimeout    = 30 * time.Second
	defaultMaxResultBytes = 1 << 20
	defaultConcurrency    = 16
	defaultAttempts       = 3
	defaultHealthInterval = 30 * time.Second
	defaultBreakerFails   = 5
	defaultBreakerOpen    = 30 * time.Second
)

func seconds(s float64, def time.Duration) time.Duration {
	if s <= 0 {
		return def
	}
	return time.Duration(s * float64(time.Second))
}

func orInt(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}
