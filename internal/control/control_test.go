package control_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/awssfn"
	"github.com/aiflow/aiflow/internal/control"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/workflow"
)

func TestMain(m *testing.M) { pgclustertest.Main(m) }

// Both adapters of Step Functions, and the store, satisfy the ports.
var (
	_ control.Engine = (*engine.Engine)(nil)
	_ control.Engine = (*awssfn.Client)(nil)
	_ control.Store  = (*apistore.Store)(nil)
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// holdWorkflow waits for an approval; name names it.
func holdWorkflow(name string) string {
	return `name: ` + name + `
input:
  type: object
  required: [message]
  properties:
    message: {type: string, maxLength: 20}
steps:
  - id: approve
    approval:
      message: "Go on with {{ input.message }}?"
      approvers: [leads]
    timeout: 1h
output:
  approved: "{{ steps.approve.output.approved }}"
`
}

type testBundle struct {
	store *apistore.Store
	eng   *engine.Engine
	svc   *control.Service
	urls  map[string]string
	// tokens receives the task token of every approval step's message.
	tokens chan string
}

// setup runs the use cases over the package's database and an in-memory
// engine whose approvals queue hands its task tokens to the test.
func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx := context.Background()
	b := &testBundle{store: apistore.New(pgclustertest.PackagePool(t)), tokens: make(chan string, 16)}
	qb := queue.New(queue.Config{})
	t.Cleanup(func() { _ = qb.Close() })
	var err error
	b.eng, err = engine.New(engine.Config{Store: engine.NewMemoryStore(), Queues: qb})
	require.NoError(t, err)
	require.NoError(t, b.eng.Start(ctx))
	t.Cleanup(func() { _ = b.eng.Close() })
	url, err := qb.CreateQueue(queue.QueueConfig{Name: "approvals", VisibilityTimeout: time.Minute})
	require.NoError(t, err)
	stop, err := qb.Subscribe(url, func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		for _, rec := range ev.Records {
			var m struct {
				TaskToken string `json:"taskToken"`
			}
			if json.Unmarshal([]byte(rec.Body), &m) == nil && m.TaskToken != "" {
				b.tokens <- m.TaskToken
			}
		}
		return events.SQSEventResponse{}, nil
	}, queue.MappingConfig{ReportBatchItemFailures: true, MaxConcurrency: 1, FunctionTimeout: time.Minute})
	require.NoError(t, err)
	t.Cleanup(stop)
	b.urls = map[string]string{workflow.ApprovalQueueSubstitution: url}
	b.svc = b.service(control.Options{})
	return b
}

// service returns use cases over the bundle's store and engine, with o's
// other options.
func (b *testBundle) service(o control.Options) *control.Service {
	o.Store, o.Engine = b.store, b.eng
	if o.QueueURLs == nil {
		o.QueueURLs = b.urls
	}
	if o.NowFunc == nil {
		o.NowFunc = func() time.Time { return t0 }
	}
	return control.New(o)
}

func (b *testBundle) publish(t *testing.T, def string) control.Published {
	t.Helper()
	res, err := b.svc.Publish(context.Background(), control.PublishParams{Definition: []byte(def), Principal: "ada"})
	require.NoError(t, err)
	return res
}

// requireCode asserts err is a control error of code, and returns it.
func requireCode(t *testing.T, err error, code control.Code) *control.Error {
	t.Helper()
	var ce *control.Error
	require.ErrorAs(t, err, &ce)
	require.Equal(t, code, ce.Code, ce.Detail)
	require.Equal(t, ce.Detail, ce.Error())
	return ce
}

