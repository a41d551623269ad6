// Command mcpserver is the customer-support MCP server as a Lambda behind a
// Function URL. It only wires: configuration, logger and database pool are
// built once per cold start, and every request goes to internal/supportdesk,
// served stateless (plain JSON responses, no sessions), as Lambda's
// buffered responses require.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/supportdesk"
	"github.com/aiflow/aiflow/internal/telemetry"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "functions/mcpserver: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	cfg, err := supportdesk.LoadFunctionConfig(os.LookupEnv)
	if err != nil {
		return err
	}
	logger := telemetry.NewLogger(telemetry.LoggerOptions{
		Level:    cfg.Log.Level,
		Format:   cfg.Log.Format,
		InLambda: telemetry.DetectLambda(os.LookupEnv),
	})
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL) // connects lazily
	if err != nil {
		return fmt.Errorf("opening the database pool: %w", err)
	}
	server, err := supportdesk.NewServer(supportdesk.New(pool, cfg.DeskOptions()), supportdesk.ServerOptions{
		Version: os.Getenv("AWS_LAMBDA_FUNCTION_VERSION"),
		Logger:  logger,
	})
	if err != nil {
		return err
	}
	h, err := supportdesk.NewHTTPHandler(supportdesk.HTTPOptions{
		Server:         server,
		TokenSecret:    cfg.TokenSecret,
		AllowedOrigins: cfg.AllowedOrigins,
		Stateless:      true,
		Logger:         logger,
	})
	if err != nil {
		return err
	}
	logger.Info("mcpserver ready", "allowed_origins", cfg.AllowedOrigins, "refund_window", cfg.Rules.RefundWindow, "approval_threshold_cents", cfg.Rules.ApprovalThresholdCents)
	lambda.StartHandlerFunc(supportdesk.NewFunctionURLHandler(h).Handle)
	return nil
}
