package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/control"
	"github.com/aiflow/aiflow/internal/egress"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/httpapi"
	"github.com/aiflow/aiflow/internal/metrics/stepmetrics"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/registry/health"
	"github.com/aiflow/aiflow/internal/registrystore"
	"github.com/aiflow/aiflow/internal/secrets"
	"github.com/aiflow/aiflow/internal/steps/detailstore"
)

// cmdDev runs aiflow on this machine until ctx ends (Ctrl-C): PostgreSQL
// (DATABASE_URL or the development cluster), the migrations, the local
// engine with its Step Functions API and the step workers, and the HTTP
// API. It returns 0 after a clean shutdown.
func cmdDev(ctx context.Context, args []string, e env) int {
	if code, ok := checkNoArgs("dev", args, e); !ok {
		return code
	}
	cfg, err := config.LoadDev(e.lookup)
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return 2
	}
	logger := newLogger(cfg.Log, e)
	fail := func(err error) int {
		fmt.Fprintf(e.stderr, "aiflow dev: %v\n", err)
		return 1
	}
	// Ctrl-C is aiflow dev's alone, so that make dev exits with its status.
	defer takeTerminal(e.terminal, logger)()
	traces, err := startTracing(e, "aiflow-dev", logger)
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return 2
	}
	// Registered first, so it runs last: the spans of the shutdown go too.
	defer traces.stop(context.WithoutCancel(ctx), logger)

	db, err := openMigratedDatabase(ctx, cfg.DatabaseURL, cfg.DataDir, cfg.PGBinDir, logger, e)
	if err != nil {
		return fail(err)
	}
	defer func() {
		if err := db.Close(context.WithoutCancel(ctx)); err != nil {
			logger.Error("stopping PostgreSQL", "error", err)
		}
	}()
	pool := db.Pool

	store, err := eventstore.Open(ctx, pool, eventstore.Options{Logger: logger})
	if err != nil {
		return fail(err)
	}
	// The built-in projections follow the event log while aiflow dev runs.
	projCtx, stopProjections := context.WithCancel(ctx)
	var projections sync.WaitGroup
	var names []string
	for name, p := range eventstore.BuiltinProjections() {
		names = append(names, name)
		projections.Go(func() {
			if err := store.RunProjection(projCtx, p, eventstore.ProjectionOptions{Logger: logger}); err != nil && projCtx.Err() == nil {
				logger.Error("projection stopped", "projection", name, "error", err)
			}
		})
	}
	defer func() {
		stopProjections()
		projections.Wait()
	}()
	sort.Strings(names)
	fmt.Fprintf(e.stdout, "projections: %s following the event log\n", strings.Join(names, ", "))

	details := detailstore.New(store, "aistep")
	// The metrics served at /metrics; the workers count what they record.
	m := newProcessMetrics(apiWorkflows(pool), logger)
	if err := m.prom.WatchPool("dev", pool); err != nil {
		return fail(err)
	}
	counted := &stepmetrics.Details{Next: details, Recorder: m.rec}
	guard := egress.New(egress.Config{MaxResponseBytes: cfg.Workers.Service.Egress.MaxResponseBytes, Timeout: cfg.Workers.Service.Egress.Timeout, Logger: logger})
	reg, err := registry.New(registry.Config{Store: registrystore.New(store), Logger: logger, CheckEndpointFunc: guard.CheckEndpoint})
	if err != nil {
		return fail(err)
	}
	eng, err := startDevEngine(ctx, cfg, secrets.Env{LookupEnvFunc: e.lookup}, pool, store, reg, counted, m, traces, logger, e.stdout)
	if err != nil {
		return fail(err)
	}
	engineClosed := false
	defer func() {
		if !engineClosed {
			_ = eng.close(context.Background())
		}
	}()

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fail(fmt.Errorf("listening on AIFLOW_HTTP_ADDR=%s: %w (set AIFLOW_HTTP_ADDR to a free host:port, e.g. 127.0.0.1:8081)", cfg.HTTPAddr, err))
	}
	key, err := devKey(cfg.HMACKey, cfg.DataDir)
	if err != nil {
		return fail(err)
	}
	limiter, err := httpapi.NewLimiter(cfg.RateLimit, cfg.RateBurst)
	if err != nil {
		return fail(err)
	}
	api, ctl, err := newDevAPI(pool, eng, reg, details, key, limiter, m.rec, logger)
	if err != nil {
		return fail(err)
	}
	// The services' health checks run in process, as the scheduled
	// function runs them on AWS.
	checker, err := health.New(health.Config{Registry: reg, Logger: logger, ClientFunc: guard.InstanceClient})
	if err != nil {
		return fail(err)
	}
	checkCtx, stopChecks := context.WithCancel(ctx)
	var checking sync.WaitGroup
	checking.Go(func() {
		// Run ends only with checkCtx; a round that fails is logged by the
		// checker and tried again.
		_ = checker.Run(checkCtx)
	})
	defer func() {
		stopChecks()
		checking.Wait()
	}()
	// The example services, registered before the examples are published,
	// so that incident-enrichment is typed by them and can run.
	services, err := startExampleServices(ctx, reg, "dev", exampleServicesChecked, logger)
	if err != nil {
		return fail(err)
	}
	servicesClosed := false
	defer func() {
		if !servicesClosed {
			_ = services.close(context.WithoutCancel(ctx))
		}
	}()
	fmt.Fprintf(e.stdout, "services: %s served on loopback and registered (examples/services)\n", strings.Join(services.names, ", "))
	token, err := auth.MintDevToken(key, "dev", []auth.Role{auth.RoleAdmin}, devTokenTTL)
	if err != nil {
		return fail(err)
	}
	tokenFile := filepath.Join(cfg.DataDir, "dev-token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		return fail(fmt.Errorf("writing the development token: %w", err))
	}
	published, err := publishExamples(ctx, ctl)
	if err != nil {
		return fail(err)
	}
	// Approval decisions a crash left half done (recorded, not delivered)
	// are finished every minute.
	resumeCtx, stopResume := context.WithCancel(ctx)
	var resuming sync.WaitGroup
	resuming.Go(func() { resumeDecisions(resumeCtx, ctl, logger) })
	defer func() {
		stopResume()
		resuming.Wait()
	}()
	if len(published) > 0 {
		fmt.Fprintf(e.stdout, "workflows: %s published\n", strings.Join(published, ", "))
	}
	fmt.Fprintf(e.stdout, "development token (admin, valid %s) in %s: export TOKEN=$(cat %s)\n", devTokenTTL, tokenFile, tokenFile)
	base := "http://" + ln.Addr().String()
	handler, consoleLine, err := devConsole(m.handler(api), base, token, e)
	if err != nil {
		return fail(err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          nil,
	}
	fmt.Fprintln(e.stdout, consoleLine)
	fmt.Fprintf(e.stdout, "aiflow dev is serving %s (try %s/healthz, %s/readyz and %s/metrics); press Ctrl-C to stop\n", base, base, base, base)

	err = serveUntilSignal(ctx, serveParams{server: srv, listener: ln, timeout: cfg.ShutdownTimeout, notice: e.stdout,
		stop: func(shutdownCtx context.Context) error {
			// Workers finish what they hold and the engine writes what it did
			// before the database goes away.
			engineClosed = true
			stopResume()
			resuming.Wait()
			if err := eng.close(shutdownCtx); err != nil {
				return err
			}
			servicesClosed = true
			if err := services.close(shutdownCtx); err != nil {
				logger.ErrorContext(shutdownCtx, "stopping the example services", "error", err)
			}
			stopChecks()
			checking.Wait()
			// The denial counts of the current interval, before the
			// database goes away.
			if err := api.Close(shutdownCtx); err != nil {
				logger.ErrorContext(shutdownCtx, "stopping the API", "error", err)
			}
			stopProjections()
			projections.Wait()
			return db.Close(shutdownCtx)
		}})
	if err != nil {
		return fail(err)
	}
	fmt.Fprintln(e.stdout, "aiflow dev stopped")
	return 0
}

// decisionsInterval is how often aiflow dev finishes the approval decisions
// a crash left half done.
const decisionsInterval = time.Minute

// resumeDecisions finishes, every decisionsInterval until ctx ends, the
// approval decisions recorded but not delivered (control.ResumeDecisions).
func resumeDecisions(ctx context.Context, ctl *control.Service, logger *slog.Logger) {
	t := time.NewTicker(decisionsInterval)
	defer t.Stop()
	for {
		if n, err := ctl.ResumeDecisions(ctx, control.ResumeDecisionsParams{}); err != nil && ctx.Err() == nil {
			logger.WarnContext(ctx, "finishing approval decisions", "error", err)
		} else if n > 0 {
			logger.InfoContext(ctx, "approval decisions finished", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
