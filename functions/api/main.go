// Command api is the HTTP API Lambda behind API Gateway (HTTP API, payload
// format 2.0). It only wires: configuration, logger and database pool are
// built once per cold start, and every request goes to internal/httpapi.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/httpapi"
	"github.com/aiflow/aiflow/internal/telemetry"
)

func main() {
	cfg, err := config.LoadAPI(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	logger := telemetry.NewLogger(telemetry.LoggerOptions{
		Level:    cfg.Log.Level,
		Format:   cfg.Log.Format,
		InLambda: telemetry.DetectLambda(os.LookupEnv),
	})
	poolCfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		fmt.Fprintf(os.Stderr, "functions/api: DATABASE_URL: %v\n", err)
		os.Exit(1)
	}
	poolCfg.MaxConns = int32(cfg.DBMaxConns)
	pool, err := pgxpool.NewWithConfig(context.Background(), poolCfg) // connects lazily
	if err != nil {
		fmt.Fprintf(os.Stderr, "functions/api: opening the database pool: %v\n", err)
		os.Exit(1)
	}
	h := httpapi.NewLambdaHandler(httpapi.New(httpapi.Options{DB: pool, Logger: logger, Version: os.Getenv("AWS_LAMBDA_FUNCTION_VERSION")}))
	lambda.StartHandlerFunc(h.Handle)
}
