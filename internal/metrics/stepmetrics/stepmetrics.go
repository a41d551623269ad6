// Package stepmetrics observes the step workers for package metrics, from
// outside their handlers: Details decorates the detail recorder the ai,
// mcp and service handlers write their AIModelCalled, MCPToolCalled and
// ServiceCalled events to (the one place model calls, tokens, cost, MCP
// calls and service calls are counted), Handlers times each step kind's
// handler, and MCPObserver counts the MCP pool's circuit breaker changes.
package stepmetrics

import (
	"context"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/mcpclient"
	"github.com/aiflow/aiflow/internal/metrics"
	"github.com/aiflow/aiflow/internal/registry/router"
	"github.com/aiflow/aiflow/internal/steps"
)

// Details is a steps.DetailRecorder that counts the detail events it
// records: model calls, their tokens and cost, MCP tool calls and service
// calls. An event is counted once it is recorded, so that one the
// handler appends again after a failure is counted once.
type Details struct {
	// Next records the events; required.
	Next steps.DetailRecorder
	// Recorder counts them; nil counts nothing.
	Recorder *metrics.Recorder
}

var _ steps.DetailRecorder = (*Details)(nil)

// RecordDetail records d with Next and, when that succeeds, counts it. It
// returns Next's error.
func (d *Details) RecordDetail(ctx context.Context, detail steps.Detail) error {
	if err := d.Next.RecordDetail(ctx, detail); err != nil {
		return err
	}
	Count(d.Recorder, detail)
	return nil
}

// ExecutionUsage is Next's.
func (d *Details) ExecutionUsage(ctx context.Context, executionID string) (ai.Usage, error) {
	return d.Next.ExecutionUsage(ctx, executionID)
}

// Count counts one detail event; other types of events count nothing.
func Count(r *metrics.Recorder, d steps.Detail) {
	switch c := d.Data.(type) {
	case steps.ModelCall:
		r.ModelCalled(metrics.ModelCall{Provider: c.Provider, Model: c.Model, InputTokens: c.InputTokens,
			OutputTokens: c.OutputTokens, CostUSD: c.CostUSD, Outcome: outcome(c.Error)})
	case steps.MCPCall:
		r.MCPCalled(c.Server, c.Tool, outcome(c.Error))
	case steps.ServiceCall:
		service := c.Service
		if service == "" {
			service = c.Capability // routed by capability, no service chosen
		}
		r.ServiceCalled(service, c.Operation, outcome(c.Error))
	}
}

// outcome is the outcome label of an error name.
func outcome(errorName string) string {
	if errorName == "" {
		return metrics.OutcomeOK
	}
	return errorName
}

// Handlers wraps each handler, by step kind, to observe how long it takes
// and how it ends, as metrics.StepDuration. nowFunc nil means time.Now.
func Handlers(handlers map[string]steps.Handler, r *metrics.Recorder, nowFunc func() time.Time) map[string]steps.Handler {
	if nowFunc == nil {
		nowFunc = time.Now
	}
	out := make(map[string]steps.Handler, len(handlers))
	for kind, h := range handlers {
		out[kind] = steps.HandlerFunc(func(ctx context.Context, m steps.Message) (steps.Result, error) {
			start := nowFunc()
			res, err := h.Run(ctx, m)
			o := metrics.OutcomeOK
			if err != nil {
				o = steps.ErrorName(err)
			}
			r.StepFinished(kind, o, nowFunc().Sub(start))
			return res, err
		})
	}
	return out
}

// MCPObserver counts the MCP pool's circuit breaker changes per server,
// as metrics.BreakerTransitions with component "mcp", and passes every
// event on to Next when set.
type MCPObserver struct {
	Recorder *metrics.Recorder
	Next     mcpclient.Observer
}

var _ mcpclient.Observer = (*MCPObserver)(nil)

// Observe counts e when it is a breaker change ("closed -> open").
func (o *MCPObserver) Observe(e mcpclient.Event) {
	if e.Type == mcpclient.EventBreaker {
		_, to, _ := strings.Cut(e.Message, " -> ")
		o.Recorder.BreakerChanged("mcp", e.Server, BreakerState(to))
	}
	if o.Next != nil {
		o.Next.Observe(e)
	}
}

// BreakerState is the state label of a breaker state's name as gobreaker
// and the service router spell it ("half-open", "open", "closed").
func BreakerState(name string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "-", "_")
}

// ServiceBreakers returns the service router's OnBreakerFunc (see
// serviceworker.Params) counting its breakers' changes per service, as
// metrics.BreakerTransitions with component "service".
func ServiceBreakers(r *metrics.Recorder) func(router.BreakerChange) {
	return func(c router.BreakerChange) {
		r.BreakerChanged("service", c.Service, BreakerState(string(c.State)))
	}
}
