package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aiflow/aiflow/internal/blob/pgblob"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/enginestore"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/mcpclient"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/sfnapi"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/supportdesk"
	"github.com/aiflow/aiflow/internal/workflow"
)

// devEngine is the local engine of `aiflow dev`: durable in PostgreSQL,
// its Step Functions API on a port of its own, one in-process queue per
// kind of task step, and the step workers subscribed to them.
type devEngine struct {
	engine  *engine.Engine
	queues  *queue.Broker
	stream  *steps.Broker
	sfn     *httpServer
	sfnURL  string
	queueOf map[string]string // substitution → queue URL
	stops   []func()
	mcp     *mcpclient.Pool // the workers' MCP client pool; nil without servers
}

// devScript resolves AIFLOW_AI_SCRIPT: "none" means the real providers,
// empty the example script when it is there.
func devScript(cfg config.Dev) string {
	switch cfg.AIScript {
	case "none":
		return ""
	case "":
		if _, err := os.Stat(config.DefaultAIScript); err == nil {
			return config.DefaultAIScript
		}
		return ""
	}
	return cfg.AIScript
}

// startDevEngine starts the engine on the event store's database, resumes
// what was running, and serves its Step Functions API.
func startDevEngine(ctx context.Context, cfg config.Dev, secretSource mcpclient.SecretSource, pool *pgxpool.Pool, evs *eventstore.Store, reg *registry.Registry, details steps.DetailRecorder, m *processMetrics, traces *commandTracing, logger *slog.Logger, out io.Writer) (*devEngine, error) {
	durable, err := enginestore.New(ctx, pool, evs)
	if err != nil {
		return nil, err
	}
	// The metrics and the state spans both read each commit's history.
	store := traces.store(m.store(durable), logger)
	d := &devEngine{queues: queue.New(queue.Config{Logger: logger}), stream: &steps.Broker{}, queueOf: map[string]string{}}
	fail := func(err error) (*devEngine, error) {
		d.close(context.Background())
		return nil, err
	}
	for _, q := range runQueues { // the queues aiflow run makes, by the same names
		url, err := d.queues.CreateQueue(queue.QueueConfig{Name: q.name, VisibilityTimeout: workerTimeout + time.Minute})
		if err != nil {
			return fail(fmt.Errorf("creating the queue %s: %w", q.name, err))
		}
		d.queueOf[q.substitution] = url
	}
	if err := m.watchQueues(d.queues); err != nil {
		return fail(err)
	}
	d.engine, err = engine.New(engine.Config{Store: store, Queues: d.queues, Logger: logger, CloseTimeout: cfg.ShutdownTimeout})
	if err != nil {
		return fail(err)
	}
	script := devScript(cfg)
	support, err := devSupportDesk(ctx, pool, logger)
	if err != nil {
		return fail(err)
	}
	workers, err := newLocalWorkers(ctx, localWorkersParams{Callbacks: d.engine, Script: script, Config: cfg.Workers,
		Secrets: secretSource, Broker: d.stream, Details: details,
		InProcess: map[string]mcpclient.InProcessServer{"support": support}, Registry: reg, Metrics: m.rec, Logger: logger,
		Blobs: pgblob.New(pool)})
	if err != nil {
		return fail(err)
	}
	d.stops = append(d.stops, workers.close)
	d.mcp = workers.mcp
	for _, sub := range []string{workflow.AIQueueSubstitution, workflow.MCPQueueSubstitution, workflow.ServiceQueueSubstitution} {
		if err := d.subscribe(sub, workers.runtime.Handle); err != nil {
			return fail(err)
		}
	}
	// Executions resume once their workers listen.
	if err := d.engine.Start(ctx); err != nil {
		return fail(fmt.Errorf("starting the engine: %w", err))
	}
	ln, err := net.Listen("tcp", cfg.EngineAddr)
	if err != nil {
		return fail(fmt.Errorf("listening on AIFLOW_ENGINE_ADDR=%s: %w (set AIFLOW_ENGINE_ADDR to a free host:port, e.g. 127.0.0.1:8084)", cfg.EngineAddr, err))
	}
	d.sfn = startHTTP(&http.Server{Handler: sfnapi.NewHandler(d.engine, sfnapi.Options{Logger: logger}), ReadHeaderTimeout: 10 * time.Second}, ln, func(err error) {
		logger.Error("serving the Step Functions API", "error", err)
	})
	d.sfnURL = "http://" + ln.Addr().String()
	models := "the providers their models name"
	if script != "" {
		models = "the scripted provider (" + script + ")"
	}
	fmt.Fprintf(out, "engine: executions kept in PostgreSQL, Step Functions API at %s; ai steps answered by %s; mcp steps by the support desk server; service steps by the registered services\n", d.sfnURL, models)
	return d, nil
}

// devSupportDesk seeds the customer-support domain (once; seeding again
// changes nothing) and serves its MCP server in process to the workers'
// pool, as "support".
func devSupportDesk(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) (mcpclient.InProcessServer, error) {
	if _, err := supportdesk.Seed(ctx, pool, time.Now()); err != nil {
		return mcpclient.InProcessServer{}, fmt.Errorf("seeding the support desk: %w", err)
	}
	server, err := supportdesk.NewServer(supportdesk.New(pool, supportdesk.Options{}), supportdesk.ServerOptions{Version: versionString(), Logger: logger})
	if err != nil {
		return mcpclient.InProcessServer{}, err
	}
	connect := func(context.Context) (mcp.Transport, error) {
		client, srv := mcp.NewInMemoryTransports()
		// The session serves every step that the workers' pool sends
		// through it, and its handlers' contexts come from this one: it
		// carries nothing of the step that dialled (its execution, step,
		// trace), which the desk's log lines would name for every caller.
		if _, err := server.Connect(context.Background(), srv, nil); err != nil {
			return nil, fmt.Errorf("connecting to the support desk server: %w", err)
		}
		return client, nil
	}
	return mcpclient.InProcessServer{Replicas: []mcpclient.ConnectFunc{connect}}, nil
}

// subscribe feeds a kind's queue to a step worker, as an SQS event source
// feeds a Lambda function.
func (d *devEngine) subscribe(substitution string, h func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)) error {
	stop, err := d.queues.Subscribe(d.queueOf[substitution], h, queue.MappingConfig{ReportBatchItemFailures: true, MaxConcurrency: 10, FunctionTimeout: workerTimeout})
	if err != nil {
		return fmt.Errorf("subscribing to the queue of %s: %w", substitution, err)
	}
	d.stops = append(d.stops, stop)
	return nil
}

// close stops serving, lets the workers finish what they hold, and writes
// what the engine has done; executions still running resume on the next
// start.
func (d *devEngine) close(ctx context.Context) error {
	var errs []error
	if d.sfn != nil {
		if err := d.sfn.shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutting down the Step Functions API: %w", err))
		}
	}
	for i := len(d.stops) - 1; i >= 0; i-- { // subscriptions before the workers' pool
		d.stops[i]()
	}
	if d.queues != nil {
		// Handlers still running at the shutdown's deadline are cancelled.
		if err := d.queues.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping the step workers: %w", err))
		}
	}
	if d.engine != nil {
		if err := d.engine.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing the engine: %w", err))
		}
	}
	return errors.Join(errs...)
}
