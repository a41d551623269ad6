package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
)

// commandTracing is a command's tracing: the provider set up from the
// OTEL_* variables (installed as the OpenTelemetry globals, which the API,
// the use cases, the step workers and the egress guard use), and the
// observer of the engine's history that makes the execution and state
// spans, nil when tracing is off.
type commandTracing struct {
	provider *tracing.Provider
	states   *tracing.StateSpans
}

// startTracing sets up tracing for the command named service (such as
// "aiflow-dev"). With no OTEL_* variable set it is off and costs nothing.
// A bad variable is a configuration error, reported as the command's
// others are.
func startTracing(e env, service string, logger *slog.Logger) (*commandTracing, error) {
	cfg, err := config.LoadTracing(e.lookup)
	if err != nil {
		return nil, err
	}
	p, err := tracing.Setup(tracing.Params{Config: cfg, ServiceName: service, ServiceVersion: versionString(), Console: e.stderr, Logger: logger})
	if err != nil {
		return nil, err
	}
	t := &commandTracing{provider: p}
	if p.Enabled() {
		t.states = tracing.NewStateSpans(tracing.StateSpansParams{TracerProvider: p.TracerProvider()})
		fmt.Fprintf(e.stdout, "tracing: spans exported to %s\n", exportTarget(cfg))
	}
	return t, nil
}

func exportTarget(cfg config.Tracing) string {
	if cfg.Exporter == config.TracesConsole {
		return "the console (stderr)"
	}
	return cfg.Endpoint + " (OTLP/HTTP)"
}

// stop exports the spans left and stops the exporter, within its bound.
func (t *commandTracing) stop(ctx context.Context, logger *slog.Logger) {
	if err := t.provider.Shutdown(ctx); err != nil {
		logger.WarnContext(ctx, "stopping tracing", "error", err)
	}
}

// store returns s observed by the state spans when tracing is on, s
// itself when it is off.
func (t *commandTracing) store(s engine.Store, logger *slog.Logger) engine.Store {
	if t == nil || t.states == nil {
		return s
	}
	return &tracedStore{Store: s, states: t.states, log: logger}
}

// tracedStore is the engine's store whose commits, once written, are
// turned into execution and state spans: it observes the engine from
// outside, as Step Functions' X-Ray integration does, so the engine knows
// nothing of OpenTelemetry.
type tracedStore struct {
	engine.Store
	states *tracing.StateSpans
	log    *slog.Logger
}

// Commit writes the commits, then observes the ones written.
func (s *tracedStore) Commit(ctx context.Context, commits []engine.Commit) error {
	if err := s.Store.Commit(ctx, commits); err != nil {
		return err
	}
	for _, c := range commits {
		events, err := engine.CommitEvents(c.Data)
		if err != nil {
			s.log.DebugContext(ctx, "tracing the states of a commit", "execution", c.Execution.ARN, "error", err)
			continue
		}
		s.states.Observe(ctx, tracing.History{ExecutionARN: c.Execution.ARN, StateMachineARN: c.Execution.StateMachineARN,
			TraceHeader: c.Execution.TraceHeader, Events: events})
	}
	return nil
}
