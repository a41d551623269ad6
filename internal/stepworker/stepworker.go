// Package stepworker builds the step workers of the Lambda functions aistep
// and mcpstep from their environment, so that each function's main and
// `aiflow invoke` run the same handler: configuration, model providers and
// their keys, the MCP pool, the Step Functions client for callbacks and
// the detail store, built once per cold start.
package stepworker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/ai/anthropic"
	"github.com/aiflow/aiflow/internal/ai/bedrock"
	"github.com/aiflow/aiflow/internal/ai/openai"
	"github.com/aiflow/aiflow/internal/ai/scripted"
	"github.com/aiflow/aiflow/internal/awssfn"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/mcpclient"
	"github.com/aiflow/aiflow/internal/secrets"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/steps/detailstore"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// Worker is a built step worker: Runtime.Handle is its Lambda handler;
// Close releases what it holds (database pool, MCP sessions).
type Worker struct {
	Runtime *steps.Runtime
	Config  steps.WorkerConfig
	Logger  *slog.Logger
	closers []func()
}

// Close releases the worker's connections.
func (w *Worker) Close() {
	for i := len(w.closers) - 1; i >= 0; i-- {
		w.closers[i]()
	}
}

// Options are what the caller's process gives a worker.
type Options struct {
	// Lookup reads the environment; nil means os.LookupEnv.
	Lookup config.LookupFunc
	// LogWriter receives the logs; nil means stderr.
	LogWriter io.Writer
}

func (o Options) lookup() config.LookupFunc {
	if o.Lookup == nil {
		return os.LookupEnv
	}
	return o.Lookup
}

// base reads the configuration shared by both workers and opens the
// detail store when DATABASE_URL is set.
func base(ctx context.Context, o Options, actor string) (*Worker, steps.DetailRecorder, error) {
	cfg, err := steps.LoadWorkerConfig(o.lookup())
	if err != nil {
		return nil, nil, err
	}
	w := &Worker{Config: cfg, Logger: telemetry.NewLogger(telemetry.LoggerOptions{
		Level: cfg.Log.Level, Format: cfg.Log.Format, Writer: o.LogWriter,
		InLambda: telemetry.DetectLambda(o.lookup()),
	})}
	if cfg.DatabaseURL == "" {
		return w, nil, nil
	}
	db, err := pgxpool.New(ctx, cfg.DatabaseURL) // connects lazily
	if err != nil {
		return nil, nil, fmt.Errorf("opening the database pool: %w", err)
	}
	w.closers = append(w.closers, db.Close)
	events, err := eventstore.Open(ctx, db, eventstore.Options{Logger: w.Logger})
	if err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("opening the event store: %w", err)
	}
	return w, detailstore.New(events, actor), nil
}

// secretSource is the source of secrets named by variable: "env" (the
// default) or "secretsmanager", which is cached.
func secretSource(ctx context.Context, lookup config.LookupFunc, variable string) (secrets.Source, error) {
	v, _ := lookup(variable)
	switch strings.TrimSpace(v) {
	case "", "env":
		return secrets.Env{LookupEnvFunc: lookup}, nil
	case "secretsmanager":
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("loading the AWS configuration: %w", err)
		}
		return secrets.NewSecretsManagerFromConfig(awsCfg, secrets.SecretsManagerOptions{}), nil
	}
	return nil, fmt.Errorf("%s: %q is neither env nor secretsmanager", variable, v)
}

// keyVariables name, by provider, the variable that names its key's
// secret, and the secret read when that variable is unset.
var keyVariables = map[string][2]string{
	"anthropic": {"AIFLOW_ANTHROPIC_KEY_SECRET", "anthropic-api-key"},
	"openai":    {"AIFLOW_OPENAI_KEY_SECRET", "openai-api-key"},
}

// providerKey reads a provider's key. With AIFLOW_AI_SECRETS=env (the
// default) the SDK reads its own variable (ANTHROPIC_API_KEY,
// OPENAI_API_KEY) and this returns "". With secretsmanager it reads the
// secret AIFLOW_<PROVIDER>_KEY_SECRET names (an ARN or a name).
func providerKey(ctx context.Context, lookup config.LookupFunc, src secrets.Source, name string) (string, error) {
	if mode, _ := lookup("AIFLOW_AI_SECRETS"); strings.TrimSpace(mode) != "secretsmanager" {
		return "", nil
	}
	kv := keyVariables[name]
	secret := kv[1]
	if v, ok := lookup(kv[0]); ok && strings.TrimSpace(v) != "" {
		secret = strings.TrimSpace(v)
	}
	key, err := src.Get(ctx, secret)
	if err != nil {
		return "", fmt.Errorf("reading the %s key from Secrets Manager (%s): %w", name, kv[0], err)
	}
	return key, nil
}

