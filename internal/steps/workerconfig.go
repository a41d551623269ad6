package steps

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// KnownProviders are the provider names a worker can build.
var KnownProviders = []string{"anthropic", "openai", "bedrock", "scripted"}

// WorkerConfig is the configuration of the ai step worker
// (functions/aistep), read from the environment by LoadWorkerConfig. The
// providers' own variables (OPENAI_API_KEY, OPENAI_BASE_URL,
// ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, AWS_REGION,
// AWS_ENDPOINT_URL_BEDROCK_RUNTIME) are read by their SDKs.
type WorkerConfig struct {
	// Log is AIFLOW_LOG_LEVEL and AIFLOW_LOG_FORMAT.
	Log config.Log
	// Providers is AIFLOW_AI_PROVIDERS: the providers to build, comma
	// separated, from KnownProviders; default "anthropic,openai,bedrock".
	Providers []string
	// DefaultProvider is AIFLOW_AI_DEFAULT_PROVIDER: the provider of a
	// model named without "provider/"; empty refuses such models.
	DefaultProvider string
	// ScriptFile is AIFLOW_AI_SCRIPT, the scripted provider's script;
	// required when Providers has "scripted".
	ScriptFile string
	// Prices is AIFLOW_AI_PRICES, a JSON object of model to
	// {"input": USD per million tokens, "output": ...}.
	Prices PriceTable
	// StepTokenBudget and ExecutionTokenBudget are
	// AIFLOW_AI_STEP_TOKEN_BUDGET and AIFLOW_AI_EXECUTION_TOKEN_BUDGET;
	// 0 (the default) means none. The execution's budget needs
	// DATABASE_URL, where the execution's usage is recorded.
	StepTokenBudget      int
	ExecutionTokenBudget int
	// MaxAttempts is AIFLOW_AI_MAX_ATTEMPTS, the calls per model request
	// inside a step, retries included (1 to 10, default 3).
	MaxAttempts int
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
	// DatabaseURL is DATABASE_URL: where detail events go (the event
	// store); empty records none.
	DatabaseURL string
}

// LogValue shows the configuration in logs without the database password.
func (c WorkerConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("log", c.Log),
		slog.String("providers", strings.Join(c.Providers, ",")),
		slog.String("default_provider", c.DefaultProvider),
		slog.Int("prices", len(c.Prices)),
		slog.Int("step_token_budget", c.StepTokenBudget),
		slog.Int("execution_token_budget", c.ExecutionTokenBudget),
		slog.Int("max_attempts", c.MaxAttempts),
		slog.String("heartbeat", c.Heartbeat.String()),
		slog.String("deadline_margin", c.DeadlineMargin.String()),
		slog.String("sfn_endpoint", c.SFNEndpoint),
		slog.String("database_url", telemetry.RedactURL(c.DatabaseURL)),
	)
}

// LoadWorkerConfig reads WorkerConfig through lookup. When variables are
// missing or invalid it returns a *config.Error listing all of them, with
// defaults in their place.
func LoadWorkerConfig(lookup config.LookupFunc) (WorkerConfig, error) {
	r := &envReader{lookup: lookup}
	c := WorkerConfig{
		Log: config.Log{
			Level:  r.level("AIFLOW_LOG_LEVEL"),
			Format: telemetry.LogFormat(r.oneOf("AIFLOW_LOG_FORMAT", "auto", "auto", "json", "text")),
		},
		Providers:            r.providers("AIFLOW_AI_PROVIDERS"),
		ScriptFile:           r.get("AIFLOW_AI_SCRIPT"),
		Prices:               r.prices("AIFLOW_AI_PRICES"),
		StepTokenBudget:      r.int("AIFLOW_AI_STEP_TOKEN_BUDGET", 0, 0, 1<<40),
		ExecutionTokenBudget: r.int("AIFLOW_AI_EXECUTION_TOKEN_BUDGET", 0, 0, 1<<40),
		MaxAttempts:          r.int("AIFLOW_AI_MAX_ATTEMPTS", 3, 1, 10),
		Heartbeat:            r.duration("AIFLOW_STEP_HEARTBEAT", 20*time.Second, time.Second, 15*time.Minute),
		DeadlineMargin:       r.duration("AIFLOW_STEP_DEADLINE_MARGIN", 3*time.Second, 0, time.Minute),
		SFNEndpoint:          r.url("AIFLOW_SFN_ENDPOINT", "http://127.0.0.1:8083"),
		DatabaseURL:          r.get("DATABASE_URL"),
	}
	if d := r.get("AIFLOW_AI_DEFAULT_PROVIDER"); d != "" {
		if !slices.Contains(c.Providers, d) {
			r.problem("AIFLOW_AI_DEFAULT_PROVIDER", "scripted", "%q is not one of AIFLOW_AI_PROVIDERS (%s)", d, strings.Join(c.Providers, ","))
		} else {
			c.DefaultProvider = d
		}
	}
	if slices.Contains(c.Providers, "scripted") && c.ScriptFile == "" {
		r.problem("AIFLOW_AI_SCRIPT", "examples/scripts/scripted.yaml", "is required when AIFLOW_AI_PROVIDERS has scripted")
	}
	if c.ExecutionTokenBudget > 0 && c.DatabaseURL == "" {
		r.problem("DATABASE_URL", "postgres://aiflow_worker:secret@localhost:5432/aiflow", "is required with AIFLOW_AI_EXECUTION_TOKEN_BUDGET: the execution's usage is read from the event store")
	}
	if len(r.problems) > 0 {
		return c, &config.Error{Binary: "functions/aistep", Problems: r.problems}
	}
	return c, nil
}