func TestPublish(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	def := holdWorkflow("publish")

	dry, err := b.svc.Publish(ctx, control.PublishParams{Definition: []byte(def), DryRun: true})
	require.NoError(t, err)
	require.Equal(t, "publish", dry.Name)
	require.Contains(t, dry.ASL, workflow.ApprovalQueueSubstitution, "a dry run shows the ASL as compiled")
	require.Contains(t, dry.Graph, "flowchart")
	require.Empty(t, dry.Workflow.Name, "a dry run stores nothing")
	_, err = b.store.Workflow(ctx, "publish")
	require.ErrorIs(t, err, apistore.ErrNotFound)

	res := b.publish(t, def)
	require.True(t, res.Created)
	require.Equal(t, 1, res.Version.Version)
	require.Equal(t, "ada", res.Version.CreatedBy)
	require.Equal(t, t0, res.Version.CreatedAt)
	require.True(t, strings.HasPrefix(res.Version.Checksum, "sha256:"))
	require.Contains(t, res.Version.InputSchema, `"message"`)
	require.Equal(t, dry.ASL, res.Version.ASL, "the version keeps the ASL with its substitutions")
	sm, err := b.eng.DescribeStateMachine(ctx, res.Workflow.StateMachineARN)
	require.NoError(t, err)
	require.Contains(t, sm.Definition, b.urls[workflow.ApprovalQueueSubstitution], "the engine runs it with the queue's URL")
	require.NotContains(t, sm.Definition, workflow.ApprovalQueueSubstitution)

	again := b.publish(t, def)
	require.False(t, again.Created, "the same definition adds no version")
	require.Equal(t, 1, again.Version.Version)

	changed := b.publish(t, strings.Replace(def, "maxLength: 20", "maxLength: 30", 1))
	require.True(t, changed.Created)
	require.Equal(t, 2, changed.Version.Version)
	require.Equal(t, res.Workflow.StateMachineARN, changed.Workflow.StateMachineARN, "the state machine is updated")

	// An engine that lost the state machine (one kept in memory, started
	// again) gets it created again.
	qb := queue.New(queue.Config{})
	t.Cleanup(func() { _ = qb.Close() })
	fresh, err := engine.New(engine.Config{Store: engine.NewMemoryStore(), Queues: qb})
	require.NoError(t, err)
	require.NoError(t, fresh.Start(ctx))
	t.Cleanup(func() { _ = fresh.Close() })
	lost := control.New(control.Options{Store: b.store, Engine: fresh, QueueURLs: b.urls})
	res, err = lost.Publish(ctx, control.PublishParams{Definition: []byte(strings.Replace(def, "maxLength: 20", "maxLength: 40", 1))})
	require.NoError(t, err)
	require.Equal(t, 3, res.Version.Version)
	_, err = fresh.DescribeStateMachine(ctx, res.Workflow.StateMachineARN)
	require.NoError(t, err)
}

func TestPublishRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	res, err := b.svc.Publish(ctx, control.PublishParams{Definition: []byte("name: refusals\nsteps:\n  - id: a\n    ai: {model: x/y, prompt: \"{{ steps.nope.output }}\"}\n")})
	ce := requireCode(t, err, control.CodeInvalidDefinition)
	require.Empty(t, res.Name, "a definition that does not check has no name yet")
	require.NotEmpty(t, ce.Fields)
	for _, f := range ce.Fields {
		require.Equal(t, control.ParamDefinition, f.Param)
		require.True(t, strings.HasPrefix(f.Location, control.DefinitionFile+":"), f.Location)
	}
	require.Equal(t, fmt.Sprintf("the definition has %d error(s)", len(ce.Fields)), ce.Detail)

	_, err = b.svc.Publish(ctx, control.PublishParams{Definition: []byte("{not yaml")})
	requireCode(t, err, control.CodeInvalidDefinition)

	// A wait.until that is no timestamp: it used to pass the checker and
	// make an invalid state machine, answered as an internal error.
	res, err = b.svc.Publish(ctx, control.PublishParams{Definition: []byte("name: until\ninput: {type: object}\nsteps:\n  - id: w\n    wait: {until: \"tomorrow\"}\n")})
	ce = requireCode(t, err, control.CodeInvalidDefinition)
	require.Empty(t, res.Name)
	require.Equal(t, []control.Field{{Param: control.ParamDefinition, Location: control.DefinitionFile + ":5:20",
		Detail: `until must be an RFC 3339 timestamp, not "tomorrow" (step "w"); hint: write it like "2026-12-01T09:00:00Z" (RFC 3339, with a time zone), or a single {{ path }} to one`}}, ce.Fields)

	// A deployment without the queue an approval step sends to.
	noQueue := b.service(control.Options{QueueURLs: map[string]string{}})
	res, err = noQueue.Publish(ctx, control.PublishParams{Definition: []byte(holdWorkflow("no-queue"))})
	ce = requireCode(t, err, control.CodeInvalidDefinition)
	require.Equal(t, "this deployment has no queue for the steps that send to ${ApprovalQueueUrl}", ce.Detail)
	require.Equal(t, "no-queue", res.Name, "the name is known once the definition checks")

	// A state machine of the name that this API did not publish.
	_, err = b.eng.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "stack-taken",
		Definition: `{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}`})
	require.NoError(t, err)
	prefixed := b.service(control.Options{StateMachinePrefix: "stack-"})
	_, err = prefixed.Publish(ctx, control.PublishParams{Definition: []byte(holdWorkflow("taken"))})
	ce = requireCode(t, err, control.CodeNameTaken)
	require.Contains(t, ce.Detail, "a state machine named stack-taken exists that this API did not publish")
}

