package config

import (
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/blob"
	"github.com/aiflow/aiflow/internal/mcpclient/mcpconfig"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// Step is the configuration the step workers (functions/aistep and
// functions/mcpstep) share.
type Step struct {
	// Log is AIFLOW_LOG_LEVEL and AIFLOW_LOG_FORMAT.
	Log Log
	// Heartbeat is AIFLOW_STEP_HEARTBEAT, how often a running step sends
	// SendTaskHeartbeat (1s to 15m, default 20s).
	Heartbeat time.Duration
	// DeadlineMargin is AIFLOW_STEP_DEADLINE_MARGIN, the time kept before
	// the Lambda deadline to report a step that ran out of time (0 to 1m,
	// default 3s).
	DeadlineMargin time.Duration
	// SFNEndpoint is AIFLOW_SFN_ENDPOINT: the Step Functions API to call
	// back, such as the local engine's; empty means AWS.
	SFNEndpoint string
	// Database is DATABASE_URL, or AIFLOW_DATABASE_SECRET and its
	// companions: where detail events go (the event store); unset records
	// none.
	Database Database
	// Blobs is where large step results are kept (AIFLOW_BLOB_*).
	Blobs Blobs
}

// Defaults of Step.
const (
	DefaultStepHeartbeat      = 20 * time.Second
	DefaultStepDeadlineMargin = 3 * time.Second
)

// readStep reads the variables of Step.
func readStep(r *reader) Step {
	s := Step{
		Log:            readLog(r),
		Heartbeat:      r.boundedDuration("AIFLOW_STEP_HEARTBEAT", DefaultStepHeartbeat, time.Second, 15*time.Minute),
		DeadlineMargin: r.boundedDuration("AIFLOW_STEP_DEADLINE_MARGIN", DefaultStepDeadlineMargin, 0, time.Minute),
		SFNEndpoint:    r.httpURL("AIFLOW_SFN_ENDPOINT", "http://127.0.0.1:8083"),
		Database:       r.database(databaseParams{example: "postgres://aiflow_worker:secret@localhost:5432/aiflow"}),
	}
	s.Blobs = r.blobs(s.Database, blob.DefaultMaxResolvedBytes)
	return s
}

// logAttrs are the attributes of Step in a LogValue.
func (c Step) logAttrs() []slog.Attr {
	return []slog.Attr{
		slog.Any("log", c.Log),
		slog.String("heartbeat", c.Heartbeat.String()),
		slog.String("deadline_margin", c.DeadlineMargin.String()),
		slog.String("sfn_endpoint", c.SFNEndpoint),
		slog.Attr{Key: "database", Value: c.Database.LogValue()},
		slog.Attr{Key: "blobs", Value: c.Blobs.LogValue()},
	}
}

// SecretStore is where a step worker reads its secrets: AIFLOW_AI_SECRETS
// and AIFLOW_MCP_SECRETS.
type SecretStore string

// The stores accepted in AIFLOW_AI_SECRETS and AIFLOW_MCP_SECRETS.
const (
	// SecretsEnv reads secrets from environment variables (the default).
	SecretsEnv SecretStore = "env"
	// SecretsManager reads them from AWS Secrets Manager, cached.
	SecretsManager SecretStore = "secretsmanager"
)

// secretStore reads a SecretStore from key (default env).
func (r *reader) secretStore(key string) SecretStore {
	v, ok := r.get(key)
	switch {
	case !ok || v == string(SecretsEnv):
		return SecretsEnv
	case v == string(SecretsManager):
		return SecretsManager
	}
	// The value names a store, not a secret, so it is shown.
	r.problem(key, string(SecretsManager), "%q is neither env nor secretsmanager", v)
	return SecretsEnv
}

// AIStepProviders are the providers an ai step worker can build, as
// AIFLOW_AI_PROVIDERS names them (the AIProvider constants).
var AIStepProviders = []string{AIProviderAnthropic, AIProviderOpenAI, AIProviderBedrock, AIProviderScripted}

// ModelAPI is how a worker reaches one model provider's API.
type ModelAPI struct {
	// APIKey is the provider's key from its own variable (OPENAI_API_KEY,
	// ANTHROPIC_API_KEY); with AIFLOW_AI_SECRETS=secretsmanager the key
	// comes from the secret KeySecret names instead.
	APIKey telemetry.Secret
	// BaseURL is the provider's own variable (OPENAI_BASE_URL,
	// ANTHROPIC_BASE_URL); empty means the provider's API.
	BaseURL string
	// KeySecret is AIFLOW_OPENAI_KEY_SECRET or AIFLOW_ANTHROPIC_KEY_SECRET,
	// the name or ARN of the key's secret in Secrets Manager (default
	// openai-api-key, anthropic-api-key).
	KeySecret string
	// KeySecretVar is the variable KeySecret comes from, for messages.
	KeySecretVar string
}

// Price is what a model costs, in USD per million tokens.
type Price struct {
	InputPerMillion  float64 `json:"input"`
	OutputPerMillion float64 `json:"output"`
}

// AIStep is the configuration of the ai step worker (functions/aistep
// and `aiflow invoke aistep`). Bedrock's variables (AWS_REGION,
// AWS_ENDPOINT_URL_BEDROCK_RUNTIME) are read by the AWS SDK.
type AIStep struct {
	Step
	// Providers is AIFLOW_AI_PROVIDERS: the providers to build, comma
	// separated, from AIStepProviders; default "anthropic,openai,bedrock".
	Providers []string
	// DefaultProvider is AIFLOW_AI_DEFAULT_PROVIDER: the provider of a
	// model named without "provider/"; empty refuses such models.
	DefaultProvider string
	// ScriptFile is AIFLOW_AI_SCRIPT, the scripted provider's script;
	// required when Providers has "scripted".
	ScriptFile string
	// Prices is AIFLOW_AI_PRICES, a JSON object of model to
	// {"input": USD per million tokens, "output": ...}.
	Prices map[string]Price
	// StepTokenBudget and ExecutionTokenBudget are
	// AIFLOW_AI_STEP_TOKEN_BUDGET and AIFLOW_AI_EXECUTION_TOKEN_BUDGET;
	// 0 (the default) means none. The execution's budget needs
	// DATABASE_URL, where the execution's usage is recorded.
	StepTokenBudget      int
	ExecutionTokenBudget int
	// MaxAttempts is AIFLOW_AI_MAX_ATTEMPTS, the calls per model request
	// inside a step, retries included (1 to 10, default 3).
	MaxAttempts int
	// Secrets is AIFLOW_AI_SECRETS: where the providers' keys come from.
	Secrets SecretStore
	// OpenAI and Anthropic are how those providers are reached.
	OpenAI, Anthropic ModelAPI
	// Tools are the MCP servers agent steps call their tools on, read as
	// for the mcp step worker (AIFLOW_MCP_CONFIG, AIFLOW_MCP_SERVERS,
	// AIFLOW_MCP_SECRETS, AIFLOW_MCP_PINS); with none, a step with tools
	// fails with AI.ToolUnavailable.
	Tools MCPClients
}

// DefaultAIMaxAttempts is AIStep.MaxAttempts when AIFLOW_AI_MAX_ATTEMPTS is
// unset.
const DefaultAIMaxAttempts = 3

// examplePrices is the example shown for a bad AIFLOW_AI_PRICES.
const examplePrices = `{"anthropic/claude-haiku-4-5":{"input":1,"output":5}}`

// LoadAIStep reads AIStep from the environment through lookup. When
// variables are missing or invalid it returns an *Error naming
// functions/aistep and listing all of them, together with an AIStep that
// holds defaults in their place.
func LoadAIStep(lookup LookupFunc) (AIStep, error) {
	r := newReader(lookup)
	c := AIStep{
		Step:                 readStep(r),
		Providers:            r.providers("AIFLOW_AI_PROVIDERS"),
		ScriptFile:           r.string("AIFLOW_AI_SCRIPT", ""),
		Prices:               r.prices("AIFLOW_AI_PRICES"),
		StepTokenBudget:      r.wholeNumber("AIFLOW_AI_STEP_TOKEN_BUDGET", 0, 0, 1<<40),
		ExecutionTokenBudget: r.wholeNumber("AIFLOW_AI_EXECUTION_TOKEN_BUDGET", 0, 0, 1<<40),
		MaxAttempts:          r.wholeNumber("AIFLOW_AI_MAX_ATTEMPTS", DefaultAIMaxAttempts, 1, 10),
		Secrets:              r.secretStore("AIFLOW_AI_SECRETS"),
		OpenAI:               r.modelAPI("OPENAI", "openai-api-key"),
		Anthropic:            r.modelAPI("ANTHROPIC", "anthropic-api-key"),
		Tools:                readMCPClients(r),
	}
	if d := r.string("AIFLOW_AI_DEFAULT_PROVIDER", ""); d != "" {
		if !slices.Contains(c.Providers, d) {
			r.problem("AIFLOW_AI_DEFAULT_PROVIDER", AIProviderScripted, "%q is not one of AIFLOW_AI_PROVIDERS (%s)", d, strings.Join(c.Providers, ","))
		} else {
			c.DefaultProvider = d
		}
	}
	if slices.Contains(c.Providers, AIProviderScripted) && c.ScriptFile == "" {
		r.problem("AIFLOW_AI_SCRIPT", DefaultAIScript, "is required when AIFLOW_AI_PROVIDERS has scripted")
	}
	if c.ExecutionTokenBudget > 0 && !c.Database.IsSet() {
		r.problem("DATABASE_URL", "postgres://aiflow_worker:secret@localhost:5432/aiflow", "is required with AIFLOW_AI_EXECUTION_TOKEN_BUDGET: the execution's usage is read from the event store")
	}
	return c, r.err("functions/aistep")
}

// LogValue shows the configuration in logs without the database password
// and with the keys reduced to whether they are set.
func (c AIStep) LogValue() slog.Value {
	return slog.GroupValue(append(append(c.logAttrs(),
		slog.String("providers", strings.Join(c.Providers, ",")),
		slog.String("default_provider", c.DefaultProvider),
		slog.Int("prices", len(c.Prices)),
		slog.Int("step_token_budget", c.StepTokenBudget),
		slog.Int("execution_token_budget", c.ExecutionTokenBudget),
		slog.Int("max_attempts", c.MaxAttempts),
		slog.String("secrets", string(c.Secrets)),
		slog.Bool("openai_key_set", c.OpenAI.APIKey != ""),
		slog.Bool("anthropic_key_set", c.Anthropic.APIKey != ""),
	), c.Tools.logAttrs()...)...)
}

// modelAPI reads <PROVIDER>_API_KEY, <PROVIDER>_BASE_URL and
// AIFLOW_<PROVIDER>_KEY_SECRET (default defSecret).
func (r *reader) modelAPI(provider, defSecret string) ModelAPI {
	secretVar := "AIFLOW_" + provider + "_KEY_SECRET"
	return ModelAPI{
		APIKey:       r.secret(provider + "_API_KEY"),
		BaseURL:      r.string(provider+"_BASE_URL", ""),
		KeySecret:    r.string(secretVar, defSecret),
		KeySecretVar: secretVar,
	}
}

// MCPStep is the configuration of the mcp step worker (functions/mcpstep
// and `aiflow invoke mcpstep`).
type MCPStep struct {
	Step
	MCPClients
}

// MCPClients is how a step worker reaches the MCP servers: the mcp step
// worker for its steps, the ai step worker for its agents' tools. Both
// read the same variables.
type MCPClients struct {
	// Sources are AIFLOW_MCP_CONFIG, a file (YAML or JSON) of the MCP
	// servers, and AIFLOW_MCP_SERVERS, servers inline (a JSON object of
	// server configurations by name, which win over the file's).
	Sources mcpconfig.Sources
	// MCP is the servers' configuration read from Sources.
	MCP mcpconfig.Config
	// Secrets is AIFLOW_MCP_SECRETS: where the servers' secrets come from.
	Secrets SecretStore
	// Pins is AIFLOW_MCP_PINS, the file of approved tool definitions; when
	// set, only approved tools run.
	Pins string
}

// readMCPClients reads the variables of MCPClients.
func readMCPClients(r *reader) MCPClients {
	c := MCPClients{
		Sources: mcpconfig.Sources{
			File:    r.string(mcpconfig.EnvConfigFile, ""),
			Servers: r.string(mcpconfig.EnvServers, ""),
		},
		Secrets: r.secretStore("AIFLOW_MCP_SECRETS"),
		Pins:    r.string("AIFLOW_MCP_PINS", ""),
	}
	c.MCP = r.mcpServers(c.Sources)
	return c
}

// logAttrs are the attributes of MCPClients in a LogValue: the servers
// are reduced to their names (inline ones may hold tokens in their env).
func (c MCPClients) logAttrs() []slog.Attr {
	return []slog.Attr{
		slog.String("mcp_config", c.Sources.File),
		slog.Bool("mcp_servers_set", c.Sources.Servers != ""),
		slog.String("mcp_servers", strings.Join(slices.Sorted(maps.Keys(c.MCP.Servers)), ",")),
		slog.String("mcp_secrets", string(c.Secrets)),
		slog.String("mcp_pins", c.Pins),
	}
}

// exampleMCPServers is the example shown for a bad AIFLOW_MCP_SERVERS.
const exampleMCPServers = `{"desk": {"urls": ["https://desk.example.com/mcp"]}}`

// LoadMCPStep reads MCPStep from the environment through lookup, the file
// AIFLOW_MCP_CONFIG names included. When variables are invalid it returns
// an *Error naming functions/mcpstep and listing all of them, together
// with an MCPStep that holds defaults in their place.
func LoadMCPStep(lookup LookupFunc) (MCPStep, error) {
	r := newReader(lookup)
	c := MCPStep{Step: readStep(r), MCPClients: readMCPClients(r)}
	return c, r.err("functions/mcpstep")
}

// mcpServers reads the servers' configuration of src, with a problem for
// each bad source; it is empty when one is bad.
func (r *reader) mcpServers(src mcpconfig.Sources) mcpconfig.Config {
	cfg, err := mcpconfig.Read(src, nil)
	if err == nil {
		return cfg
	}
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	for _, err := range errs {
		var srcErr *mcpconfig.SourceError
		if !errors.As(err, &srcErr) {
			r.problem(mcpconfig.EnvServers, exampleMCPServers, "%v", err)
			continue
		}
		example := exampleMCPServers
		if srcErr.Var == mcpconfig.EnvConfigFile {
			example = "mcp.yaml"
		}
		msg := srcErr.Err.Error()
		if srcErr.File != "" {
			msg = strconv.Quote(srcErr.File) + ": " + msg
		}
		r.problem(srcErr.Var, example, "%s", msg)
	}
	return mcpconfig.Config{Servers: map[string]mcpconfig.ServerConfig{}}
}

// LogValue shows the configuration in logs without the database password;
// the servers are reduced to their names (inline ones may hold tokens in
// their env).
func (c MCPStep) LogValue() slog.Value {
	return slog.GroupValue(append(c.Step.logAttrs(), c.MCPClients.logAttrs()...)...)
}

// wholeNumber returns the value of key as a decimal integer from lo to hi,
// or def when unset or invalid.
func (r *reader) wholeNumber(key string, def, lo, hi int) int {
	v, ok := r.get(key)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.problem(key, strconv.Itoa(max(def, lo)), "%s is not a whole number from %d to %d", show(key, v), lo, hi)
		return def
	}
	return n
}

