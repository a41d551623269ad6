// Command api is the HTTP API Lambda behind API Gateway (HTTP API, payload
// format 2.0). It only wires: configuration, logger, database pool, the
// Step Functions client, the audit log and the rate limiter are built once
// per cold start, and every request goes to internal/httpapi. Subscribed
// to the approvals queue as well, it stores the approval steps' messages
// (httpapi.Entry tells the two kinds of event apart).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/audit"
	"github.com/aiflow/aiflow/internal/awssfn"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/httpapi"
	"github.com/aiflow/aiflow/internal/steps/detailstore"
	"github.com/aiflow/aiflow/internal/telemetry"
	"github.com/aiflow/aiflow/internal/workflow"
)

func main() {
	if err := run(context.Background()); err != nil {
		var cfgErr *config.Error
		if errors.As(err, &cfgErr) {
			fmt.Fprintln(os.Stderr, err) // it names the binary itself
		} else {
			fmt.Fprintf(os.Stderr, "functions/api: %v\n", err)
		}
		os.Exit(1)
	}
}

// queueVariables are the variables holding the URLs of the queues the
// compiler's substitutions name (template.yaml sets them).
var queueVariables = map[string]string{
	workflow.AIQueueSubstitution:       "AIFLOW_AI_STEP_QUEUE_URL",
	workflow.MCPQueueSubstitution:      "AIFLOW_MCP_STEP_QUEUE_URL",
	workflow.ServiceQueueSubstitution:  "AIFLOW_SERVICE_STEP_QUEUE_URL",
	workflow.ApprovalQueueSubstitution: "AIFLOW_APPROVAL_QUEUE_URL",
}

func run(ctx context.Context) error {
	cfg, err := config.LoadAPI(os.LookupEnv)
	if err != nil {
		return err
	}
	authCfg, err := config.LoadAuth(os.LookupEnv, "functions/api")
	if err != nil {
		return err
	}
	logger := telemetry.NewLogger(telemetry.LoggerOptions{
		Level:    cfg.Log.Level,
		Format:   cfg.Log.Format,
		InLambda: telemetry.DetectLambda(os.LookupEnv),
	})
	poolCfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	poolCfg.MaxConns = int32(cfg.DBMaxConns)
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg) // connects lazily
	if err != nil {
		return fmt.Errorf("opening the database pool: %w", err)
	}
	events, err := eventstore.Open(ctx, pool, eventstore.Options{Logger: logger})
	if err != nil {
		return fmt.Errorf("opening the event store: %w", err)
	}
	authn, err := httpapi.NewAuthenticator(authCfg, nil)
	if err != nil {
		return err
	}
	limiter, err := httpapi.NewLimiter(authCfg)
	if err != nil {
		return err
	}
	sfnClient, err := awssfn.NewClient(ctx, os.Getenv("AIFLOW_SFN_ENDPOINT"), "")
	if err != nil {
		return err
	}
	queues := map[string]string{}
	for sub, name := range queueVariables {
		if url := strings.TrimSpace(os.Getenv(name)); url != "" {
			queues[sub] = url
		}
	}
	store := httpapi.NewStore(pool)
	api := httpapi.New(httpapi.Options{
		DB:                  pool,
		Version:             os.Getenv("AWS_LAMBDA_FUNCTION_VERSION"),
		Logger:              logger,
		Store:               store,
		Machines:            awssfn.New(sfnClient),
		Details:             detailstore.New(events, "api"),
		Authenticator:       authn,
		Audit:               audit.New(pool, audit.Options{}),
		Limiter:             limiter,
		QueueURLs:           queues,
		StateMachinePrefix:  os.Getenv("AIFLOW_STATE_MACHINE_PREFIX"),
		StateMachineRoleARN: os.Getenv("AIFLOW_STATE_MACHINE_ROLE_ARN"),
	})
	entry := &httpapi.Entry{
		API:       httpapi.NewLambdaHandler(api),
		Approvals: &httpapi.ApprovalWorker{Store: store, Logger: logger},
	}
	lambda.StartHandlerFunc(entry.Handle)
	return nil
}
