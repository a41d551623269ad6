package config

import (
	"log/slog"

	"github.com/aiflow/aiflow/internal/telemetry"
)

// Mode is where the system that `aiflow doctor` checks runs.
type Mode string

// Modes accepted in AIFLOW_MODE.
const (
	// ModeLocal is `aiflow dev` on this machine.
	ModeLocal Mode = "local"
	// ModeAWS is the deployment on AWS Lambda and Step Functions.
	ModeAWS Mode = "aws"
)

// AI providers accepted in AIFLOW_AI_PROVIDER.
const (
	// AIProviderScripted replays canned answers; it needs no key.
	AIProviderScripted = "scripted"
	// AIProviderOpenAI calls OpenAI with OPENAI_API_KEY.
	AIProviderOpenAI = "openai"
	// AIProviderAnthropic calls Anthropic with ANTHROPIC_API_KEY.
	AIProviderAnthropic = "anthropic"
	// AIProviderBedrock calls Amazon Bedrock with AWS credentials.
	AIProviderBedrock = "bedrock"
)

// Doctor is the configuration of `aiflow doctor`, which checks that a
// machine or a deployment can run aiflow. It loads leniently: missing API
// keys are findings for doctor to report, not load errors.
type Doctor struct {
	// DatabaseURL is DATABASE_URL; empty means the local cluster.
	DatabaseURL string
	// PGBinDir is AIFLOW_PG_BINDIR, an existing directory or empty.
	PGBinDir string
	// Mode is AIFLOW_MODE (local or aws, default local).
	Mode Mode
	// AWSRegion is AWS_REGION, or AWS_DEFAULT_REGION when that is unset,
	// such as us-east-1. It is required when Mode is ModeAWS.
	AWSRegion string
	// AIProvider is AIFLOW_AI_PROVIDER (scripted, openai, anthropic or
	// bedrock; default scripted), one of the AIProvider constants.
	AIProvider string
	// OpenAIKey is OPENAI_API_KEY, possibly empty.
	OpenAIKey telemetry.Secret
	// AnthropicKey is ANTHROPIC_API_KEY, possibly empty.
	AnthropicKey telemetry.Secret
	// Log is AIFLOW_LOG_LEVEL and AIFLOW_LOG_FORMAT.
	Log Log
}

// LoadDoctor reads Doctor from the environment through lookup. When
// variables are missing or invalid it returns an *Error listing all of
// them, together with a Doctor that holds defaults in their place.
func LoadDoctor(lookup LookupFunc) (Doctor, error) {
	r := newReader(lookup)
	var cfg Doctor
	cfg.DatabaseURL = r.postgresURL("DATABASE_URL", false)
	cfg.PGBinDir = r.dir("AIFLOW_PG_BINDIR", examplePGBinDir)
	cfg.Mode = Mode(r.enum("AIFLOW_MODE", string(ModeLocal), string(ModeLocal), string(ModeAWS)))
	cfg.AWSRegion = r.awsRegion(cfg.Mode == ModeAWS, "when AIFLOW_MODE=aws", "AWS_REGION", "AWS_DEFAULT_REGION")
	cfg.AIProvider = r.enum("AIFLOW_AI_PROVIDER", AIProviderScripted,
		AIProviderScripted, AIProviderOpenAI, AIProviderAnthropic, AIProviderBedrock)
	cfg.OpenAIKey = r.secret("OPENAI_API_KEY")
	cfg.AnthropicKey = r.secret("ANTHROPIC_API_KEY")
	cfg.Log = readLog(r)
	return cfg, r.err("aiflow doctor")
}

// LogValue shows the configuration in logs with the database password
// masked and the API keys reduced to whether they are set.
func (c Doctor) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Attr{Key: "database_url", Value: redactedURL(c.DatabaseURL)},
		slog.String("pg_bindir", c.PGBinDir),
		slog.String("mode", string(c.Mode)),
		slog.String("aws_region", c.AWSRegion),
		slog.String("ai_provider", c.AIProvider),
		slog.Bool("openai_key_set", c.OpenAIKey != ""),
		slog.Bool("anthropic_key_set", c.AnthropicKey != ""),
		slog.Any("log", c.Log),
	)
}