func TestStart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	pub := b.publish(t, holdWorkflow("start"))

	_, err := b.svc.Start(ctx, control.StartParams{Workflow: "start-none", Input: json.RawMessage(`{"message": "hi"}`)})
	require.Contains(t, requireCode(t, err, control.CodeNotFound).Detail, `no workflow is named "start-none"`)

	got, err := b.svc.Start(ctx, control.StartParams{Workflow: "start", Input: json.RawMessage(`{ "message" : "hi" }`), Principal: "op"})
	require.NoError(t, err)
	require.False(t, got.Replayed)
	require.Equal(t, pub.Workflow.Name, got.Workflow.Name)
	e, err := b.eng.DescribeExecution(ctx, got.ExecutionARN)
	require.NoError(t, err)
	require.JSONEq(t, `{"message":"hi"}`, e.Input)
	require.Equal(t, `{"message":"hi"}`, e.Input, "the input is started compact")

	// The input is read once the workflow is known.
	read := 0
	_, err = b.svc.Start(ctx, control.StartParams{Workflow: "start-none", ReadInputFunc: func() (json.RawMessage, error) { read++; return nil, nil }})
	requireCode(t, err, control.CodeNotFound)
	require.Zero(t, read)
	boom := fmt.Errorf("the body broke")
	_, err = b.svc.Start(ctx, control.StartParams{Workflow: "start", ReadInputFunc: func() (json.RawMessage, error) { read++; return nil, boom }})
	require.ErrorIs(t, err, boom)
	require.Equal(t, 1, read)

	// No input is {}, which the schema refuses: message is required.
	_, err = b.svc.Start(ctx, control.StartParams{Workflow: "start", Input: json.RawMessage(`null`)})
	ce := requireCode(t, err, control.CodeInvalidInput)
	require.Equal(t, "the input does not match the input schema of start version 1", ce.Detail)
	require.Equal(t, control.ParamInput, ce.Fields[0].Param)

	_, err = b.svc.Start(ctx, control.StartParams{Workflow: "start", Input: json.RawMessage(`{"message": "` + strings.Repeat("x", 30) + `"}`)})
	ce = requireCode(t, err, control.CodeInvalidInput)
	pointers := []string{}
	for _, f := range ce.Fields {
		pointers = append(pointers, f.Pointer)
	}
	require.Contains(t, pointers, "/message")

	_, err = b.svc.Start(ctx, control.StartParams{Workflow: "start", Input: json.RawMessage(`{"message": `)})
	requireCode(t, err, control.CodeInputNotJSON)

	_, err = b.svc.Start(ctx, control.StartParams{Workflow: "start", Input: json.RawMessage(`{"message": "` + strings.Repeat("x", control.MaxInputBytes) + `"}`)})
	ce = requireCode(t, err, control.CodeInputTooLarge)
	require.Equal(t, []control.Field{{Param: control.ParamInput, Detail: "too large"}}, ce.Fields)
}

