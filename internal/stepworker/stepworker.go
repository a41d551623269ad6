// Package stepworker holds what the step workers of the Lambda functions
// aistep, mcpstep and servicestep share, so that each function's main
// and `aiflow invoke` run the same handler: the logger, the detail store, the Step
// Functions client for callbacks and the runtime, built once per cold
// start from the step settings of config.Step, and the secret source
// config.SecretStore names, and the MCP client pool of config.MCPClients
// (MCPPool), which the mcp worker calls for its steps and the ai worker
// for its agents' tools. The workers themselves are built by
// stepworker/aiworker (model providers), stepworker/mcpworker and
// stepworker/serviceworker, so a function links only its own clients.
package stepworker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/aiflow/aiflow/internal/awssfn"
	"github.com/aiflow/aiflow/internal/blob"
	"github.com/aiflow/aiflow/internal/blob/pgblob"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/database"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/mcpclient"
	"github.com/aiflow/aiflow/internal/metrics"
	"github.com/aiflow/aiflow/internal/metrics/stepmetrics"
	"github.com/aiflow/aiflow/internal/secrets"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/steps/detailstore"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// Worker is a built step worker: Runtime.Handle is its Lambda handler;
// Close releases what it holds (database pool, MCP sessions).
type Worker struct {
	Runtime *steps.Runtime
	Logger  *slog.Logger
	// Details records detail events in the event store; nil when
	// DATABASE_URL is unset.
	Details steps.DetailRecorder
	// Events is the event store Details appends to, for what else a
	// worker keeps there (the service worker's registry); nil when
	// DATABASE_URL is unset.
	Events *eventstore.Store
	// Secrets answers the secrets the configuration names: the
	// environment, or Secrets Manager.
	Secrets secrets.Source
	// Metrics counts the worker's steps and calls (Options.Metrics); nil
	// counts nothing.
	Metrics *metrics.Recorder
	cfg     config.Step
	// store is the store Secrets reads, and lookup the environment the
	// env store reads.
	store   config.SecretStore
	lookup  func(string) (string, bool)
	wrap    func(sfn.Callbacks) sfn.Callbacks
	closers []func()
	// blobs keeps large step results (config.Blobs); nil without one.
	blobs blob.Store
}

// Close releases the worker's connections, the last acquired first.
func (w *Worker) Close() {
	for i := len(w.closers) - 1; i >= 0; i-- {
		w.closers[i]()
	}
}

// OnClose adds f to what Close releases.
func (w *Worker) OnClose(f func()) { w.closers = append(w.closers, f) }

// Options are what the caller's process gives a worker.
type Options struct {
	// LogWriter receives the logs; nil means stderr.
	LogWriter io.Writer
	// SecretsLookupFunc is the environment the env secret store reads;
	// nil means the process's.
	SecretsLookupFunc func(key string) (string, bool)
	// WrapCallbacksFunc, when set, wraps the Step Functions client the
	// runtime answers tasks with, so the caller sees each callback and its
	// result (`aiflow invoke` reports a step that failed this way); nil
	// leaves the client as it is.
	WrapCallbacksFunc func(sfn.Callbacks) sfn.Callbacks
	// Metrics, if set, counts the worker's steps (their duration per kind
	// and outcome), the model, MCP and service calls its detail events
	// record, and its circuit breakers' changes: on Lambda a recorder over
	// an EMF sink flushed after every invocation (metrics.Flushing).
	Metrics *metrics.Recorder
}

// Params are what New builds a worker from.
type Params struct {
	// Step is the step settings the workers share.
	Step config.Step
	// Secrets is where the worker's secrets come from (AIFLOW_AI_SECRETS,
	// AIFLOW_MCP_SECRETS).
	Secrets config.SecretStore
	// Options are what the caller's process gives the worker.
	Options Options
	// Actor names the worker in the detail events it records.
	Actor string
}