// boundedDuration returns the value of key in Go duration syntax, from lo
// to hi, or def when unset or invalid.
func (r *reader) boundedDuration(key string, def, lo, hi time.Duration) time.Duration {
	v, ok := r.get(key)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		r.problem(key, def.String(), "%s is not a duration from %s to %s", show(key, v), lo, hi)
		return def
	}
	return d
}

// providers reads a comma-separated list of AIStepProviders, without
// repeats; unset means anthropic, openai and bedrock.
func (r *reader) providers(key string) []string {
	v, ok := r.get(key)
	if !ok {
		return []string{AIProviderAnthropic, AIProviderOpenAI, AIProviderBedrock}
	}
	var out []string
	for p := range strings.SplitSeq(v, ",") {
		p = strings.TrimSpace(p)
		switch {
		case p == "":
		case !slices.Contains(AIStepProviders, p):
			r.problem(key, "anthropic,openai", "%q is not a provider (known: %s)", p, strings.Join(AIStepProviders, ", "))
		case !slices.Contains(out, p):
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		r.problem(key, "anthropic,openai", "names no provider")
	}
	return out
}

// prices reads a JSON object of model to Price, or nil when unset or
// invalid.
func (r *reader) prices(key string) map[string]Price {
	v, ok := r.get(key)
	if !ok {
		return nil
	}
	var t map[string]Price
	dec := json.NewDecoder(strings.NewReader(v))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		r.problem(key, examplePrices, "is not a JSON object of model to {\"input\", \"output\"} prices: %v", err)
		return nil
	}
	for _, model := range slices.Sorted(maps.Keys(t)) {
		if p := t[model]; p.InputPerMillion < 0 || p.OutputPerMillion < 0 {
			r.problem(key, examplePrices, "the price of %q is negative", model)
		}
	}
	return t
}
