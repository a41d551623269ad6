// Package apifunction builds the API Lambda (functions/api) from its
// environment, so that its main and `aiflow invoke api` run the same
// handler: configuration, logger, database pool, the Step Functions
// client, the audit log and the rate limiter, built once per cold start.
// The entry takes API Gateway requests and the approvals queue's messages.
package apifunction

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/audit"
	"github.com/aiflow/aiflow/internal/awssfn"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/httpapi"
	"github.com/aiflow/aiflow/internal/steps/detailstore"
	"github.com/aiflow/aiflow/internal/telemetry"
	"github.com/aiflow/aiflow/internal/workflow"
)

// QueueVariables are the variables holding the URLs of the queues the
// compiler's substitutions name (template.yaml sets them).
var QueueVariables = map[string]string{
	workflow.AIQueueSubstitution:       "AIFLOW_AI_STEP_QUEUE_URL",
	workflow.MCPQueueSubstitution:      "AIFLOW_MCP_STEP_QUEUE_URL",
	workflow.ServiceQueueSubstitution:  "AIFLOW_SERVICE_STEP_QUEUE_URL",
	workflow.ApprovalQueueSubstitution: "AIFLOW_APPROVAL_QUEUE_URL",
}

// Options are what the caller's process gives the function.
type Options struct {
	// Lookup reads the environment; nil means os.LookupEnv.
	Lookup config.LookupFunc
	// LogWriter receives the logs; nil means stderr.
	LogWriter io.Writer
	// Version is reported by /healthz.
	Version string
}

// Function is the built API Lambda: Entry.Handle is its handler; Close
// closes its database pool.
type Function struct {
	Entry *httpapi.Entry
	Close func()
}

// New builds the function. Configuration problems come back as one
// *config.Error naming every variable.
func New(ctx context.Context, o Options) (*Function, error) {
	lookup := o.Lookup
	if lookup == nil {
		lookup = os.LookupEnv
	}
	getenv := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	cfg, err := config.LoadAPI(lookup)
	if err != nil {
		return nil, err
	}
	authCfg, err := config.LoadAuth(lookup, "functions/api")
	if err != nil {
		return nil, err
	}
	logger := telemetry.NewLogger(telemetry.LoggerOptions{
		Level: cfg.Log.Level, Format: cfg.Log.Format, Writer: o.LogWriter,
		InLambda: telemetry.DetectLambda(lookup),
	})
	poolCfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	poolCfg.MaxConns = int32(cfg.DBMaxConns)
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg) // connects lazily
	if err != nil {
		return nil, fmt.Errorf("opening the database pool: %w", err)
	}
	fail := func(err error) (*Function, error) {
		pool.Close()
		return nil, err
	}
	events, err := eventstore.Open(ctx, pool, eventstore.Options{Logger: logger})
	if err != nil {
		return fail(fmt.Errorf("opening the event store: %w", err))
	}
	authn, err := httpapi.NewAuthenticator(authCfg, nil)
	if err != nil {
		return fail(err)
	}
	limiter, err := httpapi.NewLimiter(authCfg)
	if err != nil {
		return fail(err)
	}
	sfnClient, err := awssfn.NewClient(ctx, getenv("AIFLOW_SFN_ENDPOINT"), "")
	if err != nil {
		return fail(err)
	}
	queues := map[string]string{}
	for sub, name := range QueueVariables {
		if url := getenv(name); url != "" {
			queues[sub] = url
		}
	}
	version := o.Version
	if version == "" {
		version = getenv("AWS_LAMBDA_FUNCTION_VERSION")
	}
	store := apistore.New(pool)
	api := httpapi.New(httpapi.Options{
		DB:                  pool,
		Version:             version,
		Logger:              logger,
		Store:               store,
		Machines:            awssfn.New(sfnClient),
		Details:             detailstore.New(events, "api"),
		Authenticator:       authn,
		Audit:               audit.New(pool, audit.Options{}),
		Limiter:             limiter,
		QueueURLs:           queues,
		StateMachinePrefix:  getenv("AIFLOW_STATE_MACHINE_PREFIX"),
		StateMachineRoleARN: getenv("AIFLOW_STATE_MACHINE_ROLE_ARN"),
	})
	return &Function{
		Entry: &httpapi.Entry{
			API:       httpapi.NewLambdaHandler(api),
			Approvals: &httpapi.ApprovalWorker{Store: store, Logger: logger},
		},
		Close: pool.Close,
	}, nil
}
