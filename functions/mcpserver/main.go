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

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/supportdesk"
	"github.com/aiflow/aiflow/internal/telemetry"
)

func main() {
	cfg, err := config.LoadMCPServer(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // it names the binary itself
		os.Exit(1)
	}
	if err := run(context.Background(), cfg); err != nil {
		fmt.Fprintf(os.Stderr, "functions/mcpserver: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config.MCPServer) error {
	logger := telemetry.NewLogger(cfg.Log.LoggerOptions(nil))
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL) // connects lazily
	if err != nil {
		return fmt.Errorf("opening the database pool: %w", err)
	}
	desk := supportdesk.ConfigOf(cfg.Support)
	server, err := supportdesk.NewServer(supportdesk.New(pool, desk.DeskOptions()), supportdesk.ServerOptions{
		Version: cfg.Version,
		Logger:  logger,
	})
	if err != nil {
		return err
	}
	h, err := supportdesk.NewHTTPHandler(supportdesk.HTTPOptions{
		Server:         server,
		TokenSecret:    desk.TokenSecret,
		AllowedOrigins: desk.AllowedOrigins,
		Stateless:      true,
		Logger:         logger,
	})
	if err != nil {
		return err
	}
	logger.Info("mcpserver ready", "allowed_origins", desk.AllowedOrigins, "refund_window", desk.Rules.RefundWindow, "approval_threshold_cents", desk.Rules.ApprovalThresholdCents)
	lambda.StartHandlerFunc(supportdesk.NewFunctionURLHandler(h).Handle)
	return nil
}
