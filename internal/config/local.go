package config

import (
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aiflow/aiflow/internal/blob"
	"github.com/aiflow/aiflow/internal/mcpclient/mcpconfig"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// LocalWorkers is the configuration of the step workers `aiflow run` and
// `aiflow dev` run in process: which model providers have credentials,
// and the MCP servers. Without a script, each model goes to the provider
// its name starts with; a provider without credentials fails its calls
// with AI.Auth.
type LocalWorkers struct {
	// Anthropic is ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL.
	Anthropic ModelAPI
	// OpenAI is OPENAI_API_KEY and OPENAI_BASE_URL.
	OpenAI ModelAPI
	// AWS is whether AWS_REGION, AWS_DEFAULT_REGION or AWS_PROFILE is set,
	// which Bedrock needs; the AWS SDK reads them itself.
	AWS bool
	// Sources are AIFLOW_MCP_CONFIG and AIFLOW_MCP_SERVERS, as for
	// MCPStep.
	Sources mcpconfig.Sources
	// MCP is the servers' configuration read from Sources.
	MCP mcpconfig.Config
	// Service is how service steps call the registered services
	// (AIFLOW_SERVICE_* and AIFLOW_EGRESS_*, as for ServiceStep).
	Service ServiceCalls
	// BlobThreshold is AIFLOW_BLOB_THRESHOLD, as for Blobs: the size above
	// which a large step's result is stored (aiflow dev: in PostgreSQL;
	// aiflow run: in memory).
	BlobThreshold int
}

// readLocalWorkers reads the variables of LocalWorkers.
func readLocalWorkers(r *reader) LocalWorkers {
	c := LocalWorkers{
		Anthropic: r.localModelAPI("ANTHROPIC"),
		OpenAI:    r.localModelAPI("OPENAI"),
		Sources: mcpconfig.Sources{
			File:    r.string(mcpconfig.EnvConfigFile, ""),
			Servers: r.string(mcpconfig.EnvServers, ""),
		},
	}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"} {
		if _, ok := r.get(k); ok {
			c.AWS = true
		}
	}
	c.MCP = r.mcpServers(c.Sources)
	c.Service = readServiceCalls(r)
	c.BlobThreshold = r.int("AIFLOW_BLOB_THRESHOLD", blob.DefaultThreshold, 1024, 256*1024)
	return c
}

// localModelAPI reads <PROVIDER>_API_KEY and <PROVIDER>_BASE_URL: the
// variables the providers' SDKs would read themselves.
func (r *reader) localModelAPI(provider string) ModelAPI {
	return ModelAPI{
		APIKey:  r.secret(provider + "_API_KEY"),
		BaseURL: r.string(provider+"_BASE_URL", ""),
	}
}

// logAttrs are the attributes of LocalWorkers in a LogValue: the keys
// reduced to whether they are set, the servers to their names.
func (c LocalWorkers) logAttrs() []slog.Attr {
	return []slog.Attr{
		slog.Bool("anthropic_key_set", c.Anthropic.APIKey != ""),
		slog.Bool("openai_key_set", c.OpenAI.APIKey != ""),
		slog.Bool("aws", c.AWS),
		slog.String("mcp_config", c.Sources.File),
		slog.Bool("mcp_servers_set", c.Sources.Servers != ""),
		slog.String("servers", strings.Join(slices.Sorted(maps.Keys(c.MCP.Servers)), ",")),
	}
}

// LogValue shows the configuration in logs without the keys.
func (c LocalWorkers) LogValue() slog.Value { return slog.GroupValue(c.logAttrs()...) }

// Run is the configuration of `aiflow run`, which runs one workflow on an
// engine in memory with the step workers in process.
type Run struct {
	// AIScript is AIFLOW_AI_SCRIPT, the default of --script: the script
	// the scripted provider answers every model of ai steps from; empty
	// means the providers the models name.
	AIScript string
	// Workers are the in-process workers' settings.
	Workers LocalWorkers
}

