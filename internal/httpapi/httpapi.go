// Package httpapi holds aiflow's HTTP handlers. The same http.Handler is
// served by net/http in `aiflow dev` and behind API Gateway on Lambda
// (functions/api), so both answer alike.
//
// Every /v1 route requires a permission (internal/auth), is rate limited
// per principal, and every mutating request and every denial is written to
// the audit log. Errors are RFC 9457 problem+json. docs/api.md describes
// the routes; /openapi.json is their OpenAPI 3.1 document.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/audit"
	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/control"
	"github.com/aiflow/aiflow/internal/ratelimit"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/registry/catalog"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/telemetry"
	"github.com/aiflow/aiflow/internal/workflow"
)

// Pinger reports whether a dependency answers. *pgxpool.Pool is one.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Options configure New.
type Options struct {
	// DB is checked by /readyz.
	DB Pinger
	// Version is reported by /healthz.
	Version string
	// Logger receives one line per request and the causes of failed checks.
	Logger *slog.Logger
	// ReadyTimeout bounds each readiness check. Zero means two seconds.
	ReadyTimeout time.Duration
	// NowFunc and IDFunc are the clock and request-id source; nil means the
	// real clock and random ids.
	NowFunc func() time.Time
	IDFunc  func() string

	// Store keeps workflows, versions, idempotency keys and approvals;
	// the /v1 routes answer 503 without it.
	Store *apistore.Store
	// Machines is Step Functions or the local engine; the /v1 routes
	// answer 503 without it.
	Machines StateMachines
	// Details, if set, gives executions their tokens and cost.
	Details DetailReader
	// Blobs reads the large step results that outputs hold references
	// to (package blob), which GET /v1/executions/{id} and its events
	// resolve (unless asked ?blobs=reference); without it, an answer
	// holding a reference fails, since it cannot be resolved.
	Blobs BlobReader
	// MaxResolvedBytes bounds what resolving references adds to one
	// answer; 0 means DefaultMaxResolvedBytes.
	MaxResolvedBytes int64
	// Tokens, if set, adds the model tokens of running ai steps to
	// execution streams.
	Tokens TokenStream
	// Authenticator tells who calls the /v1 routes; nil refuses every
	// call with 401 (default deny).
	Authenticator auth.Authenticator
	// Audit, if set, receives every mutating request and every denial.
	Audit *audit.Log
	// Limiter, if set, limits each principal's requests to the /v1 routes.
	Limiter *ratelimit.Limiter
	// FailureLimiter, if set, limits each source address's requests to
	// the /v1 routes that carry no accepted credentials (429 past it);
	// NewFailureLimiter makes the default one. See abuse.go.
	FailureLimiter *ratelimit.Limiter
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// a request's source address (config.Auth.TrustedProxies); none by
	// default (on Lambda the source is API Gateway's sourceIp).
	TrustedProxies []netip.Prefix
	// DenialInterval is how long the audit log counts one source's
	// denials into one record; zero means audit.DefaultDenialInterval.
	DenialInterval time.Duration
	// Catalog is the MCP tool catalog workflows are checked against.
	Catalog *workflow.Catalog
	// QueueURLs fill the compiler's queue substitutions
	// (workflow.AIQueueSubstitution, ...) with the queues' URLs.
	QueueURLs map[string]string
	// StateMachinePrefix is put before a workflow's name to name its state
	// machine (the stack's name on AWS).
	StateMachinePrefix string
	// StateMachineRoleARN is the role state machines run with (AWS).
	StateMachineRoleARN string
	// StateMachineLogging and StateMachineTracing are the logging and
	// tracing of the state machines published (AWS); see control.Options.
	StateMachineLogging *sfn.LoggingConfiguration
	StateMachineTracing bool
	// StreamPoll is how often an execution's stream reads its history;
	// zero means 250 ms.
	StreamPoll time.Duration
	// TracerProvider makes the requests' server spans and Propagator
	// reads the callers' trace context; nil means the OpenTelemetry
	// globals (no-op until tracing is set up).
	TracerProvider trace.TracerProvider
	Propagator     propagation.TextMapPropagator
	// Registry is the service registry the /v1/services routes serve;
	// without it they answer 501 Not Implemented (this server keeps no
	// registry), while the other routes work as ever.
	Registry ServiceRegistry
	// Requests, if set, hears every request answered, by route pattern
	// (see RequestObserver).
	Requests RequestObserver
	// MCP, if set, lists the MCP servers and their tools at
	// GET /v1/mcp/servers; without it that route answers 501.
	MCP MCPServers
}

