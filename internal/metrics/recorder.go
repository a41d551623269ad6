package metrics

import (
	"strconv"
	"time"
)

// Sink receives the values of counters and histograms: Prometheus and EMF
// are the two. Labels are values in the order of d.Labels. A Sink is safe
// for concurrent use.
type Sink interface {
	// Add adds v to the counter d.
	Add(d *Def, v float64, labels ...string)
	// Observe records v in the histogram d.
	Observe(d *Def, v float64, labels ...string)
}

// Recorder records what aiflow does into a Sink. Its methods are the one
// place each metric's labels are chosen. A nil *Recorder records nothing,
// so code can hold one unconditionally.
type Recorder struct {
	sink Sink
}

// NewRecorder returns a Recorder writing to sink.
func NewRecorder(sink Sink) *Recorder { return &Recorder{sink: sink} }

// ExecutionStarted counts an execution of a workflow's version started.
func (r *Recorder) ExecutionStarted(workflow, version string) {
	if r == nil {
		return
	}
	r.sink.Add(ExecutionsStarted, 1, workflow, version)
}

// ExecutionFinished counts an execution finished with status (one of the
// Status constants).
func (r *Recorder) ExecutionFinished(workflow, version, status string) {
	if r == nil {
		return
	}
	r.sink.Add(ExecutionsFinished, 1, workflow, version, status)
}

// StateFinished observes how long a state of type kind ("Task") ran.
func (r *Recorder) StateFinished(kind string, d time.Duration) {
	if r == nil {
		return
	}
	r.sink.Observe(StateDuration, d.Seconds(), kind)
}

// StepFinished observes how long a step worker took on a task of a step
// kind ("ai"), and how it ended (OutcomeOK or an error name).
func (r *Recorder) StepFinished(kind, outcome string, d time.Duration) {
	if r == nil {
		return
	}
	r.sink.Observe(StepDuration, d.Seconds(), kind, outcome)
}

// ModelCall is one model call as the metrics see it.
type ModelCall struct {
	Provider, Model           string
	InputTokens, OutputTokens int
	CostUSD                   float64
	// Outcome is OutcomeOK or the call's error name.
	Outcome string
}

// ModelCalled counts a model call, its tokens and its cost.
func (r *Recorder) ModelCalled(c ModelCall) {
	if r == nil {
		return
	}
	r.sink.Add(ModelCalls, 1, c.Provider, c.Model, c.Outcome)
	r.sink.Add(ModelTokens, float64(c.InputTokens), c.Provider, c.Model, "input")
	r.sink.Add(ModelTokens, float64(c.OutputTokens), c.Provider, c.Model, "output")
	if c.CostUSD > 0 {
		r.sink.Add(ModelCost, c.CostUSD, c.Provider, c.Model)
	}
}

// MCPCalled counts a tool call of an mcp step and its outcome.
func (r *Recorder) MCPCalled(server, tool, outcome string) {
	if r == nil {
		return
	}
	r.sink.Add(MCPCalls, 1, server, tool, outcome)
}

// ServiceCalled counts a call of a service step and its outcome.
func (r *Recorder) ServiceCalled(service, operation, outcome string) {
	if r == nil {
		return
	}
	r.sink.Add(ServiceCalls, 1, service, operation, outcome)
}

// Breaker states, the state label of BreakerTransitions.
const (
	BreakerClosed   = "closed"
	BreakerOpen     = "open"
	BreakerHalfOpen = "half_open"
)

// BreakerChanged counts a circuit breaker of component ("mcp", "service")
// guarding target (a server, a service) changing to state.
func (r *Recorder) BreakerChanged(component, target, state string) {
	if r == nil {
		return
	}
	r.sink.Add(BreakerTransitions, 1, component, target, state)
}

// RouteUnmatched is the route label of a request no route matched.
const RouteUnmatched = "unmatched"

// ObserveRequest counts an HTTP API request of a route pattern answered
// with status after d; it is httpapi's RequestObserver.
func (r *Recorder) ObserveRequest(route string, status int, d time.Duration) {
	if r == nil {
		return
	}
	if route == "" {
		route = RouteUnmatched
	}
	r.sink.Add(APIRequests, 1, route, strconv.Itoa(status))
	r.sink.Observe(APIRequestDuration, d.Seconds(), route)
}