// New starts a worker with the shared step settings: its logger, the
// detail store when p.Step.Database is set (DATABASE_URL or
// AIFLOW_DATABASE_SECRET), and the source of the
// secrets p.Secrets names. The caller adds its handlers with Finish, or
// calls Close on failure. It returns the errors of opening the database
// pool and the event store and of loading the AWS configuration.
func New(ctx context.Context, p Params) (*Worker, error) {
	w, err := start(ctx, p.Step, p.Options, p.Actor)
	if err != nil {
		return nil, err
	}
	w.store, w.lookup = p.Secrets, p.Options.SecretsLookupFunc
	w.Secrets, err = secretSource(ctx, p.Secrets, p.Options.SecretsLookupFunc)
	if err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// MCPPool opens the MCP client pool of c for the worker: the servers of
// AIFLOW_MCP_CONFIG and AIFLOW_MCP_SERVERS, their secrets from the store
// AIFLOW_MCP_SECRETS names (the worker's own source when it is the same
// store), and only approved tools when AIFLOW_MCP_PINS is set. The pool
// opens its sessions on first use and keeps them across invocations;
// Close closes it. clientName is sent in initialize. It returns the errors
// of making the secret source and the pool; on error the worker is left
// as it was.
func (w *Worker) MCPPool(ctx context.Context, c config.MCPClients, clientName string) (*mcpclient.Pool, error) {
	src := w.Secrets
	if c.Secrets != w.store {
		var err error
		if src, err = secretSource(ctx, c.Secrets, w.lookup); err != nil {
			return nil, err
		}
	}
	opts := mcpclient.Options{Config: c.MCP, Secrets: src, Logger: w.Logger, ClientName: clientName}
	if w.Metrics != nil {
		opts.Observer = &stepmetrics.MCPObserver{Recorder: w.Metrics}
	}
	if c.Pins != "" {
		opts.Pins, opts.RequireApproval = &mcpclient.FilePins{Path: c.Pins}, true
	}
	pool, err := mcpclient.New(opts)
	if err != nil {
		return nil, fmt.Errorf("making the MCP client pool: %w", err)
	}
	w.OnClose(func() { _ = pool.Close() })
	return pool, nil
}

// start makes the worker's logger and detail store.
func start(ctx context.Context, cfg config.Step, o Options, actor string) (*Worker, error) {
	w := &Worker{cfg: cfg, wrap: o.WrapCallbacksFunc, Metrics: o.Metrics, Logger: telemetry.NewLogger(cfg.Log.LoggerOptions(o.LogWriter))}
	if !cfg.Database.IsSet() {
		return w, nil
	}
	db, err := database.OpenPool(ctx, database.PoolParams{Database: cfg.Database}) // connects lazily
	if err != nil {
		return nil, err
	}
	w.OnClose(db.Close)
	events, err := eventstore.Open(ctx, db, eventstore.Options{Logger: w.Logger})
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("opening the event store: %w", err)
	}
	w.Events, w.Details = events, detailstore.New(events, actor)
	if cfg.Blobs.Store == config.BlobStorePostgres {
		w.blobs = pgblob.New(db)
	}
	if w.Metrics != nil {
		w.Details = &stepmetrics.Details{Next: w.Details, Recorder: w.Metrics}
	}
	return w, nil
}

// Finish makes the runtime with the handlers and the callbacks client.
// On failure it closes the worker.
func (w *Worker) Finish(ctx context.Context, handlers map[string]steps.Handler) (*Worker, error) {
	sfnClient, err := awssfn.NewClient(ctx, w.cfg.SFNEndpoint, "")
	if err != nil {
		w.Close()
		return nil, err
	}
	var callbacks sfn.Callbacks = awssfn.New(sfnClient)
	if w.wrap != nil {
		callbacks = w.wrap(callbacks)
	}
	if w.Metrics != nil {
		handlers = stepmetrics.Handlers(handlers, w.Metrics, nil)
	}
	if w.blobs == nil {
		if w.blobs, err = blobStore(ctx, w.cfg.Blobs); err != nil {
			w.Close()
			return nil, err
		}
	}
	w.Runtime, err = steps.NewRuntime(steps.RuntimeConfig{
		Callbacks:         callbacks,
		Handlers:          handlers,
		HeartbeatInterval: w.cfg.Heartbeat,
		DeadlineMargin:    w.cfg.DeadlineMargin,
		Logger:            w.Logger,
		Blobs:             w.blobs,
		BlobThreshold:     w.cfg.Blobs.Threshold,
		MaxResolvedBytes:  int64(w.cfg.Blobs.MaxResolvedBytes),
	})
	if err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// secretSource returns the source of secrets store names: the environment
// (lookup; nil means the process's), or Secrets Manager, cached.
func secretSource(ctx context.Context, store config.SecretStore, lookup func(string) (string, bool)) (secrets.Source, error) {
	if store != config.SecretsManager {
		return secrets.Env{LookupEnvFunc: lookup}, nil
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	return secrets.NewSecretsManagerFromConfig(awsCfg, secrets.SecretsManagerOptions{}), nil
}

// ErrorOf formats a construction error for a function's main: a
// configuration error names the binary itself.
func ErrorOf(binary string, err error) string {
	var cfgErr *config.Error
	if errors.As(err, &cfgErr) {
		return err.Error()
	}
	return binary + ": " + err.Error()
}
