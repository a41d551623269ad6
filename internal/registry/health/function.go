package health

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/database"
	"github.com/aiflow/aiflow/internal/egress"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/registrystore"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// Function is the Lambda handler of functions/healthcheck: a schedule
// invokes it every minute, and each invocation runs rounds of checks for
// RunFor (less when the invocation's deadline comes sooner), so that the
// services' intervals of a few seconds hold between invocations.
type Function struct {
	Checker *Checker
	RunFor  time.Duration
	Logger  *slog.Logger
}

// deadlineMargin is kept free before the invocation's deadline, for the
// last round's writes and the function's reply.
const deadlineMargin = 5 * time.Second

// FunctionResult is what one invocation reports: how long it checked.
type FunctionResult struct {
	RanForSeconds float64 `json:"ran_for_seconds"`
}

// Handle runs the checks of one scheduled invocation. It returns the
// errors of the rounds that failed (the schedule's next invocation tries
// again), never the instances' failures, which are their statuses.
func (f *Function) Handle(ctx context.Context, ev events.EventBridgeEvent) (FunctionResult, error) {
	d := f.RunFor
	if deadline, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(deadline)-deadlineMargin)
	}
	if d <= 0 {
		d = 0
	}
	f.Logger.InfoContext(ctx, "health checks", "event_id", ev.ID, "run_for", d)
	if err := f.Checker.RunFor(ctx, d); err != nil {
		return FunctionResult{}, fmt.Errorf("running the health checks: %w", err)
	}
	return FunctionResult{RanForSeconds: d.Seconds()}, nil
}

// NewFunctionFromConfig builds functions/healthcheck's handler once per
// cold start: the database pool (cfg.Database, the registry's role), the
// registry over its Postgres store, the egress guard the checks go
// through. The returned func closes the pool.
func NewFunctionFromConfig(ctx context.Context, cfg config.HealthCheck, logs io.Writer) (*Function, func(), error) {
	logger := telemetry.NewLogger(cfg.Log.LoggerOptions(logs))
	pool, err := database.OpenPool(ctx, database.PoolParams{Database: cfg.Database, MaxConns: cfg.DBMaxConns})
	if err != nil {
		return nil, nil, err
	}
	store, err := eventstore.Open(ctx, pool, eventstore.Options{Logger: logger})
	if err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("opening the event store: %w", err)
	}
	reg, err := registry.New(registry.Config{Store: registrystore.New(store), Logger: logger})
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	guard := egress.New(egress.Config{Logger: logger})
	checker, err := New(Config{Registry: reg, Logger: logger, ClientFunc: guard.InstanceClient})
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	logger.Info("healthcheck ready", "config", cfg)
	return &Function{Checker: checker, RunFor: cfg.RunFor, Logger: logger}, pool.Close, nil
}
