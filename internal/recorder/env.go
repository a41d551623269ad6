package recorder

import (
	"context"
	"fmt"
	"io"

	"github.com/aiflow/aiflow/internal/awssfn"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/database"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/metrics"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// NewFromConfig builds the Recorder functions/recorder runs, from its
// configuration (config.LoadRecorder reads it), logging to logs (nil means
// os.Stderr) and counting into rec (nil counts nothing): a pgx pool (connecting lazily, with DATABASE_URL or the
// secret AIFLOW_DATABASE_SECRET names; see database.OpenPool), the event store on it, and a
// Step Functions client. The close function releases the pool. `aiflow
// invoke recorder` builds the same. It returns the errors of opening the
// clients.
func NewFromConfig(ctx context.Context, cfg config.Recorder, logs io.Writer, rec *metrics.Recorder) (*Recorder, func(), error) {
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
	client, err := awssfn.NewClient(ctx, cfg.SFNEndpoint, "")
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	r, err := New(Config{History: awssfn.New(client), Store: store, PageSize: cfg.PageSize, Logger: logger, Metrics: rec})
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	logger.Info("recorder ready", "config", cfg)
	return r, pool.Close, nil
}