func TestStartIdempotently(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.publish(t, holdWorkflow("idempotent"))
	params := control.StartParams{Workflow: "idempotent", Input: json.RawMessage(`{"message": "once"}`), Principal: "op", IdempotencyKey: "order-7"}

	first, err := b.svc.Start(ctx, params)
	require.NoError(t, err)
	require.False(t, first.Replayed)
	require.Contains(t, first.ExecutionARN, ":idem-", "the key names the execution")

	params.Input = json.RawMessage(`{ "message": "once" }`)
	again, err := b.svc.Start(ctx, params)
	require.NoError(t, err)
	require.True(t, again.Replayed, "the same key and request is a replay")
	require.Equal(t, first.ExecutionARN, again.ExecutionARN)
	require.True(t, first.StartDate.Equal(again.StartDate))

	other := params
	other.Principal = "someone-else"
	theirs, err := b.svc.Start(ctx, other)
	require.NoError(t, err)
	require.False(t, theirs.Replayed, "keys are the principal's")
	require.NotEqual(t, first.ExecutionARN, theirs.ExecutionARN)

	params.Input = json.RawMessage(`{"message": "twice"}`)
	_, err = b.svc.Start(ctx, params)
	ce := requireCode(t, err, control.CodeIdempotencyKeyReused)
	require.Equal(t, []control.Field{{Param: control.ParamIdempotencyKey, Detail: "reused with another body or workflow"}}, ce.Fields)

	for _, key := range []string{strings.Repeat("k", control.MaxIdempotencyKey+1), "line\nbreak", "é"} {
		params.IdempotencyKey = key
		_, err = b.svc.Start(ctx, params)
		requireCode(t, err, control.CodeInvalidIdempotencyKey)
	}

	// A key claimed by a first attempt that never started its execution:
	// the replay starts it.
	params.IdempotencyKey, params.Input = "order-8", json.RawMessage(`{"message":"late"}`)
	_, err = b.svc.Start(ctx, params)
	require.NoError(t, err)
	wf, err := b.store.Workflow(ctx, "idempotent")
	require.NoError(t, err)
	stored, created, err := b.store.ClaimKey(ctx, apistore.IdempotencyKey{Principal: "op", Key: "order-8"})
	require.NoError(t, err)
	require.False(t, created)
	_, _, err = b.store.ClaimKey(ctx, apistore.IdempotencyKey{Principal: "op", Key: "order-9", RequestHash: stored.RequestHash,
		ExecutionARN: strings.Replace(wf.StateMachineARN, ":stateMachine:", ":execution:", 1) + ":never-started", CreatedAt: t0})
	require.NoError(t, err)
	params.IdempotencyKey = "order-9"
	late, err := b.svc.Start(ctx, params)
	require.NoError(t, err)
	require.True(t, late.Replayed)
	_, err = b.eng.DescribeExecution(ctx, late.ExecutionARN)
	require.NoError(t, err, "the replay started the execution")
}

func TestStopAndDecide(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.publish(t, holdWorkflow("decide"))
	// Stop: the engine's failure names the principal.
	started, err := b.svc.Start(ctx, control.StartParams{Workflow: "decide", Input: json.RawMessage(`{"message": "stop"}`)})
	require.NoError(t, err)
	stopToken := <-b.tokens
	e, err := b.svc.Stop(ctx, control.StopParams{ExecutionARN: started.ExecutionARN, Principal: "op"})
	require.NoError(t, err)
	require.Equal(t, sfn.StatusAborted, e.Status)
	require.Equal(t, "aiflow.Stopped", e.Error)
	require.Equal(t, "stopped through the API by op", e.Cause)
	_, err = b.svc.Stop(ctx, control.StopParams{ExecutionARN: strings.Replace(started.ExecutionARN, ":decide:", ":none:", 1), Error: "X", Cause: "y"})
	var ee *sfn.Error
	require.ErrorAs(t, err, &ee)

	// Decide: the approval step's task succeeds with the decision.
	started, err = b.svc.Start(ctx, control.StartParams{Workflow: "decide", Input: json.RawMessage(`{"message": "go"}`)})
	require.NoError(t, err)
	token := <-b.tokens
	id1, id2 := apistore.ApprovalID(token), apistore.ApprovalID(stopToken)
	require.NoError(t, b.store.AddApproval(ctx, apistore.Approval{ID: id1, ExecutionARN: started.ExecutionARN, StepID: "approve",
		TaskToken: token, Message: "Go on with go?", CreatedAt: t0}))
	a, err := b.svc.Decide(ctx, control.DecideParams{ID: id1, Approve: true, Comment: "sure", Principal: "lead"})
	require.NoError(t, err)
	require.Equal(t, apistore.ApprovalApproved, a.Status)
	require.Equal(t, "lead", a.DecidedBy)
	require.Equal(t, t0, *a.DecidedAt)
	require.NoError(t, b.eng.Wait(ctx, started.ExecutionARN))
	e, err = b.eng.DescribeExecution(ctx, started.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusSucceeded, e.Status, e.Cause)
	require.JSONEq(t, `{"approved": true}`, e.Output)

	_, err = b.svc.Decide(ctx, control.DecideParams{ID: id1, Approve: false, Principal: "other"})
	ce := requireCode(t, err, control.CodeApprovalDecided)
	require.Equal(t, "the approval was decided already: approved by lead", ce.Detail)

	_, err = b.svc.Decide(ctx, control.DecideParams{ID: "apr_none", Approve: true})
	ce = requireCode(t, err, control.CodeNotFound)
	require.Equal(t, "no approval has the id apr_none", ce.Detail)

	// The stopped execution's approval step waits no more: the approval
	// expires.
	require.NoError(t, b.store.AddApproval(ctx, apistore.Approval{ID: id2, ExecutionARN: started.ExecutionARN, StepID: "approve",
		TaskToken: stopToken, CreatedAt: t0}))
	a, err = b.svc.Decide(ctx, control.DecideParams{ID: id2, Approve: false, Principal: "lead"})
	ce = requireCode(t, err, control.CodeApprovalDecided)
	require.Equal(t, "the approval step is no longer waiting: it timed out or its execution ended", ce.Detail)
	require.Equal(t, apistore.ApprovalExpired, a.Status)

	_, err = b.svc.Decide(ctx, control.DecideParams{ID: id2, Approve: true, Principal: "lead"})
	ce = requireCode(t, err, control.CodeApprovalDecided)
	require.Equal(t, "the approval step is no longer waiting: it timed out or its execution ended", ce.Detail)
}

