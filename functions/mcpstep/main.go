// Command mcpstep is the Lambda that runs mcp steps: an SQS event source
// feeds it the messages of the mcp-steps queue, and it answers each task
// with SendTaskSuccess or SendTaskFailure. It only wires: the step
// worker's settings (the ai worker's variables: AIFLOW_STEP_HEARTBEAT,
// AIFLOW_STEP_DEADLINE_MARGIN, AIFLOW_SFN_ENDPOINT, DATABASE_URL, the log
// settings), the MCP servers (AIFLOW_MCP_CONFIG, AIFLOW_MCP_SERVERS),
// the secrets they name (AIFLOW_MCP_SECRETS: "env", the default, or
// "secretsmanager"), their approved tool definitions (AIFLOW_MCP_PINS, a
// pin file: when set, only the tools it approves are called) and the
// detail store are built once per cold start; every batch goes to
// internal/steps. The MCP sessions stay open across invocations.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/awssfn"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/mcpclient"
	"github.com/aiflow/aiflow/internal/secrets"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/steps/detailstore"
	"github.com/aiflow/aiflow/internal/telemetry"
)

func main() {
	if err := run(context.Background()); err != nil {
		var cfgErr *config.Error
		if errors.As(err, &cfgErr) {
			fmt.Fprintln(os.Stderr, err)
		} else {
			fmt.Fprintf(os.Stderr, "functions/mcpstep: %v\n", err)
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
	mcpCfg, err := mcpclient.LoadConfig(os.LookupEnv, nil)
	if err != nil {
		return err
	}
	opts := mcpclient.Options{Config: mcpCfg, Logger: logger, ClientName: "aiflow-mcpstep"}
	switch src := os.Getenv("AIFLOW_MCP_SECRETS"); src {
	case "", "env":
		opts.Secrets = secrets.Env{}
	case "secretsmanager":
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return fmt.Errorf("loading the AWS configuration: %w", err)
		}
		opts.Secrets = secrets.NewSecretsManagerFromConfig(awsCfg, secrets.SecretsManagerOptions{})
	default:
		return fmt.Errorf("AIFLOW_MCP_SECRETS: %q is neither env nor secretsmanager", src)
	}
	if pins := os.Getenv("AIFLOW_MCP_PINS"); pins != "" {
		opts.Pins, opts.RequireApproval = &mcpclient.FilePins{Path: pins}, true
	}
	pool, err := mcpclient.New(opts)
	if err != nil {
		return err
	}
	sfnClient, err := awssfn.NewClient(ctx, cfg.SFNEndpoint, "")
	if err != nil {
		return err
	}
	mcpStep := steps.MCPConfig{Pool: pool, Logger: logger}
	if cfg.DatabaseURL != "" {
		db, err := pgxpool.New(ctx, cfg.DatabaseURL) // connects lazily
		if err != nil {
			return fmt.Errorf("opening the database pool: %w", err)
		}
		events, err := eventstore.Open(ctx, db, eventstore.Options{Logger: logger})
		if err != nil {
			return fmt.Errorf("opening the event store: %w", err)
		}
		mcpStep.Details = detailstore.New(events, "mcpstep")
	}
	rt, err := steps.NewRuntime(steps.RuntimeConfig{
		Callbacks:         awssfn.New(sfnClient),
		Handlers:          map[string]steps.Handler{"mcp": steps.NewMCP(mcpStep)},
		HeartbeatInterval: cfg.Heartbeat,
		DeadlineMargin:    cfg.DeadlineMargin,
		Logger:            logger,
	})
	if err != nil {
		return err
	}
	logger.Info("mcpstep ready", "config", cfg, "mcp_servers", pool.Servers())
	lambda.StartHandlerFunc(rt.Handle)
	return nil
}
