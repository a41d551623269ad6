package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/ai/scripted"
	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/audit"
	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/awssfn"
	"github.com/aiflow/aiflow/internal/blob"
	"github.com/aiflow/aiflow/internal/blob/pgblob"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/enginestore"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/httpapi"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/ratelimit"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/steps/detailstore"
	"github.com/aiflow/aiflow/internal/workflow"
)

// Both adapters of the state machines port satisfy it as they are.
var (
	_ httpapi.StateMachines = (*engine.Engine)(nil)
	_ httpapi.StateMachines = (*awssfn.Client)(nil)
)

// testKey signs the tests' development tokens.
var testKey = []byte("the httpapi tests' key of 32 b..")

// replyWorkflow waits for an approval, then drafts a reply with a model.
const replyWorkflow = `name: reply
description: A person approves, then a model drafts the reply.
input:
  type: object
  required: [message]
  properties:
    message: {type: string, maxLength: 2000}
steps:
  - id: approve
    approval:
      message: "Answer {{ input.message }}?"
      approvers: [support-leads]
    timeout: 1h
  - id: draft
    ai:
      model: scripted/test
      system: You draft replies.
      prompt: "Reply to: {{ input.message }}"
    timeout: 1m
output:
  approved: "{{ steps.approve.output.approved }}"
  approver: "{{ steps.approve.output.approver }}"
  reply: "{{ steps.draft.output }}"
`

const replyScript = `turns:
  - repeat: true
    match:
      system: You draft replies.
    reply:
      text: Thanks for writing; we are on it.
      usage: {input_tokens: 12, output_tokens: 8}
`

type apiBundle struct {
	srv       *httptest.Server
	api       *httpapi.Server
	eng       *engine.Engine
	pool      *pgxpool.Pool
	broker    *steps.Broker
	store     *apistore.Store
	approvals *httpapi.ApprovalWorker
	tokens    map[auth.Role]string
}

type bundleOptions struct {
	limiter *ratelimit.Limiter
	// authenticator replaces the HMAC verifier of the role tokens.
	authenticator auth.Authenticator
	// catalog is the MCP tool catalog definitions are checked against.
	catalog *workflow.Catalog
	// script replaces replyScript; pgBlobs keeps large step results in
	// the database (pgblob), for the worker and the API.
	script  string
	pgBlobs bool
	// durable keeps executions in PostgreSQL (enginestore), as aiflow
	// dev does, instead of in memory.
	durable bool
}

// setupAPI runs the whole API in process: a fresh PostgreSQL database, the
// in-memory engine with in-process queues, the ai step worker on the
// scripted provider, the approvals worker, detail events in the event
// store, the audit log, and HMAC development tokens, one per role.
func setupAPI(t testing.TB, o bundleOptions) *apiBundle {
	t.Helper()
	ctx := context.Background()
	pool := pgclustertest.Pool(t)
	store := apistore.New(pool)

	qb := queue.New(queue.Config{})
	t.Cleanup(func() { _ = qb.Close() })
	events, err := eventstore.Open(ctx, pool, eventstore.Options{})
	require.NoError(t, err)
	var blobs blob.Store
	if o.pgBlobs {
		blobs = pgblob.New(pool)
	}
	var engineStore engine.Store = engine.NewMemoryStore()
	if o.durable {
		engineStore, err = enginestore.New(ctx, pool, events)
		require.NoError(t, err)
	}
	eng, err := engine.New(engine.Config{Store: engineStore, Queues: qb})
	require.NoError(t, err)
	require.NoError(t, eng.Start(ctx))
	t.Cleanup(func() { _ = eng.Close() })

	details := detailstore.New(events, "aistep")
	src := replyScript
	if o.script != "" {
		src = o.script
	}
	script, err := scripted.Parse([]byte(src))
	require.NoError(t, err)
	broker := &steps.Broker{}
	rt, err := steps.NewRuntime(steps.RuntimeConfig{Callbacks: eng, Handlers: map[string]steps.Handler{
		"ai": steps.NewAI(steps.AIConfig{
			Providers: map[string]ai.Provider{"scripted": scripted.New(script, scripted.Options{})},
			Broker:    broker, Details: details,
			Prices: steps.PriceTable{"scripted/test": {InputPerMillion: 1000, OutputPerMillion: 2000}},
		}),
	}, Blobs: blobs})
	require.NoError(t, err)
	approvals := &httpapi.ApprovalWorker{Store: store}

	urls := map[string]string{}
	for _, q := range []struct {
		sub, name string
		handler   queue.Handler
	}{
		{workflow.AIQueueSubstitution, "ai-steps", rt.Handle},
		{workflow.ApprovalQueueSubstitution, "approvals", approvals.Handle},
		// Service steps may be published; nothing here runs them.
		{workflow.ServiceQueueSubstitution, "service-steps", nil},
	} {
		url, err := qb.CreateQueue(queue.QueueConfig{Name: q.name, VisibilityTimeout: 2 * time.Minute})
		require.NoError(t, err)
		urls[q.sub] = url
		if q.handler == nil {
			continue
		}
		stop, err := qb.Subscribe(url, q.handler, queue.MappingConfig{ReportBatchItemFailures: true, MaxConcurrency: 4, FunctionTimeout: time.Minute})
		require.NoError(t, err)
		t.Cleanup(stop)
		urls[q.sub] = url
	}

	verifier, err := auth.NewVerifier(auth.VerifierOptions{Issuer: auth.DevIssuer, Audience: []string{auth.DevAudience}, HMACKey: testKey})
	require.NoError(t, err)
	var authn auth.Authenticator = verifier
	if o.authenticator != nil {
		authn = o.authenticator
	}
	api := httpapi.New(httpapi.Options{
		DB: pool, Store: store, Machines: eng, Details: details, Tokens: httpapi.BrokerStream{Broker: broker},
		Authenticator: authn, Audit: audit.New(pool, audit.Options{}), Limiter: o.limiter,
		QueueURLs: urls, StreamPoll: 10 * time.Millisecond, Catalog: o.catalog, Registry: newRegistry(t),
		Blobs: blobs,
	})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	tokens := map[auth.Role]string{}
	for _, r := range auth.Roles() {
		tok, err := auth.MintDevToken(testKey, string(r)+"-user", []auth.Role{r}, time.Hour)
		require.NoError(t, err)
		tokens[r] = tok
	}
	return &apiBundle{srv: srv, api: api, eng: eng, pool: pool, broker: broker, store: store, approvals: approvals, tokens: tokens}
}