// Server is aiflow's HTTP API.
type Server struct {
	opts    Options
	mux     *http.ServeMux
	guard   *auth.Guard
	denials *audit.Denials // nil without Options.Audit
	routes  []Route
	control *control.Service
	usages  usageCache
	closed  closedReads // closedreads.go
	tracing serverTracing
}

// Route is one registered route.
type Route struct {
	// Method and Pattern are as registered: "GET", "/v1/executions/{id}".
	Method, Pattern string
	// Permission is what the route requires; "" for the open probes and
	// the API's description.
	Permission auth.Permission
}

// Control returns the use cases the API serves, for the callers in the
// same process that publish or start without an HTTP request (aiflow dev
// publishes its examples through it).
func (s *Server) Control() *control.Service { return s.control }

// New returns the API with every route registered.
func New(opts Options) *Server {
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.NowFunc == nil {
		opts.NowFunc = time.Now
	}
	if opts.IDFunc == nil {
		opts.IDFunc = randomID
	}
	if opts.StreamPoll <= 0 {
		opts.StreamPoll = 250 * time.Millisecond
	}
	authn := opts.Authenticator
	if authn == nil {
		authn = denyAll{}
	}
	s := &Server{opts: opts, mux: http.NewServeMux(), tracing: newServerTracing(opts.TracerProvider, opts.Propagator)}
	var liveCatalog func(context.Context) (*workflow.Catalog, error)
	if reg := opts.Registry; reg != nil {
		// A workflow is typed by the services registered when it is
		// published, over what the static catalog says of them.
		liveCatalog = func(ctx context.Context) (*workflow.Catalog, error) {
			svcs, err := reg.List(ctx, registry.ListFilter{})
			if err != nil {
				return nil, err
			}
			return catalog.Of(svcs), nil
		}
	}
	s.control = control.New(control.Options{
		Store: opts.Store, Engine: opts.Machines, Catalog: opts.Catalog, ServiceCatalogFunc: liveCatalog, QueueURLs: opts.QueueURLs,
		StateMachinePrefix: opts.StateMachinePrefix, StateMachineRoleARN: opts.StateMachineRoleARN, NowFunc: opts.NowFunc,
		StateMachineLogging: opts.StateMachineLogging, StateMachineTracing: opts.StateMachineTracing,
		TracerProvider: opts.TracerProvider,
	})
	s.guard = &auth.Guard{Authenticator: authn}
	s.guardAbuse()
	s.open("GET /healthz", s.healthz)
	s.open("GET /readyz", s.readyz)
	s.open("GET /openapi.json", s.openapi)
	s.handle("POST /v1/workflows", auth.PermWorkflowsPublish, s.publishWorkflow)
	s.handle("GET /v1/workflows", auth.PermWorkflowsRead, s.listWorkflows)
	s.handle("GET /v1/workflows/{name}", auth.PermWorkflowsRead, s.getWorkflow)
	s.handle("GET /v1/workflows/{name}/versions/{version}", auth.PermWorkflowsRead, s.getVersion)
	s.handle("POST /v1/workflows/{name}/executions", auth.PermExecutionsStart, s.startExecution)
	s.handle("GET /v1/executions", auth.PermExecutionsRead, s.listExecutions)
	s.handle("GET /v1/executions/{id}", auth.PermExecutionsRead, s.getExecution)
	s.handle("GET /v1/executions/{id}/events", auth.PermExecutionsRead, s.executionEvents)
	s.handle("GET /v1/executions/{id}/stream", auth.PermExecutionsRead, s.streamExecution)
	s.handle("POST /v1/executions/{id}/stop", auth.PermExecutionsStop, s.stopExecution)
	s.handle("POST /v1/executions/{id}/redrive", auth.PermExecutionsStart, s.redriveExecution)
	s.handle("GET /v1/approvals", auth.PermApprovalsRead, s.listApprovals)
	s.handle("POST /v1/approvals/{id}", auth.PermApprovalsDecide, s.decideApproval)
	s.handleService("POST /v1/services", auth.PermServicesManage, s.registerService)
	s.handleService("GET /v1/services", auth.PermServicesRead, s.listServices)
	s.handleService("GET /v1/services/{name}", auth.PermServicesRead, s.getService)
	s.handleService("DELETE /v1/services/{name}", auth.PermServicesManage, s.deregisterService)
	s.handleService("GET /v1/services/{name}/history", auth.PermServicesRead, s.serviceHistory)
	s.handleService("POST /v1/services/{name}/instances", auth.PermServicesManage, s.registerInstance)
	s.handleService("PUT /v1/services/{name}/instances/{id}/heartbeat", auth.PermServicesManage, s.heartbeat)
	s.handleService("POST /v1/services/{name}/instances/{id}/drain", auth.PermServicesManage, s.drainInstance)
	s.handleService("DELETE /v1/services/{name}/instances/{id}", auth.PermServicesManage, s.deregisterInstance)
	s.handleMCP("GET /v1/mcp/servers", auth.PermWorkflowsRead, s.listMCPServers)
	return s
}

