package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aiflow/aiflow/internal/awslambda"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/database"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/enginestore"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/migrate"
	"github.com/aiflow/aiflow/internal/sfnapi"
)

const engineUsage = "usage: aiflow engine [--addr HOST:PORT] [--in-memory] [--lambda-endpoint URL] [--queue NAME[=URL]]..."

// cmdEngine serves the Step Functions API over the local engine until ctx
// ends (Ctrl-C, SIGTERM): a stand-in for Step Functions Local that SDKs and
// the AWS CLI reach with --endpoint-url. State machines and executions are
// kept in PostgreSQL unless --in-memory; executions still running when it
// stops resume on the next start. It returns 0 after a clean stop, 1 when
// it cannot run, 2 for bad usage or configuration.
func cmdEngine(ctx context.Context, args []string, e env) int {
	cfg, err := config.LoadEngine(e.lookup)
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return 2
	}
	if code, ok := engineFlags(&cfg, args, e); !ok {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(e.stderr, "aiflow engine: %v\n", err)
		return 1
	}
	logger := newLogger(cfg.Log, e)
	// Served at /metrics beside the Step Functions API. A bare engine
	// knows state machines, not aiflow's workflow versions.
	m := newProcessMetrics(nil, logger)
	traces, err := startTracing(e, "aiflow-engine", logger)
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return 2
	}
	defer traces.stop(context.WithoutCancel(ctx), logger)

	var store engine.Store
	storeName := "in memory (state is lost when the engine stops)"
	if cfg.InMemory {
		store = engine.NewMemoryStore()
	} else {
		db, err := openMigratedDatabase(ctx, cfg.DatabaseURL, cfg.DataDir, cfg.PGBinDir, logger, e)
		if err != nil {
			return fail(err)
		}
		defer func() {
			if err := db.Close(context.WithoutCancel(ctx)); err != nil {
				logger.Error("stopping PostgreSQL", "error", err)
			}
		}()
		events, err := eventstore.Open(ctx, db.Pool, eventstore.Options{Logger: logger})
		if err != nil {
			return fail(err)
		}
		if store, err = enginestore.New(ctx, db.Pool, events); err != nil {
			return fail(err)
		}
		storeName = "PostgreSQL (" + db.Where + ")"
		if err := m.prom.WatchPool("engine", db.Pool); err != nil {
			return fail(err)
		}
	}

	broker := queue.New(queue.Config{Region: cfg.Region, AccountID: cfg.AccountID, Logger: logger})
	defer broker.Close()
	for _, q := range cfg.Queues {
		url, err := broker.CreateQueue(queue.QueueConfig{Name: q.Name, URL: q.URL})
		if err != nil {
			return fail(fmt.Errorf("creating the queue %s: %w", q.Name, err))
		}
		fmt.Fprintf(e.stdout, "queue %s: %s\n", q.Name, url)
	}
	if err := m.watchQueues(broker); err != nil {
		return fail(err)
	}

	functions := &engine.FunctionRegistry{}
	if cfg.LambdaEndpoint != "" {
		client, err := awslambda.NewClient(ctx, cfg.LambdaEndpoint, cfg.Region)
		if err != nil {
			return fail(fmt.Errorf("making the Lambda client for %s: %w", cfg.LambdaEndpoint, err))
		}
		functions.Fallback = awslambda.New(client)
		fmt.Fprintf(e.stdout, "Lambda functions: invoked at %s\n", cfg.LambdaEndpoint)
	}

	eng, err := engine.New(engine.Config{
		Store:     traces.store(m.store(store), logger),
		Queues:    broker,
		Functions: functions,
		Region:    cfg.Region,
		AccountID: cfg.AccountID,
		Logger:    logger,
		// Close's bound is the command's: AIFLOW_SHUTDOWN_TIMEOUT.
		CloseTimeout: cfg.ShutdownTimeout,
	})
	if err != nil {
		return fail(err)
	}
	if err := eng.Start(ctx); err != nil {
		return fail(fmt.Errorf("starting the engine: %w", err))
	}
	defer eng.Close()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fail(fmt.Errorf("listening on %s: %w (pass --addr or set AIFLOW_ENGINE_ADDR to a free host:port, e.g. %s)", cfg.Addr, err, config.DefaultEngineAddr))
	}
	srv := &http.Server{
		Handler:           m.handler(sfnapi.NewHandler(eng, sfnapi.Options{Logger: logger})),
		ReadHeaderTimeout: 10 * time.Second,
	}
	endpoint := "http://" + ln.Addr().String()
	fmt.Fprintf(e.stdout, "store: %s\n", storeName)
	fmt.Fprintf(e.stdout, "aiflow engine is serving the Step Functions API on %s (region %s); use --endpoint-url %s; press Ctrl-C to stop\n",
		ln.Addr(), cfg.Region, endpoint)

	err = serveUntilSignal(ctx, serveParams{server: srv, listener: ln, timeout: cfg.ShutdownTimeout, notice: e.stdout,
		stop: func(context.Context) error {
			// The engine writes what it has done before the store goes away; open
			// executions resume on the next start.
			if err := eng.Close(); err != nil {
				return fmt.Errorf("closing the engine: %w", err)
			}
			return nil
		}})
	if err != nil {
		return fail(err)
	}
	fmt.Fprintln(e.stdout, "aiflow engine stopped")
	return 0
}

