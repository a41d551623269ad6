// Command aistep is the Lambda that runs ai steps: an SQS event source
// feeds it the messages of the ai-steps queue, and it answers each task
// with SendTaskSuccess or SendTaskFailure. It only wires: configuration,
// model providers, the Step Functions client and the detail store are
// built once per cold start, and every batch goes to internal/steps.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/ai/anthropic"
	"github.com/aiflow/aiflow/internal/ai/bedrock"
	"github.com/aiflow/aiflow/internal/ai/openai"
	"github.com/aiflow/aiflow/internal/ai/scripted"
	"github.com/aiflow/aiflow/internal/awssfn"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/steps/detailstore"
	"github.com/aiflow/aiflow/internal/telemetry"
)

func main() {
	if err := run(context.Background()); err != nil {
		var cfgErr *config.Error
		if errors.As(err, &cfgErr) {
			fmt.Fprintln(os.Stderr, err) // it names the binary itself
		} else {
			fmt.Fprintf(os.Stderr, "functions/aistep: %v\n", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	cfg, err := steps.LoadWorkerConfig(os.LookupEnv)
	if err != nil {
		return err
	}
	logger := telemetry.NewLogger(telemetry.LoggerOptions{
		Level:    cfg.Log.Level,
		Format:   cfg.Log.Format,
		InLambda: telemetry.DetectLambda(os.LookupEnv),
	})
	providers := map[string]ai.Provider{}
	for _, name := range cfg.Providers {
		p, err := provider(ctx, name, cfg)
		if err != nil {
			return err
		}
		providers[name] = p
	}
	sfnClient, err := awssfn.NewClient(ctx, cfg.SFNEndpoint, "")
	if err != nil {
		return err
	}
	aiCfg := steps.AIConfig{
		Providers:            providers,
		DefaultProvider:      cfg.DefaultProvider,
		Retrier:              ai.Retrier{MaxAttempts: cfg.MaxAttempts},
		Prices:               cfg.Prices,
		StepTokenBudget:      cfg.StepTokenBudget,
		ExecutionTokenBudget: cfg.ExecutionTokenBudget,
		Logger:               logger,
	}
	if cfg.DatabaseURL != "" {
		pool, err := pgxpool.New(ctx, cfg.DatabaseURL) // connects lazily
		if err != nil {
			return fmt.Errorf("opening the database pool: %w", err)
		}
		events, err := eventstore.Open(ctx, pool, eventstore.Options{Logger: logger})
		if err != nil {
			return fmt.Errorf("opening the event store: %w", err)
		}
		aiCfg.Details = detailstore.New(events, "aistep")
	}
	rt, err := steps.NewRuntime(steps.RuntimeConfig{
		Callbacks:         awssfn.New(sfnClient),
		Handlers:          map[string]steps.Handler{"ai": steps.NewAI(aiCfg)},
		HeartbeatInterval: cfg.Heartbeat,
		DeadlineMargin:    cfg.DeadlineMargin,
		Logger:            logger,
	})
	if err != nil {
		return err
	}
	logger.Info("aistep ready", "config", cfg)
	lambda.StartHandlerFunc(rt.Handle)
	return nil
}

// provider builds the provider name; the SDKs read their keys and base URLs
// from their standard variables (Bedrock from the AWS configuration and
// AWS_ENDPOINT_URL_BEDROCK_RUNTIME).
func provider(ctx context.Context, name string, cfg steps.WorkerConfig) (ai.Provider, error) {
	switch name {
	case "scripted":
		s, err := scripted.Load(cfg.ScriptFile)
		if err != nil {
			return nil, fmt.Errorf("AIFLOW_AI_SCRIPT: %w", err)
		}
		return scripted.New(s, scripted.Options{}), nil
	case "anthropic":
		return anthropic.New(anthropic.Options{}), nil
	case "openai":
		return openai.New(openai.Options{}), nil
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