// provider builds one model provider.
func provider(ctx context.Context, name string, cfg steps.WorkerConfig, key string) (ai.Provider, error) {
	switch name {
	case "scripted":
		s, err := scripted.Load(cfg.ScriptFile)
		if err != nil {
			return nil, fmt.Errorf("AIFLOW_AI_SCRIPT: %w", err)
		}
		return scripted.New(s, scripted.Options{}), nil
	case "anthropic":
		return anthropic.New(anthropic.Options{APIKey: key}), nil
	case "openai":
		return openai.New(openai.Options{APIKey: key}), nil
	case "bedrock":
		p, err := bedrock.New(ctx, bedrock.Options{})
		if err != nil {
			return nil, fmt.Errorf("making the bedrock provider: %w", err)
		}
		return p, nil
	}
	// LoadWorkerConfig accepts only steps.KnownProviders.
	return nil, fmt.Errorf("AIFLOW_AI_PROVIDERS: unknown provider %q", name)
}

// NewAIStep builds the ai step worker (functions/aistep): the providers of
// AIFLOW_AI_PROVIDERS, with keys from the environment or, with
// AIFLOW_AI_SECRETS=secretsmanager, from Secrets Manager (read once per
// cold start, through a cache); callbacks to AIFLOW_SFN_ENDPOINT or AWS.
func NewAIStep(ctx context.Context, o Options) (*Worker, error) {
	w, details, err := base(ctx, o, "aistep")
	if err != nil {
		return nil, err
	}
	cfg, lookup := w.Config, o.lookup()
	src, err := secretSource(ctx, lookup, "AIFLOW_AI_SECRETS")
	if err != nil {
		w.Close()
		return nil, err
	}
	providers := map[string]ai.Provider{}
	for _, name := range cfg.Providers {
		key, err := providerKey(ctx, lookup, src, name)
		if err == nil {
			providers[name], err = provider(ctx, name, cfg, key)
		}
		if err != nil {
			w.Close()
			return nil, err
		}
	}
	aiCfg := steps.AIConfig{
		Providers:            providers,
		DefaultProvider:      cfg.DefaultProvider,
		Retrier:              ai.Retrier{MaxAttempts: cfg.MaxAttempts},
		Prices:               cfg.Prices,
		StepTokenBudget:      cfg.StepTokenBudget,
		ExecutionTokenBudget: cfg.ExecutionTokenBudget,
		Details:              details,
		Logger:               w.Logger,
	}
	return w.finish(ctx, map[string]steps.Handler{"ai": steps.NewAI(aiCfg)})
}

// NewMCPStep builds the mcp step worker (functions/mcpstep): the MCP
// servers of AIFLOW_MCP_CONFIG and AIFLOW_MCP_SERVERS, their secrets
// (AIFLOW_MCP_SECRETS: env or secretsmanager), their approved tool
// definitions (AIFLOW_MCP_PINS: when set, only approved tools run).
func NewMCPStep(ctx context.Context, o Options) (*Worker, error) {
	w, details, err := base(ctx, o, "mcpstep")
	if err != nil {
		return nil, err
	}
	lookup := o.lookup()
	mcpCfg, err := mcpclient.LoadConfig(lookup, nil)
	if err != nil {
		w.Close()
		return nil, err
	}
	src, err := secretSource(ctx, lookup, "AIFLOW_MCP_SECRETS")
	if err != nil {
		w.Close()
		return nil, err
	}
	opts := mcpclient.Options{Config: mcpCfg, Secrets: src, Logger: w.Logger, ClientName: "aiflow-mcpstep"}
	if pins, _ := lookup("AIFLOW_MCP_PINS"); pins != "" {
		opts.Pins, opts.RequireApproval = &mcpclient.FilePins{Path: pins}, true
	}
	pool, err := mcpclient.New(opts)
	if err != nil {
		w.Close()
		return nil, err
	}
	w.closers = append(w.closers, func() { _ = pool.Close() })
	return w.finish(ctx, map[string]steps.Handler{"mcp": steps.NewMCP(steps.MCPConfig{Pool: pool, Details: details, Logger: w.Logger})})
}

// finish makes the runtime with the handlers and the callbacks client.
func (w *Worker) finish(ctx context.Context, handlers map[string]steps.Handler) (*Worker, error) {
	sfnClient, err := awssfn.NewClient(ctx, w.Config.SFNEndpoint, "")
	if err != nil {
		w.Close()
		return nil, err
	}
	w.Runtime, err = steps.NewRuntime(steps.RuntimeConfig{
		Callbacks:         awssfn.New(sfnClient),
		Handlers:          handlers,
		HeartbeatInterval: w.Config.Heartbeat,
		DeadlineMargin:    w.Config.DeadlineMargin,
		Logger:            w.Logger,
	})
	if err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// ErrorOf formats a construction error for a function's main: a
// configuration error names the binary itself.
func ErrorOf(binary string, err error) string {
	var cfgErr *config.Error
	if errors.As(err, &cfgErr) {
		return err.Error()
	}
	return binary + ": " + err.Error()
}
