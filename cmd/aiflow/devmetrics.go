package main

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/metrics"
	"github.com/aiflow/aiflow/internal/metrics/prommetrics"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
)

// processMetrics are the metrics of aiflow dev or aiflow engine: one
// Prometheus registry served at /metrics, the recorder the API, the
// workers and the engine's store decorator count into, and the reader of
// the engine's history.
type processMetrics struct {
	prom    *prommetrics.Prometheus
	rec     *metrics.Recorder
	history *metrics.History
}

// newProcessMetrics makes the metrics of a process; workflowFunc names the
// workflow and version of a state machine (nil: its name, no version).
func newProcessMetrics(workflowFunc metrics.WorkflowFunc, logger *slog.Logger) *processMetrics {
	prom := prommetrics.NewPrometheus()
	rec := metrics.NewRecorder(prom)
	return &processMetrics{prom: prom, rec: rec,
		history: metrics.NewHistory(metrics.HistoryConfig{Recorder: rec, WorkflowFunc: workflowFunc, Logger: logger})}
}

// apiWorkflows names a state machine's workflow and its latest version
// from the API's store: the version an execution started now runs.
func apiWorkflows(pool *pgxpool.Pool) metrics.WorkflowFunc {
	store := apistore.New(pool)
	return func(ctx context.Context, arn string) (metrics.Workflow, error) {
		wf, err := store.WorkflowByARN(ctx, arn)
		if err != nil {
			return metrics.Workflow{}, err
		}
		return metrics.Workflow{Name: wf.Name, Version: strconv.Itoa(wf.LatestVersion)}, nil
	}
}

// handler serves GET /metrics (unauthenticated, like /healthz: the
// process binds to loopback by default, and the page holds counts, never
// data or ids) and passes every other request to next.
func (m *processMetrics) handler(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.prom.Handler())
	mux.Handle("/", next)
	return mux
}

// watchQueues reads the broker's queues on every scrape.
func (m *processMetrics) watchQueues(b *queue.Broker) error {
	return m.prom.WatchQueues(func() []prommetrics.QueueDepth {
		ds := b.Depths()
		out := make([]prommetrics.QueueDepth, len(ds))
		for i, d := range ds {
			out[i] = prommetrics.QueueDepth{Queue: d.Name, Visible: d.Visible, InFlight: d.InFlight, Delayed: d.Delayed, OldestAge: d.OldestAge}
		}
		return out
	})
}

// store decorates the engine's store so that the history it commits is
// counted (see metricsStore).
func (m *processMetrics) store(s engine.Store) engine.Store {
	return &metricsStore{Store: s, history: m.history}
}

// metricsStore is an engine.Store that hands every history event it
// commits to the metrics' History, after the commit succeeded: the engine
// itself imports no metrics library.
type metricsStore struct {
	engine.Store
	history *metrics.History
}

// PutStateMachine creates or updates a state machine, and makes History
// ask again which workflow version it runs.
func (s *metricsStore) PutStateMachine(ctx context.Context, sm engine.StateMachineRecord) error {
	err := s.Store.PutStateMachine(ctx, sm)
	s.history.Forget(sm.ARN)
	return err
}

// KeepsBatches forwards the answer of the store it counts for (see
// engine.BatchKeeper): it reads a commit's Data only when the commit has
// no Events, and the engine writes such a commit with its Data.
func (s *metricsStore) KeepsBatches() bool {
	k, ok := s.Store.(engine.BatchKeeper)
	return ok && k.KeepsBatches()
}

// Commit commits, then counts the committed events: those the engine
// hands over with the commit, or, for a commit it wrote in place of a
// refused one, those its data holds (read as the state spans read them).
func (s *metricsStore) Commit(ctx context.Context, commits []engine.Commit) error {
	if err := s.Store.Commit(ctx, commits); err != nil {
		return err
	}
	for _, c := range commits {
		events := c.Events
		if events == nil {
			raw, err := engine.CommitEvents(c.Data)
			if err != nil {
				continue // a transition the metrics cannot read: nothing to count
			}
			if events, err = tracing.DecodeEvents(raw); err != nil {
				continue
			}
		}
		if len(events) == 0 {
			continue
		}
		evs := make([]metrics.HistoryEvent, len(events))
		for i, ev := range events {
			evs[i] = metrics.HistoryEvent{Type: ev.Type, Timestamp: ev.Timestamp}
			switch {
			case ev.StateEntered != nil:
				evs[i].StateName = ev.StateEntered.Name
			case ev.StateExited != nil:
				evs[i].StateName = ev.StateExited.Name
			}
		}
		s.history.Observe(ctx, c.Execution.StateMachineARN, c.Execution.ARN, evs)
	}
	return nil
}
