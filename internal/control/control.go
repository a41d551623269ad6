// Package control holds aiflow's workflow use cases: publish a workflow
// (load, check, compile, validate, deploy, record the version), start an
// execution (input schema, idempotency key), stop one, and decide an
// approval. The HTTP API and the CLI call the same functions; they take
// Step Functions (or the local engine) and the api schema's store as small
// interfaces. An error a caller caused is an *Error whose Code the
// transport maps to its answer; any other error is the service's own.
package control

import (
	"context"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/schema"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/workflow"
)

// Versions records published workflows: Publish's part of the store.
type Versions interface {
	StateMachineARN(ctx context.Context, name string) (string, error)
	Publish(ctx context.Context, v apistore.Version, stateMachineARN string) (apistore.PublishResult, error)
}

// Workflows reads published workflows and claims idempotency keys:
// Start's part of the store.
type Workflows interface {
	Workflow(ctx context.Context, name string) (apistore.Workflow, error)
	Version(ctx context.Context, name string, version int) (apistore.Version, error)
	// LatestVersion is Workflow and Version of its latest version in one
	// read (apistore.Store.LatestVersion).
	LatestVersion(ctx context.Context, name string) (apistore.Workflow, apistore.Version, error)
	ClaimKey(ctx context.Context, k apistore.IdempotencyKey) (apistore.IdempotencyKey, bool, error)
}

// Approvals records decisions: Decide's and ResumeDecisions' part of the
// store.
type Approvals interface {
	BeginDecision(ctx context.Context, d apistore.Decision) (a apistore.Approval, began bool, err error)
	FinishDecision(ctx context.Context, id string, expired bool) (apistore.Approval, error)
	Deciding(ctx context.Context, before time.Time, limit int) ([]apistore.Approval, error)
}

// Store is the api schema's store as the use cases need it;
// *apistore.Store is one.
type Store interface {
	Versions
	Workflows
	Approvals
}

// Machines creates and updates state machines: a part of
// sfn.StateMachines.
type Machines interface {
	CreateStateMachine(ctx context.Context, in sfn.CreateStateMachineInput) (sfn.CreateStateMachineOutput, error)
	UpdateStateMachine(ctx context.Context, in sfn.UpdateStateMachineInput) (sfn.UpdateStateMachineOutput, error)
}

// Executions starts, reads, stops and redrives executions: a part of
// sfn.Executions and sfn.Redriver.
type Executions interface {
	StartExecution(ctx context.Context, in sfn.StartExecutionInput) (sfn.StartExecutionOutput, error)
	DescribeExecution(ctx context.Context, arn string) (sfn.Execution, error)
	StopExecution(ctx context.Context, in sfn.StopExecutionInput) (time.Time, error)
	RedriveExecution(ctx context.Context, in sfn.RedriveExecutionInput) (sfn.RedriveExecutionOutput, error)
}

// TaskResolver answers an approval step's task token: a part of
// sfn.Callbacks.
type TaskResolver interface {
	SendTaskSuccess(ctx context.Context, in sfn.SendTaskSuccessInput) error
}

// Engine is what the use cases ask of Step Functions or of the local
// engine; *engine.Engine and *awssfn.Client both satisfy it.
type Engine interface {
	Machines
	Executions
	TaskResolver
}

// Options configure New.
type Options struct {
	// Store keeps workflows, versions, idempotency keys and approvals;
	// required.
	Store Store
	// Engine is Step Functions or the local engine; required.
	Engine Engine
	// Catalog is the catalog (MCP tools, and services) definitions are
	// checked against.
	Catalog *workflow.Catalog
	// ServiceCatalogFunc, when set, is asked at every publish for the
	// services the checker types service steps by (the registry's, as they
	// are registered now); its catalog is merged over Catalog. Its error
	// fails the publish.
	ServiceCatalogFunc func(ctx context.Context) (*workflow.Catalog, error)
	// QueueURLs fill the compiler's queue substitutions
	// (workflow.AIQueueSubstitution, ...) with the queues' URLs.
	QueueURLs map[string]string
	// StateMachinePrefix is put before a workflow's name to name its state
	// machine (the stack's name on AWS).
	StateMachinePrefix string
	// StateMachineRoleARN is the role state machines run with (AWS).
	StateMachineRoleARN string
	// StateMachineLogging is where state machines log their executions
	// (AWS); nil logs nothing. Set on every create and update.
	StateMachineLogging *sfn.LoggingConfiguration
	// StateMachineTracing turns on X-Ray tracing of state machines (AWS),
	// on every create and update.
	StateMachineTracing bool
	// NowFunc is the clock; nil means time.Now.
	NowFunc func() time.Time
	// TracerProvider makes the spans of the calls to the engine; nil
	// means the OpenTelemetry global (no-op until tracing is set up).
	TracerProvider trace.TracerProvider
}

// Service runs the use cases. It is safe for concurrent use.
type Service struct {
	opts Options
	// schemas holds the compiled input schemas of versions, by checksum.
	schemas schema.Cache
	tracer  trace.Tracer
	// tracerProvider is tracer's, for telemetry.MayRecord.
	tracerProvider trace.TracerProvider
	// publishes counts the versions recorded (publishes.go).
	publishes atomic.Uint64
}

// New returns the use cases over o's store and engine.
func New(o Options) *Service {
	if o.NowFunc == nil {
		o.NowFunc = time.Now
	}
	s := &Service{opts: o}
	s.tracerProvider, s.tracer = newTracer(o.TracerProvider)
	return s
}