// serviceToken mints the token of service name: role service, subject
// service:<name>.
func (b *apiBundle) serviceToken(t testing.TB, name string) string {
	t.Helper()
	tok, err := auth.MintDevToken(testKey, auth.ServiceSubject(name), []auth.Role{auth.RoleService}, time.Hour)
	require.NoError(t, err)
	return tok
}

// call sends a request as role ("" for none) and returns the response
// with its body read.
func (b *apiBundle) call(t testing.TB, role auth.Role, method, path string, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	return b.callAs(t, b.tokens[role], method, path, body, header...)
}

// callAs sends a request with token ("" for none) and returns the
// response with its body read.
func (b *apiBundle) callAs(t testing.TB, token, method, path string, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, b.srv.URL+path, rd)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, raw
}

// jsonOf decodes a response body.
func jsonOf(t testing.TB, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m), "body: %s", raw)
	return m
}

// publish publishes a YAML definition as the author.
func (b *apiBundle) publish(t testing.TB, def string) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"definition": def})
	resp, raw := b.call(t, auth.RoleAuthor, http.MethodPost, "/v1/workflows", string(body))
	require.Contains(t, []int{http.StatusOK, http.StatusCreated}, resp.StatusCode, "%s", raw)
	return jsonOf(t, raw)
}

// start starts an execution of workflow as the operator and returns its id.
func (b *apiBundle) start(t testing.TB, workflow, input string) string {
	t.Helper()
	resp, raw := b.call(t, auth.RoleOperator, http.MethodPost, "/v1/workflows/"+workflow+"/executions", `{"input":`+input+`}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", raw)
	return jsonOf(t, raw)["id"].(string)
}

// sseEvent is one server-sent event.
type sseEvent struct {
	ID, Event string
	Data      json.RawMessage
}

// openStream opens an execution's stream as the viewer, from lastID when
// it is not "".
func (b *apiBundle) openStream(t testing.TB, id, lastID string) (*http.Response, *bufio.Reader) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.srv.URL+"/v1/executions/"+id+"/stream", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+b.tokens[auth.RoleViewer])
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	return resp, bufio.NewReader(resp.Body)
}

// next reads one event; ok is false at the end of the stream.
func next(t testing.TB, r *bufio.Reader) (sseEvent, bool) {
	t.Helper()
	var ev sseEvent
	for {
		line, err := r.ReadString('\n')
		if err == io.EOF {
			return ev, false
		}
		require.NoError(t, err)
		line = strings.TrimRight(line, "\n")
		if line == "" {
			return ev, true
		}
		k, v, _ := strings.Cut(line, ": ")
		switch k {
		case "id":
			ev.ID = v
		case "event":
			ev.Event = v
		case "data":
			ev.Data = json.RawMessage(v)
		}
	}
}

// readAll reads events until the stream ends.
func readAll(t testing.TB, r *bufio.Reader) []sseEvent {
	t.Helper()
	var out []sseEvent
	for {
		ev, ok := next(t, r)
		if !ok {
			return out
		}
		out = append(out, ev)
	}
}

// waitPending returns the pending approvals of an execution once there is
// one: the approvals worker stores it when the engine's message arrives.
func (b *apiBundle) waitPending(t testing.TB, id string) map[string]any {
	t.Helper()
	for {
		resp, raw := b.call(t, auth.RoleViewer, http.MethodGet, "/v1/approvals?execution="+id, "")
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
		items := jsonOf(t, raw)["items"].([]any)
		if len(items) > 0 {
			return items[0].(map[string]any)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitClosed waits for an execution to close and returns it as the API
// shows it.
func (b *apiBundle) waitClosed(t testing.TB, id string) map[string]any {
	t.Helper()
	resp, raw := b.call(t, auth.RoleViewer, http.MethodGet, "/v1/executions/"+id, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	require.NoError(t, b.eng.Wait(context.Background(), jsonOf(t, raw)["arn"].(string)))
	_, raw = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/executions/"+id, "")
	return jsonOf(t, raw)
}

// newRegistry returns the service registry on its memory store, with
// endpoints checked as the egress guard checks them at registration: http
// or https only.
func newRegistry(t testing.TB) *registry.Registry {
	t.Helper()
	reg, err := registry.New(registry.Config{Store: registry.NewMemoryStore(), CheckEndpointFunc: checkScheme})
	require.NoError(t, err)
	return reg
}

// checkScheme stands in for the egress guard's CheckURL: the tests'
// instances are on documentation names, never reached.
func checkScheme(endpoint string, _ bool) error {
	if !strings.HasPrefix(endpoint, "http://") && !strings.HasPrefix(endpoint, "https://") {
		return errors.New("the endpoint must be an http or https URL")
	}
	return nil
}
