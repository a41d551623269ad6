package metrics

// Namespace is the CloudWatch namespace of the EMF metrics.
const Namespace = "aiflow"

// Kind is how a metric aggregates.
type Kind int

// The kinds of metrics.
const (
	// Counter only goes up; Prometheus exports it as a counter, EMF as the
	// sum of what one invocation added.
	Counter Kind = iota + 1
	// Histogram observes values (latencies); Prometheus buckets them, EMF
	// writes each value (CloudWatch computes percentiles).
	Histogram
	// Gauge is a value read when scraped (Prometheus only).
	Gauge
)

// Unit is a CloudWatch unit (the Unit of an EMF metric); Prometheus
// names carry theirs as a suffix.
type Unit string

// The units of aiflow's metrics.
const (
	UnitCount   Unit = "Count"
	UnitSeconds Unit = "Seconds"
	UnitNone    Unit = "None"
)

// Def defines one metric. Name is the metric's name in Prometheus and in
// CloudWatch alike; Labels are its Prometheus labels and its CloudWatch
// dimensions, in order.
type Def struct {
	Name    string
	Help    string
	Kind    Kind
	Unit    Unit
	Labels  []string
	Buckets []float64 // histograms; nil means DurationBuckets
}

// DurationBuckets are the buckets of latency histograms, in seconds: from
// a state transition (milliseconds) to a model call or a human wait.
var DurationBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}

// Execution statuses, the status label of ExecutionsFinished.
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusTimedOut  = "timed_out"
	StatusAborted   = "aborted"
)

// OutcomeOK is the outcome label of a call that succeeded; a failed one's
// is its error name (MCP.Timeout, Service.Unavailable, ...).
const OutcomeOK = "ok"

// The metrics. Label values are bounded: workflow names, versions, state
// types, step kinds, providers and models, servers and tools, services and
// operations, route patterns and error names, never ids.
var (
	ExecutionsStarted = &Def{Name: "aiflow_executions_started_total", Kind: Counter, Unit: UnitCount,
		Help:   "Executions started, per workflow and version.",
		Labels: []string{"workflow", "version"}}
	ExecutionsFinished = &Def{Name: "aiflow_executions_finished_total", Kind: Counter, Unit: UnitCount,
		Help:   "Executions finished, per workflow, version and status (succeeded, failed, timed_out, aborted).",
		Labels: []string{"workflow", "version", "status"}}
	StateDuration = &Def{Name: "aiflow_state_duration_seconds", Kind: Histogram, Unit: UnitSeconds,
		Help:   "Time from a state's entry to its exit, per state type (Task, Choice, Map, ...), retries included.",
		Labels: []string{"kind"}}
	StepDuration = &Def{Name: "aiflow_step_duration_seconds", Kind: Histogram, Unit: UnitSeconds,
		Help:   "Time a step worker took to run one task, per step kind (ai, mcp, service) and outcome.",
		Labels: []string{"kind", "outcome"}}
	QueueMessages = &Def{Name: "aiflow_queue_messages", Kind: Gauge, Unit: UnitCount,
		Help:   "Messages in a queue of the local engine, per queue and state (visible, in_flight, delayed).",
		Labels: []string{"queue", "state"}}
	QueueOldestAge = &Def{Name: "aiflow_queue_oldest_message_age_seconds", Kind: Gauge, Unit: UnitSeconds,
		Help:   "Age of the oldest message not yet deleted from a queue of the local engine; 0 when it is empty.",
		Labels: []string{"queue"}}
	ModelCalls = &Def{Name: "aiflow_model_calls_total", Kind: Counter, Unit: UnitCount,
		Help:   "Model calls (after their retries), per provider, model and outcome.",
		Labels: []string{"provider", "model", "outcome"}}
	ModelTokens = &Def{Name: "aiflow_model_tokens_total", Kind: Counter, Unit: UnitCount,
		Help:   "Tokens of model calls, per provider, model and direction (input, output).",
		Labels: []string{"provider", "model", "direction"}}
	ModelCost = &Def{Name: "aiflow_model_cost_usd_total", Kind: Counter, Unit: UnitNone,
		Help:   "Cost of model calls in US dollars by the price table, per provider and model.",
		Labels: []string{"provider", "model"}}
	MCPCalls = &Def{Name: "aiflow_mcp_calls_total", Kind: Counter, Unit: UnitCount,
		Help:   "MCP tool calls of mcp steps, per server, tool and outcome.",
		Labels: []string{"server", "tool", "outcome"}}
	ServiceCalls = &Def{Name: "aiflow_service_calls_total", Kind: Counter, Unit: UnitCount,
		Help:   "Service calls of service steps, per service, operation and outcome.",
		Labels: []string{"service", "operation", "outcome"}}
	BreakerTransitions = &Def{Name: "aiflow_circuit_breaker_transitions_total", Kind: Counter, Unit: UnitCount,
		Help:   "Circuit breaker state changes, per component (mcp, service), target (server or service) and the state changed to (closed, open, half_open).",
		Labels: []string{"component", "target", "state"}}
	DBConnections = &Def{Name: "aiflow_db_pool_connections", Kind: Gauge, Unit: UnitCount,
		Help:   "Connections of a PostgreSQL pool, per pool and state (acquired, idle, constructing, total, max).",
		Labels: []string{"pool", "state"}}
	DBAcquires = &Def{Name: "aiflow_db_pool_acquires_total", Kind: Counter, Unit: UnitCount,
		Help:   "Connections acquired from a PostgreSQL pool, per pool and result (immediate; waited: no connection was idle; canceled).",
		Labels: []string{"pool", "result"}}
	DBAcquireWait = &Def{Name: "aiflow_db_pool_acquire_wait_seconds_total", Kind: Counter, Unit: UnitSeconds,
		Help:   "Time spent waiting to acquire connections from a PostgreSQL pool, per pool.",
		Labels: []string{"pool"}}
	APIRequests = &Def{Name: "aiflow_api_requests_total", Kind: Counter, Unit: UnitCount,
		Help:   "HTTP API requests, per route pattern (\"POST /v1/workflows/{name}/executions\"; \"unmatched\" for none) and status code.",
		Labels: []string{"route", "status"}}
	APIRequestDuration = &Def{Name: "aiflow_api_request_duration_seconds", Kind: Histogram, Unit: UnitSeconds,
		Help:   "Time the HTTP API took to answer, per route pattern.",
		Labels: []string{"route"}}
)

// Defs returns every metric aiflow defines, in a stable order.
func Defs() []*Def {
	return []*Def{
		ExecutionsStarted, ExecutionsFinished, StateDuration, StepDuration,
		QueueMessages, QueueOldestAge,
		ModelCalls, ModelTokens, ModelCost, MCPCalls, ServiceCalls, BreakerTransitions,
		DBConnections, DBAcquires, DBAcquireWait,
		APIRequests, APIRequestDuration,
	}
}