// machineRecorder is the engine with the state machine inputs it was given.
type machineRecorder struct {
	control.Engine
	mu      sync.Mutex
	creates []sfn.CreateStateMachineInput
	updates []sfn.UpdateStateMachineInput
}

func (m *machineRecorder) CreateStateMachine(ctx context.Context, in sfn.CreateStateMachineInput) (sfn.CreateStateMachineOutput, error) {
	m.mu.Lock()
	m.creates = append(m.creates, in)
	m.mu.Unlock()
	return m.Engine.CreateStateMachine(ctx, in)
}

func (m *machineRecorder) UpdateStateMachine(ctx context.Context, in sfn.UpdateStateMachineInput) (sfn.UpdateStateMachineOutput, error) {
	m.mu.Lock()
	m.updates = append(m.updates, in)
	m.mu.Unlock()
	return m.Engine.UpdateStateMachine(ctx, in)
}

// loggedRuns numbers the runs of TestPublishSetsLoggingAndTracing.
var loggedRuns atomic.Int64

// TestPublishSetsLoggingAndTracing: every state machine the service creates
// or updates gets the options' logging and tracing.
func TestPublishSetsLoggingAndTracing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	rec := &machineRecorder{Engine: b.eng}
	logs := &sfn.LoggingConfiguration{Level: "ERROR", LogGroupARN: "arn:aws:logs:us-east-1:123456789012:log-group:states:*"}
	svc := control.New(control.Options{Store: b.store, Engine: rec, QueueURLs: b.urls, NowFunc: func() time.Time { return t0 },
		StateMachineLogging: logs, StateMachineTracing: true})
	// The package's database outlives a run (go test -count): a name of
	// its own each run.
	name := fmt.Sprintf("logged-%d", loggedRuns.Add(1))
	_, err := svc.Publish(ctx, control.PublishParams{Definition: []byte(holdWorkflow(name)), Principal: "ada"})
	require.NoError(t, err)
	_, err = svc.Publish(ctx, control.PublishParams{Definition: []byte(strings.Replace(holdWorkflow(name), "Go on", "Carry on", 1)), Principal: "ada"})
	require.NoError(t, err)
	require.Len(t, rec.creates, 1)
	require.Equal(t, logs, rec.creates[0].Logging)
	require.True(t, rec.creates[0].Tracing)
	require.Len(t, rec.updates, 1)
	require.Equal(t, logs, rec.updates[0].Logging)
	require.True(t, *rec.updates[0].Tracing)
}