// engineFlags applies the command's flags over the configuration from the
// environment. ok is false when the command should not run, with code its
// exit status.
func engineFlags(cfg *config.Engine, args []string, e env) (code int, ok bool) {
	fs := flag.NewFlagSet("aiflow engine", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	addr := fs.String("addr", cfg.Addr, "the host:port to serve the Step Functions API on (AIFLOW_ENGINE_ADDR)")
	inMemory := fs.Bool("in-memory", cfg.InMemory, "keep state machines and executions in memory, not PostgreSQL (AIFLOW_ENGINE_IN_MEMORY)")
	lambdaEndpoint := fs.String("lambda-endpoint", cfg.LambdaEndpoint, "invoke Lambda functions at this Lambda API endpoint (AIFLOW_LAMBDA_ENDPOINT)")
	queues := append([]config.Queue(nil), cfg.Queues...)
	fs.Func("queue", "create the in-process queue NAME, with the URL state machines send to (repeatable; AIFLOW_ENGINE_QUEUES)", func(s string) error {
		q, err := config.ParseQueue(s)
		if err != nil {
			return err
		}
		for _, have := range queues {
			if have.Name == q.Name {
				return fmt.Errorf("the queue %q is given twice", q.Name)
			}
		}
		queues = append(queues, q)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "aiflow engine: takes no arguments, got %q\n%s\n", fs.Args(), engineUsage)
		return 2, false
	}
	if err := checkHostPort(*addr); err != nil {
		fmt.Fprintf(e.stderr, "aiflow engine: --addr %q %v (example: --addr %s)\n", *addr, err, config.DefaultEngineAddr)
		return 2, false
	}
	if *lambdaEndpoint != cfg.LambdaEndpoint {
		if err := checkHTTPURL(*lambdaEndpoint); err != nil {
			fmt.Fprintf(e.stderr, "aiflow engine: --lambda-endpoint %q %v (example: --lambda-endpoint http://127.0.0.1:3001)\n", *lambdaEndpoint, err)
			return 2, false
		}
	}
	cfg.Addr, cfg.InMemory, cfg.LambdaEndpoint, cfg.Queues = *addr, *inMemory, *lambdaEndpoint, queues
	return 0, true
}

func checkHostPort(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("is not host:port")
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n > 65535 {
		return errors.New("is not host:port: the port must be a number from 0 to 65535")
	}
	return nil
}

func checkHTTPURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("is not an http:// or https:// URL")
	}
	return nil
}

// openMigratedDatabase opens DATABASE_URL or the development cluster (see
// openDatabase), applies the migrations and says so: aiflow dev and aiflow
// engine start this way.
func openMigratedDatabase(ctx context.Context, databaseURL, dataDir, pgBinDir string, logger *slog.Logger, e env) (*database.DB, error) {
	db, err := openDatabase(ctx, databaseURL, dataDir, pgBinDir, logger, e.stdout)
	if err != nil {
		return nil, err
	}
	applied, err := migrateUp(ctx, db.URL)
	if err != nil {
		_ = db.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	fmt.Fprintf(e.stdout, "migrations: %d applied now, database at version %d\n", len(applied), migrate.Latest())
	return db, nil
}