// envReader reads typed variables, collecting a problem for each bad one.
type envReader struct {
	lookup   config.LookupFunc
	problems []config.Problem
}

func (r *envReader) get(key string) string {
	if r.lookup == nil {
		return ""
	}
	v, _ := r.lookup(key)
	return strings.TrimSpace(v)
}

func (r *envReader) problem(key, example, format string, args ...any) {
	r.problems = append(r.problems, config.Problem{Var: key, Problem: fmt.Sprintf(format, args...), Example: example})
}

func (r *envReader) oneOf(key, def string, allowed ...string) string {
	v := r.get(key)
	if v == "" {
		return def
	}
	if !slices.Contains(allowed, v) {
		r.problem(key, def, "%q is not one of %s", v, strings.Join(allowed, ", "))
		return def
	}
	return v
}

func (r *envReader) level(key string) slog.Level {
	levels := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
	return levels[r.oneOf(key, "info", "debug", "info", "warn", "error")]
}

func (r *envReader) int(key string, def, lo, hi int) int {
	v := r.get(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.problem(key, strconv.Itoa(max(def, lo)), "%q is not a whole number from %d to %d", v, lo, hi)
		return def
	}
	return n
}

func (r *envReader) duration(key string, def, lo, hi time.Duration) time.Duration {
	v := r.get(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		r.problem(key, def.String(), "%q is not a duration from %s to %s", v, lo, hi)
		return def
	}
	return d
}

func (r *envReader) url(key, example string) string {
	v := r.get(key)
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.problem(key, example, "%q is not an http or https URL", v)
		return ""
	}
	return v
}

func (r *envReader) providers(key string) []string {
	v := r.get(key)
	if v == "" {
		return []string{"anthropic", "openai", "bedrock"}
	}
	var out []string
	for p := range strings.SplitSeq(v, ",") {
		p = strings.TrimSpace(p)
		switch {
		case p == "":
		case !slices.Contains(KnownProviders, p):
			r.problem(key, "anthropic,openai", "%q is not a provider (known: %s)", p, strings.Join(KnownProviders, ", "))
		case !slices.Contains(out, p):
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		r.problem(key, "anthropic,openai", "names no provider")
	}
	return out
}

func (r *envReader) prices(key string) PriceTable {
	v := r.get(key)
	if v == "" {
		return nil
	}
	var t PriceTable
	dec := json.NewDecoder(strings.NewReader(v))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		r.problem(key, `{"anthropic/claude-haiku-4-5":{"input":1,"output":5}}`, "is not a JSON object of model to {\"input\", \"output\"} prices: %v", err)
		return nil
	}
	for model, p := range t {
		if p.InputPerMillion < 0 || p.OutputPerMillion < 0 {
			r.problem(key, `{"anthropic/claude-haiku-4-5":{"input":1,"output":5}}`, "the price of %q is negative", model)
		}
	}
	return t
}