// open registers a route every caller may use: the probes and the API's
// description.
func (s *Server) open(pattern string, h http.HandlerFunc) {
	s.register(pattern, "")
	s.mux.HandleFunc(pattern, h)
}

// handle registers a /v1 route behind the guard (perm), then, for a
// mutating route, the audit record of its outcome, then the rate limit
// (per principal, so inside the guard; a refused mutation is audited as
// failed), then a check that the API's dependencies are configured.
func (s *Server) handle(pattern string, perm auth.Permission, h http.HandlerFunc) {
	s.guarded(pattern, perm, auditMutations, func(w http.ResponseWriter, r *http.Request) bool {
		if s.opts.Store == nil || s.opts.Machines == nil {
			writeProblem(w, r, Problem{Status: http.StatusServiceUnavailable, Title: "Service Unavailable",
				Detail: "this server has no database or workflow engine configured"})
			return false
		}
		return true
	}, h)
}

// handleService registers a /v1/services route as handle does, needing
// the registry instead of the workflow store and engine: without one it
// answers 501, since no retry will find one (the server was built
// without it).
//
// A heartbeat is audited only when it fails: it records that an instance
// is alive, every few seconds for each instance, and would bury the
// changes in the log (its denials are audited as every denial is).
func (s *Server) handleService(pattern string, perm auth.Permission, h http.HandlerFunc) {
	mode := auditMutations
	if strings.HasSuffix(pattern, "/heartbeat") {
		mode = auditFailures
	}
	s.guarded(pattern, perm, mode, func(w http.ResponseWriter, r *http.Request) bool {
		if s.opts.Registry == nil {
			writeProblem(w, r, Problem{Status: http.StatusNotImplemented, Title: "Not Implemented",
				Detail: "this server has no service registry configured"})
			return false
		}
		return true
	}, h)
}

// guarded registers a /v1 route: the guard, the audit of a mutation,
// the rate limit, then ready (which answers and returns false when a
// dependency is missing) and the text gate before h.
func (s *Server) guarded(pattern string, perm auth.Permission, mode auditMode, ready func(http.ResponseWriter, *http.Request) bool, h http.HandlerFunc) {
	s.register(pattern, perm)
	var next http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ready(w, r) {
			return
		}
		if err := checkRequestText(r); err != nil {
			s.fail(w, r, err)
			return
		}
		h(w, r)
	})
	if s.opts.Limiter != nil {
		next = s.opts.Limiter.Middleware(ratelimit.PrincipalKey, next)
	}
	if method, _, _ := strings.Cut(pattern, " "); method != http.MethodGet {
		next = s.audited(perm, mode, next)
	}
	s.mux.Handle(pattern, s.sourced(s.guard.Require(perm, next)))
}

func (s *Server) register(pattern string, perm auth.Permission) {
	method, path, _ := strings.Cut(pattern, " ")
	s.routes = append(s.routes, Route{Method: method, Pattern: path, Permission: perm})
}

// Routes lists every route in registration order.
func (s *Server) Routes() []Route { return slices.Clone(s.routes) }

// denyAll is the authenticator of a server given none: nobody is let in.
type denyAll struct{}

