package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/enginetrace"
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
		t.states = tracing.NewStateSpans(tracing.StateSpansParams{Provider: p})
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
	if t == nil {
		return s
	}
	return enginetrace.Store(s, t.states, logger)
}