// LoadRun reads Run from the environment through lookup, the file
// AIFLOW_MCP_CONFIG names included. When variables are invalid it returns
// an *Error naming aiflow run and listing all of them, together with a Run
// that holds defaults in their place.
func LoadRun(lookup LookupFunc) (Run, error) {
	r := newReader(lookup)
	c := Run{
		AIScript: r.string("AIFLOW_AI_SCRIPT", ""),
		Workers:  readLocalWorkers(r),
	}
	return c, r.err("aiflow run")
}

// LogValue shows the configuration in logs without the keys.
func (c Run) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("ai_script", c.AIScript),
		slog.Any("workers", c.Workers),
	)
}

// DefaultMCPPins is the file of approved tool definitions of `aiflow mcp
// tools`, `approve` and `catalog` when neither --pins nor AIFLOW_MCP_PINS
// names one.
var DefaultMCPPins = filepath.Join(defaultDataDir, "mcp-pins.json")

// MCPTools is the configuration of `aiflow mcp tools`, `aiflow mcp
// approve` and `aiflow mcp catalog`, which talk to the configured MCP
// servers once.
type MCPTools struct {
	// Sources are AIFLOW_MCP_CONFIG (or the --config flag, which takes its
	// place) and AIFLOW_MCP_SERVERS.
	Sources mcpconfig.Sources
	// MCP is the servers' configuration read from Sources.
	MCP mcpconfig.Config
	// Pins is the file of approved tool definitions: the --pins flag, else
	// AIFLOW_MCP_PINS, else DefaultMCPPins.
	Pins string
}

// MCPToolsParams are what the command gives LoadMCPTools besides the
// environment.
type MCPToolsParams struct {
	// Binary names the command in the error, such as "aiflow mcp tools".
	Binary string
	// ConfigFile is the --config flag; when set it is read in place of
	// AIFLOW_MCP_CONFIG (its problems are reported under that variable).
	ConfigFile string
	// PinsFile is the --pins flag; when set it wins over AIFLOW_MCP_PINS.
	PinsFile string
}

// LoadMCPTools reads MCPTools from the environment through lookup and the
// flags of p, the servers' file included. When variables are invalid it
// returns an *Error naming p.Binary and listing all of them, together with
// an MCPTools that holds defaults in their place.
func LoadMCPTools(lookup LookupFunc, p MCPToolsParams) (MCPTools, error) {
	r := newReader(lookup)
	c := MCPTools{
		Sources: mcpconfig.Sources{
			File:    r.string(mcpconfig.EnvConfigFile, ""),
			Servers: r.string(mcpconfig.EnvServers, ""),
		},
		Pins: r.string("AIFLOW_MCP_PINS", DefaultMCPPins),
	}
	if p.ConfigFile != "" {
		c.Sources.File = p.ConfigFile
	}
	if p.PinsFile != "" {
		c.Pins = p.PinsFile
	}
	c.MCP = r.mcpServers(c.Sources)
	return c, r.err(p.Binary)
}

// LogValue shows the configuration in logs with the servers reduced to
// their names (inline ones may hold tokens in their env).
func (c MCPTools) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("mcp_config", c.Sources.File),
		slog.Bool("mcp_servers_set", c.Sources.Servers != ""),
		slog.String("servers", strings.Join(slices.Sorted(maps.Keys(c.MCP.Servers)), ",")),
		slog.String("pins", c.Pins),
	)
}

// devHMACKey reads AIFLOW_AUTH_HMAC_KEY for aiflow dev: unset means a key
// kept in the data folder; set, it must be long enough for the verifier.
func (r *reader) devHMACKey() telemetry.Secret {
	k := r.secret("AIFLOW_AUTH_HMAC_KEY")
	if n := len(k.Reveal()); n > 0 && n < minAuthHMACKeyLen {
		r.problem("AIFLOW_AUTH_HMAC_KEY", "", "has %d bytes; at least %d are required (for example, 64 hex digits from `openssl rand -hex 32`)", n, minAuthHMACKeyLen)
		return ""
	}
	return k
}
