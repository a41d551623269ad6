// Package mcpconfig owns the configuration of aiflow's MCP servers: the
// file format (YAML or JSON) of AIFLOW_MCP_CONFIG, the inline servers of
// AIFLOW_MCP_SERVERS, and their validation. It imports no MCP SDK, so
// internal/config can read and check it together with the rest of a
// function's settings; the client pool (internal/mcpclient) runs it.
package mcpconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Environment variables of Sources (config.MCPClients reads them, for the
// mcp and ai step workers).
const (
	// EnvConfigFile names a configuration file (YAML or JSON).
	EnvConfigFile = "AIFLOW_MCP_CONFIG"
	// EnvServers holds servers inline: a JSON object of ServerConfig by
	// name. A server named here replaces one of the same name in the file.
	EnvServers = "AIFLOW_MCP_SERVERS"
)

// Config is the pool's configuration: the MCP servers by the name a
// workflow's mcp steps and tools use.
type Config struct {
	Servers map[string]ServerConfig `yaml:"servers" json:"servers"`
}

// ServerConfig is one MCP server: either a stdio Command or one or more
// Streamable HTTP URLs (replicas, tried in order). Durations are seconds;
// 0 takes the default named on each field.
type ServerConfig struct {
	// Command and Args start the server as a child process speaking MCP on
	// its stdin and stdout.
	Command string   `yaml:"command,omitempty" json:"command,omitempty"`
	Args    []string `yaml:"args,omitempty" json:"args,omitempty"`
	// Env is the child's environment beyond PATH, HOME, LANG and TMPDIR
	// (nothing else of aiflow's own environment is passed on).
	Env map[string]string `yaml:"env,omitempty" json:"env,omitempty"`
	// EnvSecrets sets child variables from secrets: variable -> secret name.
	EnvSecrets map[string]string `yaml:"env_secrets,omitempty" json:"env_secrets,omitempty"`
	// URLs are the Streamable HTTP endpoints of the server's replicas.
	URLs []string `yaml:"urls,omitempty" json:"urls,omitempty"`
	// TokenSecret names the secret whose value is sent as
	// "Authorization: Bearer <value>" to the URLs.
	TokenSecret string `yaml:"token_secret,omitempty" json:"token_secret,omitempty"`
	// ProtocolVersion is the MCP version asked for in initialize; the
	// server may answer an older one. Default DefaultProtocolVersion.
	ProtocolVersion string `yaml:"protocol_version,omitempty" json:"protocol_version,omitempty"`
	// ConnectTimeoutSeconds bounds opening a session. Default 10.
	ConnectTimeoutSeconds float64 `yaml:"connect_timeout_seconds,omitempty" json:"connect_timeout_seconds,omitempty"`
	// CallTimeoutSeconds bounds one tools/call. Default 30.
	CallTimeoutSeconds float64 `yaml:"call_timeout_seconds,omitempty" json:"call_timeout_seconds,omitempty"`
	// MaxResultBytes caps a call's result (its JSON). Default 1 MiB.
	MaxResultBytes int `yaml:"max_result_bytes,omitempty" json:"max_result_bytes,omitempty"`
	// MaxConcurrency is the most calls in flight to the server. Default 16.
	MaxConcurrency int `yaml:"max_concurrency,omitempty" json:"max_concurrency,omitempty"`
	// MaxAttempts is how many times a call is tried, counting the first,
	// when sending it again is safe. Default 3.
	MaxAttempts int `yaml:"max_attempts,omitempty" json:"max_attempts,omitempty"`
	// HealthIntervalSeconds is how often each endpoint is pinged (and a
	// dropped one reconnected). Default 30; negative turns it off.
	HealthIntervalSeconds float64 `yaml:"health_interval_seconds,omitempty" json:"health_interval_seconds,omitempty"`
	// BreakerFailures is how many consecutive failures open an endpoint's
	// circuit. Default 5.
	BreakerFailures int `yaml:"breaker_failures,omitempty" json:"breaker_failures,omitempty"`
	// BreakerOpenSeconds is how long a circuit stays open before one trial
	// call is let through (half-open). Default 30.
	BreakerOpenSeconds float64 `yaml:"breaker_open_seconds,omitempty" json:"breaker_open_seconds,omitempty"`
}

// DefaultProtocolVersion is the MCP version the pool asks for unless a
// server's configuration says otherwise. Servers that speak only
// 2025-06-18, 2025-03-26 or 2024-11-05 answer with theirs, which the pool
// accepts.
const DefaultProtocolVersion = "2025-11-25"

// Stdio reports whether the server is a child process.
func (s ServerConfig) Stdio() bool { return s.Command != "" }

// Parse reads a configuration (YAML, or JSON, which is YAML) and
// validates it. Unknown fields are errors.
func Parse(src []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("reading the MCP configuration: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Sources are where a configuration comes from: the values of
// AIFLOW_MCP_CONFIG and AIFLOW_MCP_SERVERS, which config.MCPClients holds.
type Sources struct {
	// File names a configuration file (YAML or JSON); empty means none.
	File string
	// Servers holds servers inline: a JSON object of ServerConfig by name.
	// A server named here replaces one of the same name in File.
	Servers string
}

// SourceError is what Read finds wrong with one of its sources.
type SourceError struct {
	// Var is the variable of the source: EnvConfigFile or EnvServers.
	Var string
	// File is the file EnvConfigFile names when its content is wrong.
	File string
	// Err says what is wrong.
	Err error
}

// Error names the variable (and the file) and what is wrong.
func (e *SourceError) Error() string {
	if e.File != "" {
		return e.Var + "=" + e.File + ": " + e.Err.Error()
	}
	return e.Var + ": " + e.Err.Error()
}

// Unwrap returns Err.
func (e *SourceError) Unwrap() error { return e.Err }

// Read builds the configuration of src: the servers of its file, then its
// inline servers. readFile is os.ReadFile when nil. It returns a
// *SourceError for each bad source (joined when both are), naming the
// variable the source came from.
func Read(src Sources, readFile func(string) ([]byte, error)) (Config, error) {
	if readFile == nil {
		readFile = os.ReadFile
	}
	var errs []error
	c := Config{Servers: map[string]ServerConfig{}}
	if file := src.File; file != "" {
		fc, err := readFileConfig(file, readFile)
		if err != nil {
			errs = append(errs, err)
		}
		for name, s := range fc.Servers {
			c.Servers[name] = s
		}
	}
	if inline := src.Servers; strings.TrimSpace(inline) != "" {
		var servers map[string]ServerConfig
		dec := yaml.NewDecoder(strings.NewReader(inline))
		dec.KnownFields(true)
		if err := dec.Decode(&servers); err != nil {
			errs = append(errs, &SourceError{Var: EnvServers, Err: fmt.Errorf("reading the MCP servers: %w", err)})
		}
		for name, s := range servers {
			c.Servers[name] = s
		}
		if len(errs) == 0 {
			if err := c.Validate(); err != nil {
				errs = append(errs, &SourceError{Var: EnvServers, Err: err})
			}
		}
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

// readFileConfig reads and parses the configuration file of EnvConfigFile.
func readFileConfig(file string, readFile func(string) ([]byte, error)) (Config, error) {
	b, err := readFile(file)
	if err != nil {
		return Config{}, &SourceError{Var: EnvConfigFile, Err: fmt.Errorf("reading the MCP configuration: %w", err)}
	}
	fc, err := Parse(b)
	if err != nil {
		return Config{}, &SourceError{Var: EnvConfigFile, File: file, Err: err}
	}
	return fc, nil
}

// Validate checks every server: a name, exactly one of command and urls,
// absolute http(s) URLs, a supported protocol version.
func (c Config) Validate() error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(c.Servers)) {
		s := c.Servers[name]
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("MCP server %q: %s", name, fmt.Sprintf(format, args...)))
		}
		if name == "" || strings.ContainsAny(name, "/ ") {
			bad("a server's name is not empty and has no '/' or space")
		}
		switch {
		case s.Command != "" && len(s.URLs) > 0:
			bad("give either command (stdio) or urls (Streamable HTTP), not both")
		case s.Command == "" && len(s.URLs) == 0:
			bad("give a command (stdio) or urls (Streamable HTTP)")
		}
		for _, u := range s.URLs {
			pu, err := url.Parse(u)
			if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
				bad("url %q is not an absolute http(s) URL", u)
			}
		}
		if s.TokenSecret != "" && s.Command != "" {
			bad("token_secret is for urls; give a stdio server its secrets with env_secrets")
		}
		if v := s.ProtocolVersion; v != "" && !slices.Contains(ProtocolVersions, v) {
			bad("protocol_version %q is not one of %s", v, strings.Join(ProtocolVersions, ", "))
		}
	}
	return errors.Join(errs...)
}

// ProtocolVersions are the MCP versions a server may be configured to be
// asked for, newest first.
var ProtocolVersions = []string{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}
