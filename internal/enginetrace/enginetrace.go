// Package enginetrace traces the local engine from outside: a decorator
// of its Store turns every commit, once written, into execution and state
// spans (tracing.StateSpans), as Step Functions' X-Ray integration derives
// its segments from an execution's history. The engine itself knows
// nothing of OpenTelemetry (internal/archtest keeps it so); only wiring
// imports this package.
package enginetrace

import (
	"context"
	"log/slog"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
)

// Store returns inner observed by states: its commits, once written, are
// turned into spans. A nil states returns inner itself (tracing off). The
// logger, nil for none, receives commits whose history could not be
// read, at debug level: a span lost is no error of the commit's.
func Store(inner engine.Store, states *tracing.StateSpans, logger *slog.Logger) engine.Store {
	if states == nil {
		return inner
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &store{Store: inner, states: states, log: logger}
}

// store is the engine's store with its commits observed.
type store struct {
	engine.Store
	states *tracing.StateSpans
	log    *slog.Logger
}

// KeepsBatches forwards the answer of the store it observes (see
// engine.BatchKeeper): it reads a commit's Data only when the commit has
// no Events, and the engine writes such a commit with its Data.
func (s *store) KeepsBatches() bool {
	k, ok := s.Store.(engine.BatchKeeper)
	return ok && k.KeepsBatches()
}

// Commit writes the commits, then observes the ones written: a commit the
// store refused (and the engine writes again) is observed once, when it
// is written.
func (s *store) Commit(ctx context.Context, commits []engine.Commit) error {
	if err := s.Store.Commit(ctx, commits); err != nil {
		return err
	}
	for _, c := range commits {
		events, err := c.Events, error(nil)
		if events == nil {
			// A commit the engine wrote in place of a refused one: its
			// events are in its data only.
			var raw []byte
			if raw, err = engine.CommitEvents(c.Data); err == nil {
				events, err = tracing.DecodeEvents(raw)
			}
		}
		if err != nil {
			s.log.DebugContext(ctx, "tracing the states of a commit", "execution", c.Execution.ARN, "error", err)
			continue
		}
		s.states.Observe(ctx, tracing.History{ExecutionARN: c.Execution.ARN, StateMachineARN: c.Execution.StateMachineARN,
			TraceHeader: c.Execution.TraceHeader, Events: events})
	}
	return nil
}
