// Package apifunction builds the API Lambda (functions/api) from its
// configuration (config.APIFunction), so that its main and `aiflow invoke
// api` run the same handler: logger, database pool, the Step Functions
// client, the service registry (on its PostgreSQL store), the audit log and
// the rate limiter, built once per cold start.
// The entry takes API Gateway requests and the approvals queue's messages.
package apifunction

import (
	"context"
	"fmt"
	"io"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/audit"
	"github.com/aiflow/aiflow/internal/awssfn"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/control"
	"github.com/aiflow/aiflow/internal/database"
	"github.com/aiflow/aiflow/internal/egress"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/httpapi"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/registrystore"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/steps/detailstore"
	"github.com/aiflow/aiflow/internal/telemetry"
	"github.com/aiflow/aiflow/internal/workflow"
)

// queueURLs maps the queues the compiler's substitutions name to their
// URLs in cfg (template.yaml sets them); unset ones are left out.
func queueURLs(q config.StepQueues) map[string]string {
	queues := map[string]string{}
	for sub, url := range map[string]string{
		workflow.AIQueueSubstitution:       q.AI,
		workflow.MCPQueueSubstitution:      q.MCP,
		workflow.ServiceQueueSubstitution:  q.Service,
		workflow.ApprovalQueueSubstitution: q.Approval,
	} {
		if url != "" {
			queues[sub] = url
		}
	}
	return queues
}

// Options are what the caller's process gives the function.
type Options struct {
	// Config is the function's configuration, from config.LoadAPIFunction.
	Config config.APIFunction
	// LogWriter receives the logs; nil means stderr.
	LogWriter io.Writer
	// Version is reported by /healthz; empty means Config.Version.
	Version string
	// Requests, if set, hears every API request by route pattern: on
	// Lambda a *metrics.Recorder over an EMF sink flushed after every
	// invocation.
	Requests httpapi.RequestObserver
}

// Function is the built API Lambda: Entry.Handle is its handler; Close
// closes its database pool.
type Function struct {
	Entry *httpapi.Entry
	Close func()
}

// New builds the function from o.Config. It returns the errors of making
// the clients.
func New(ctx context.Context, o Options) (*Function, error) {
	cfg, authCfg := o.Config, o.Config.Auth
	logger := telemetry.NewLogger(cfg.Log.LoggerOptions(o.LogWriter))
	pool, err := database.OpenPool(ctx, database.PoolParams{Database: cfg.Database, MaxConns: cfg.DBMaxConns}) // connects lazily
	if err != nil {
		return nil, err
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
	limiter, err := httpapi.NewLimiter(authCfg.RateLimit, authCfg.RateBurst)
	if err != nil {
		return fail(err)
	}
	failures, err := httpapi.NewFailureLimiter()
	if err != nil {
		return fail(err)
	}
	sfnClient, err := awssfn.NewClient(ctx, cfg.SFNEndpoint, "")
	if err != nil {
		return fail(err)
	}
	queues := queueURLs(cfg.Queues)
	version := o.Version
	if version == "" {
		version = cfg.Version
	}
	// The registry's rows and history live in the API's database (the
	// registry schema and the event store), so a change and its events
	// commit together.
	// An endpoint is checked by the egress guard when it is registered
	// (the service step checks every address it dials again).
	guard := egress.New(egress.Config{Logger: logger})
	reg, err := registry.New(registry.Config{Store: registrystore.New(events), Logger: logger, CheckEndpointFunc: guard.CheckEndpoint})
	if err != nil {
		return fail(err)
	}
	blobs, err := blobReader(ctx, cfg.Blobs, pool)
	if err != nil {
		return fail(err)
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
		FailureLimiter:      failures,
		TrustedProxies:      authCfg.TrustedProxies,
		QueueURLs:           queues,
		StateMachinePrefix:  cfg.StateMachinePrefix,
		StateMachineRoleARN: cfg.StateMachineRoleARN,
		StateMachineLogging: stateMachineLogging(cfg.StateMachineLogs),
		StateMachineTracing: cfg.StateMachineTracing,
		Registry:            reg,
		Requests:            o.Requests,
		Blobs:               blobs,
		MaxResolvedBytes:    int64(cfg.Blobs.MaxResolvedBytes),
	})
	return &Function{
		Entry: &httpapi.Entry{
			API:       httpapi.NewLambdaHandler(api),
			Approvals: &httpapi.ApprovalWorker{Store: store, Tokens: awssfn.New(sfnClient), Logger: logger},
			// The template's schedule sends an event every minute.
			ResumeDecisions: func(ctx context.Context) (int, error) {
				return api.Control().ResumeDecisions(ctx, control.ResumeDecisionsParams{})
			},
		},
		Close: pool.Close,
	}, nil
}

// stateMachineLogging is the logging of published state machines: none
// without a log group.
func stateMachineLogging(c config.StateMachineLogs) *sfn.LoggingConfiguration {
	if c.LogGroupARN == "" {
		return nil
	}
	return &sfn.LoggingConfiguration{Level: c.Level, IncludeExecutionData: c.IncludeExecutionData, LogGroupARN: c.LogGroupARN}
}