func (denyAll) Authenticate(*http.Request) (auth.Principal, error) {
	return auth.Principal{}, auth.ErrNoToken
}

// ServeHTTP gives every request a request id (the caller's X-Request-Id when
// it sends a sane one), carries it in the context for logging, echoes it in
// the response, logs the request, and traces it (a server span named by
// its route, the child of the caller's trace context, whose IDs the log
// lines of the request carry).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.opts.NowFunc()
	id := r.Header.Get("X-Request-Id")
	if !saneID(id) {
		id = s.opts.IDFunc()
	}
	ctx := telemetry.WithRequestID(r.Context(), id)
	if c := r.Header.Get("X-Correlation-Id"); saneID(c) {
		ctx = telemetry.WithCorrelationID(ctx, c)
	}
	w.Header().Set("X-Request-Id", id)
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	r = r.WithContext(ctx)
	// The source address (ratelimit.Source: the connection's, or
	// X-Forwarded-For's from a trusted proxy), set on this copy of the
	// request, is what the limits and the audit log read from RemoteAddr.
	r.RemoteAddr = ratelimit.Source{TrustedProxies: s.opts.TrustedProxies}.Address(r)
	h, pattern := s.mux.Handler(r)
	r, span := s.tracing.start(r, pattern)
	if pattern == "" {
		s.noRoute(rec, r, h)
	} else {
		s.mux.ServeHTTP(rec, r)
	}
	took := s.opts.NowFunc().Sub(start)
	s.tracing.end(span, rec.status)
	s.opts.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", rec.status), slog.Duration("took", took))
	if s.opts.Requests != nil {
		s.opts.Requests.ObserveRequest(pattern, rec.status, took)
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.opts.Version})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	checks := map[string]string{}
	ready := true
	if s.opts.DB != nil {
		ctx, cancel := context.WithTimeout(r.Context(), s.opts.ReadyTimeout)
		err := s.opts.DB.Ping(ctx)
		cancel()
		if err != nil {
			ready = false
			checks["database"] = "unreachable"
			s.opts.Logger.ErrorContext(r.Context(), "readiness check failed", "check", "database", "error", err)
		} else {
			checks["database"] = "ok"
		}
	}
	if !ready {
		writeProblem(w, r, Problem{
			Status: http.StatusServiceUnavailable,
			Title:  "Not ready",
			Detail: "a dependency is not available; see checks",
			Extra:  map[string]any{"checks": checks},
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "checks": checks})
}

// noRoute answers a request no route takes with a problem: 404 for an
// unknown path, 405 with Allow for a known path and another method. The
// mux's own handler decides which; its plain-text body is dropped.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request, muxHandler http.Handler) {
	probe := &headerOnlyWriter{header: http.Header{}, status: http.StatusNotFound}
	muxHandler.ServeHTTP(probe, r)
	detail := "no route for " + r.Method + " " + r.URL.Path
	if allow := probe.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
		detail = r.URL.Path + " does not accept " + r.Method + "; it accepts " + allow
	}
	writeProblem(w, r, Problem{Status: probe.status, Title: http.StatusText(probe.status), Detail: detail})
}

type headerOnlyWriter struct {
	header http.Header
	status int
}

func (h *headerOnlyWriter) Header() http.Header         { return h.header }
func (h *headerOnlyWriter) Write(p []byte) (int, error) { return len(p), nil }
func (h *headerOnlyWriter) WriteHeader(code int)        { h.status = code }

// Problem is an RFC 9457 problem detail.
type Problem struct {
	Type   string // a URI; empty means about:blank
	Title  string
	Status int
	Detail string
	// Extra members are added to the object as they are.
	Extra map[string]any
}

func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	body := map[string]any{}
	for k, v := range p.Extra {
		body[k] = v
	}
	if p.Type == "" {
		p.Type = "about:blank"
	}
	body["type"], body["title"], body["status"], body["detail"] = p.Type, p.Title, p.Status, p.Detail
	body["instance"] = r.URL.Path
	if id := telemetry.RequestID(r.Context()); id != "" {
		body["request_id"] = id
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection's writer, to
// flush the event stream.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// saneID accepts ids of 1 to 128 printable ASCII characters without spaces,
// so a caller cannot smuggle log lines or huge values through a header.
func saneID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
