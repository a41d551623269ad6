package steps

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/aiflow/aiflow/internal/clock"
	"github.com/aiflow/aiflow/internal/egress"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/registry/router"
	"github.com/aiflow/aiflow/internal/sfn"
)

// The error names of service steps. A workflow's retry and catch match
// them like any other step error.
const (
	// CodeServiceUnavailable: no healthy instance (or no such service),
	// every instance failed to answer (connection refused or lost), or
	// the registry could not be read.
	CodeServiceUnavailable = "Service.Unavailable"
	// CodeServiceTimeout: the call took longer than the operation's
	// timeout, or the step ran out of its own.
	CodeServiceTimeout = "Service.Timeout"
	// CodeServiceBadResponse: a successful answer that is not JSON, does
	// not fit the operation's response schema or the step's
	// output_schema, or is too large.
	CodeServiceBadResponse = "Service.BadResponse"
	// CodeServiceHTTP4xx: the service refused the request (4xx); the cause
	// has the status and the problem's detail.
	CodeServiceHTTP4xx = "Service.HTTP4xx"
	// CodeServiceHTTP5xx: the service failed (5xx), after the retries an
	// idempotent operation gets.
	CodeServiceHTTP5xx = "Service.HTTP5xx"
	// CodeServiceCircuitOpen: the circuit breaker of every healthy
	// instance is open after failed calls.
	CodeServiceCircuitOpen = "Service.CircuitOpen"
	// CodeServiceNoOperation: the method and path match no operation of
	// the service.
	CodeServiceNoOperation = "Service.NoOperation"
	// CodeServiceInvalidRequest: the body does not fit the operation's
	// request schema.
	CodeServiceInvalidRequest = "Service.InvalidRequest"
	// CodeServiceForbidden: the egress guard refused the instance's
	// address.
	CodeServiceForbidden = "Service.Forbidden"
)

// ServiceCodes lists the service step's error names.
var ServiceCodes = []string{
	CodeServiceUnavailable, CodeServiceTimeout, CodeServiceBadResponse, CodeServiceHTTP4xx, CodeServiceHTTP5xx,
	CodeServiceCircuitOpen, CodeServiceNoOperation, CodeServiceInvalidRequest, CodeServiceForbidden,
}

// ServiceSpec is the spec of a service step's message, fixed when the
// workflow was compiled: the service (with an optional version
// constraint) or the capability, and the method.
type ServiceSpec struct {
	Service        string          `json:"service,omitempty"`
	Capability     string          `json:"capability,omitempty"`
	Version        string          `json:"version,omitempty"`
	Method         string          `json:"method"`
	TimeoutSeconds int             `json:"timeout_seconds,omitempty"`
	OutputSchema   json.RawMessage `json:"output_schema,omitempty"`
}

// ServiceData is the data of a service step's message, rendered by the
// state machine: the path (with its query, if any) and the JSON body.
type ServiceData struct {
	Path string          `json:"path"`
	Body json.RawMessage `json:"body,omitempty"`
}

// DetailServiceCalled is the detail event a service step records for its
// call, with ServiceCall data.
const DetailServiceCalled = "ServiceCalled"

// ServiceCall is the data of a ServiceCalled event: which service version,
// instance and operation answered, after how many attempts and failovers,
// with which status, and how it ended (Error is the failure's name, empty
// on success).
type ServiceCall struct {
	Step        string `json:"step"`
	StepAttempt int    `json:"step_attempt"`
	Service     string `json:"service,omitempty"`
	Capability  string `json:"capability,omitempty"`
	Version     string `json:"version,omitempty"`
	Instance    string `json:"instance,omitempty"`
	// Endpoint is the instance's base URL or function ARN.
	Endpoint  string `json:"endpoint,omitempty"`
	Operation string `json:"operation,omitempty"`
	Method    string `json:"method"`
	Attempts  int    `json:"attempts"`
	Failovers int    `json:"failovers,omitempty"`
	// Status is the last HTTP status answered, 0 when none was.
	Status    int    `json:"status,omitempty"`
	LatencyMS int64  `json:"latency_ms"`
	Error     string `json:"error,omitempty"`
	Cause     string `json:"cause,omitempty"`
}

// ServiceRouter picks the service version, operation and instances of a
// call; *router.Router is it.
type ServiceRouter interface {
	Route(ctx context.Context, req router.Request) (*router.Route, error)
}

// ServiceClients makes the HTTP clients instances are called with;
// *egress.Guard is it. Internal instances get Policy{AllowPrivate: true}.
type ServiceClients interface {
	Client(p egress.Policy) *http.Client
}

// SecretSource answers a secret by its name; secrets.Source is one.
type SecretSource interface {
	Get(ctx context.Context, name string) (string, error)
}

// Defaults of ServiceConfig.
const (
	DefaultServiceMaxAttempts   = 3
	DefaultServiceRetryBase     = 200 * time.Millisecond
	DefaultServiceRetryMax      = 5 * time.Second
	DefaultServiceMaxRetryAfter = 10 * time.Second
)

// ServiceConfig configures NewService.
type ServiceConfig struct {
	// Router routes the calls. Required.
	Router ServiceRouter
	// Clients makes the HTTP clients of instances with an endpoint: the
	// egress guard. Required for them.
	Clients ServiceClients
	// Functions invokes the instances that are Lambda functions
	// (awslambda.Invoker); nil fails them with Service.Unavailable.
	Functions sfn.FunctionInvoker
	// Secrets reads the secrets services authenticate with; nil fails the
	// calls of a service with auth.
	Secrets SecretSource
	// Details, if set, records a ServiceCalled event per step.
	Details DetailRecorder
	// MaxAttempts caps the calls of one step run, failovers and retries
	// included; 0 means DefaultServiceMaxAttempts.
	MaxAttempts int
	// RetryBase and RetryMax shape the backoff before an idempotent
	// operation is called again on an instance already tried: attempt n
	// waits a random time up to min(RetryMax, RetryBase×2^(n-1)) (full
	// jitter); 0 means the defaults.
	RetryBase, RetryMax time.Duration
	// MaxRetryAfter is the longest Retry-After (of a 429 or 503) that is
	// waited for; a longer one ends the retries. 0 means
	// DefaultServiceMaxRetryAfter.
	MaxRetryAfter time.Duration
	// MaxResponseBytes caps a Lambda instance's response (the guard caps
	// HTTP ones); 0 means egress.DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// NowFunc is the clock of latencies and Retry-After dates; nil means
	// time.Now.
	NowFunc func() time.Time
	// SleepFunc waits between retries, returning early with ctx's error;
	// nil means a timer.
	SleepFunc func(ctx context.Context, d time.Duration) error
	// RandFunc returns a number in [0, 1) for the jitter; nil means
	// math/rand/v2.
	RandFunc func() float64
	// Logger receives detail events that could not be recorded; nil
	// discards.
	Logger *slog.Logger
}

// Service is the Handler of service steps.
type Service struct {
	cfg     ServiceConfig
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
	rand    func() float64
	log     *slog.Logger
	schemas schemaCache
}

var _ Handler = (*Service)(nil)

// NewService returns the service step handler.
func NewService(cfg ServiceConfig) *Service {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultServiceMaxAttempts
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = DefaultServiceRetryBase
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = DefaultServiceRetryMax
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = DefaultServiceMaxRetryAfter
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = egress.DefaultMaxResponseBytes
	}
	h := &Service{cfg: cfg, now: cfg.NowFunc, sleep: cfg.SleepFunc, rand: cfg.RandFunc, log: cfg.Logger}
	if h.now == nil {
		h.now = time.Now
	}
	if h.sleep == nil {
		h.sleep = clock.Sleep
	}
	if h.rand == nil {
		h.rand = rand.Float64
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h
}

// Run calls the step's service: the router picks the version, operation
// and instance; the body is checked against the operation's request
// schema; the call carries the step invocation's idempotency key as
// Idempotency-Key (the same on every delivery of the message and every
// attempt) and the service's auth; a failure before the request was sent
// fails over to the next healthy instance, and an idempotent operation is
// also failed over and retried with backoff after a failure that may pass
// (no connection, 5xx, 429, a timeout), up to MaxAttempts calls. A
// non-idempotent request that may have reached the service is never sent
// again. The result is {"output": the response's JSON body} (null for an
// empty body), checked against the operation's response schema and the
// step's output_schema. A failure is a *Failure named by ServiceCodes, or
// Steps.MalformedMessage.
func (h *Service) Run(ctx context.Context, m Message) (Result, error) {
	var spec ServiceSpec
	if err := json.Unmarshal(m.Spec, &spec); err != nil || spec.Method == "" || (spec.Service == "") == (spec.Capability == "") {
		if err == nil {
			err = errors.New("spec.method and one of spec.service and spec.capability are required")
		}
		return Result{}, Failf(CodeMalformedMessage, "reading the spec of service step %q: %v", m.Step.ID, err)
	}
	var data ServiceData
	if len(m.Data) > 0 {
		if err := json.Unmarshal(m.Data, &data); err != nil {
			return Result{}, Failf(CodeMalformedMessage, "reading the data of service step %q: %v", m.Step.ID, err)
		}
	}
	if !strings.HasPrefix(data.Path, "/") {
		return Result{}, Failf(CodeMalformedMessage, "the path of service step %q, %q, does not start with /", m.Step.ID, data.Path)
	}
	body := bytes.TrimSpace(data.Body)
	if bytes.Equal(body, []byte("null")) {
		body = nil
	}
	r := &serviceRun{h: h, m: m, spec: spec, path: data.Path, body: body, key: m.IdempotencyKey(), secrets: map[string]string{},
		call: ServiceCall{Step: m.Step.ID, StepAttempt: m.Step.Attempt, Service: spec.Service, Capability: spec.Capability, Method: strings.ToUpper(spec.Method)}}
	if len(spec.OutputSchema) > 0 && string(spec.OutputSchema) != "null" {
		s, err := h.schemas.compile(spec.OutputSchema)
		if err != nil {
			return Result{}, Failf(CodeMalformedMessage, "service step %q: %v", m.Step.ID, err)
		}
		r.outputSchema = s
	}
	start := h.now()
	res, f := r.run(ctx)
	r.call.LatencyMS = h.now().Sub(start).Milliseconds()
	if f != nil {
		r.call.Error, r.call.Cause = f.Name, f.Cause
	}
	h.record(ctx, m, r.call)
	if f != nil {
		return Result{}, f
	}
	return res, nil
}

func (h *Service) record(ctx context.Context, m Message, call ServiceCall) {
	if h.cfg.Details == nil {
		return
	}
	if err := h.cfg.Details.RecordDetail(context.WithoutCancel(ctx), Detail{ExecutionID: m.Execution.ID, Type: DetailServiceCalled, Data: call}); err != nil {
		h.log.WarnContext(ctx, "recording a service step's detail event", "error", err)
	}
}

// serviceRun is the state of one step's run.
type serviceRun struct {
	h            *Service
	m            Message
	spec         ServiceSpec
	path         string
	body         []byte
	key          string
	outputSchema *jsonschema.Schema
	secrets      map[string]string
	checked      *registry.Operation // the operation the body was checked against
	call         ServiceCall
}

// attemptFailure is how one call failed.
type attemptFailure struct {
	f *Failure
	// final failures end the step: the service's own answer (4xx, a bad
	// response), a secret that cannot be read, the step's deadline.
	final bool
	// transient failures may pass: no connection, 5xx, 429, a timeout.
	transient bool
	// sent is set when the request may have reached the service.
	sent       bool
	retryAfter time.Duration
}

func (r *serviceRun) run(ctx context.Context) (Result, *Failure) {
	h := r.h
	if h.cfg.Router == nil {
		return Result{}, Failf(CodeServiceUnavailable, "this worker has no service registry configured (step %q calls %s)", r.m.Step.ID, r.target())
	}
	req := router.Request{Service: r.spec.Service, Capability: r.spec.Capability, Version: r.spec.Version, Method: r.call.Method, Path: r.path}
	route, err := h.cfg.Router.Route(ctx, req)
	if err != nil {
		return Result{}, routeFailure(err)
	}
	var (
		last     *attemptFailure
		lastOp   *registry.Operation
		prev     string
		retries  int
		rerouted bool
	)
	for r.call.Attempts < h.cfg.MaxAttempts {
		pick, err := route.Next()
		if err != nil {
			if last == nil {
				return Result{}, routeFailure(err)
			}
			if rerouted {
				// Routed again after a backoff, and still nothing to call
				// (every breaker open).
				last.f.Cause += "; then " + routeFailure(err).Cause
				break
			}
			// Every instance was tried: call one again only when the
			// operation is idempotent and the failure may pass.
			if !last.transient || !lastOp.IsIdempotent() {
				break
			}
			retries++
			if !r.backoff(ctx, retries, last) {
				break
			}
			if route, err = h.cfg.Router.Route(ctx, req); err != nil {
				last.f.Cause += "; then " + routeFailure(err).Cause
				break
			}
			rerouted = true
			continue
		}
		rerouted = false
		if f := r.checkBody(pick); f != nil {
			pick.Abandoned()
			return Result{}, f
		}
		r.call.Attempts++
		if prev != "" && pick.Instance.ID != prev {
			r.call.Failovers++
		}
		prev = pick.Instance.ID
		r.call.Service, r.call.Version, r.call.Instance, r.call.Operation = pick.Service.Name, pick.Service.Version, pick.Instance.ID, pick.Operation.Name
		r.call.Endpoint = cmp.Or(pick.Instance.Endpoint, pick.Instance.FunctionARN)
		res, af := r.attempt(ctx, pick)
		if af == nil {
			return res, nil
		}
		if af.final {
			return Result{}, af.f
		}
		last, lastOp = af, pick.Operation
		if af.sent && !pick.Operation.IsIdempotent() {
			af.f.Cause += fmt.Sprintf("; the request may have reached the service, and %s %s (operation %s) is not idempotent, so it was not sent again", r.call.Method, r.path, pick.Operation.Name)
			return Result{}, af.f
		}
	}
	if last == nil {
		return Result{}, Failf(CodeServiceUnavailable, "no instance of %s could be called", r.target())
	}
	if r.call.Attempts > 1 {
		last.f.Cause += fmt.Sprintf(" (after %d attempts, %d on other instances)", r.call.Attempts, r.call.Failovers)
	}
	return Result{}, last.f
}

func (r *serviceRun) target() string {
	if r.spec.Service != "" {
		if r.spec.Version != "" {
			return fmt.Sprintf("service %s %s", r.spec.Service, r.spec.Version)
		}
		return "service " + r.spec.Service
	}
	return "capability " + r.spec.Capability
}

// routeFailure names a routing error.
func routeFailure(err error) *Failure {
	name := CodeServiceUnavailable
	switch {
	case errors.Is(err, router.ErrNoOperation):
		name = CodeServiceNoOperation
	case errors.Is(err, router.ErrCircuitOpen):
		name = CodeServiceCircuitOpen
	case errors.Is(err, router.ErrBadRequest):
		name = CodeMalformedMessage
	}
	return &Failure{Name: name, Cause: err.Error()}
}

// backoff waits before retry n, full jitter, at least the Retry-After the
// service asked for; it reports false when the step has no time left for
// it or the service asked for more than MaxRetryAfter.
func (r *serviceRun) backoff(ctx context.Context, n int, last *attemptFailure) bool {
	h := r.h
	ceiling := h.cfg.RetryMax
	if n <= 30 {
		ceiling = min(ceiling, h.cfg.RetryBase<<(n-1))
	}
	d := time.Duration(h.rand() * float64(ceiling))
	if last.retryAfter > h.cfg.MaxRetryAfter {
		last.f.Cause += fmt.Sprintf("; the service asked to retry after %s, more than the %s this worker waits", last.retryAfter, h.cfg.MaxRetryAfter)
		return false
	}
	d = max(d, last.retryAfter)
	if deadline, ok := ctx.Deadline(); ok && !h.now().Add(d).Before(deadline) {
		return false
	}
	return h.sleep(ctx, d) == nil
}

// checkBody checks the body against the request schema of the pick's
// operation, once per operation.
func (r *serviceRun) checkBody(p *router.Pick) *Failure {
	op := p.Operation
	if r.checked == op || len(op.RequestSchema) == 0 || string(op.RequestSchema) == "null" {
		return nil
	}
	s, err := r.h.schemas.schemas.Compile(string(op.RequestSchema), "request_schema.json", op.RequestSchema)
	if err != nil {
		return Failf(CodeServiceInvalidRequest, "the request schema of %s %s operation %s does not compile: %v", p.Service.Name, p.Service.Version, op.Name, err)
	}
	body := r.body
	if body == nil {
		body = []byte("null")
	}
	if ms := validate(s, body); ms != nil {
		return Failf(CodeServiceInvalidRequest, "the body of step %q does not fit the request schema of %s %s operation %s: %s", r.m.Step.ID, p.Service.Name, p.Service.Version, op.Name, describeMismatches(ms))
	}
	r.checked = op
	return nil
}

// validate checks the JSON raw against s; it returns the mismatches, nil
// when it fits.
func validate(s *jsonschema.Schema, raw []byte) []Mismatch {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return []Mismatch{{Reason: "not JSON: " + err.Error()}}
	}
	if err := s.Validate(v); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return []Mismatch{{Reason: err.Error()}}
		}
		return mismatches(ve)
	}
	return nil
}

// response is what an instance answered, or how the call failed.
type response struct {
	status int
	header http.Header
	body   []byte
	err    error
	// sent is set when the request may have reached the service.
	sent bool
}

// attempt makes one call to the pick's instance and reports its outcome
// to the router.
func (r *serviceRun) attempt(ctx context.Context, p *router.Pick) (Result, *attemptFailure) {
	headers, f := r.headers(ctx, p)
	if f != nil {
		p.Abandoned()
		return Result{}, &attemptFailure{f: f, final: true}
	}
	// An instance this worker cannot call says nothing of the instance:
	// another may be callable.
	switch {
	case p.Instance.FunctionARN != "" && r.h.cfg.Functions == nil:
		p.Abandoned()
		return Result{}, &attemptFailure{f: Failf(CodeServiceUnavailable, "instance %s of %s %s is the Lambda function %s, and this worker cannot invoke Lambda functions (no AWS region)", p.Instance.ID, p.Service.Name, p.Service.Version, p.Instance.FunctionARN)}
	case p.Instance.FunctionARN == "" && r.h.cfg.Clients == nil:
		p.Abandoned()
		return Result{}, &attemptFailure{f: Failf(CodeServiceUnavailable, "instance %s of %s %s is at %s, and this worker has no HTTP client for service instances", p.Instance.ID, p.Service.Name, p.Service.Version, p.Instance.Endpoint)}
	}
	callCtx, cancel := ctx, context.CancelFunc(func() {})
	if s := p.Operation.TimeoutSeconds; s > 0 {
		callCtx, cancel = context.WithTimeout(ctx, time.Duration(s)*time.Second)
	}
	defer cancel()
	var resp response
	if p.Instance.FunctionARN != "" {
		resp = r.invoke(callCtx, p, headers)
	} else {
		resp = r.do(callCtx, p, headers)
	}
	r.call.Status = resp.status
	where := fmt.Sprintf("%s %s (instance %s) %s %s", p.Service.Name, p.Service.Version, p.Instance.ID, r.call.Method, r.path)
	if resp.err != nil {
		return Result{}, r.callFailure(ctx, callCtx, p, where, resp)
	}
	switch s := resp.status; {
	case s >= 200 && s < 300:
		p.Succeeded()
		out, f := r.output(p, where, resp)
		if f != nil {
			return Result{}, &attemptFailure{f: f, final: true}
		}
		return Result{Output: out}, nil
	case s == http.StatusTooManyRequests:
		// The instance is up and asks for less: not a failure of its own.
		p.Abandoned()
		return Result{}, &attemptFailure{f: Failf(CodeServiceHTTP4xx, "%s answered %s", where, statusText(resp)), transient: true, sent: true, retryAfter: r.retryAfter(resp.header)}
	case s >= 400 && s < 500:
		p.Succeeded()
		return Result{}, &attemptFailure{f: Failf(CodeServiceHTTP4xx, "%s answered %s", where, statusText(resp)), final: true}
	case s >= 500:
		err := fmt.Errorf("answered %d", s)
		p.Failed(ctx, err)
		return Result{}, &attemptFailure{f: Failf(CodeServiceHTTP5xx, "%s answered %s", where, statusText(resp)), transient: true, sent: true, retryAfter: r.retryAfter(resp.header)}
	}
	p.Succeeded()
	return Result{}, &attemptFailure{f: Failf(CodeServiceBadResponse, "%s answered %s, which is not a final answer", where, statusText(resp)), final: true}
}

// callFailure names a call that got no answer.
func (r *serviceRun) callFailure(ctx, callCtx context.Context, p *router.Pick, where string, resp response) *attemptFailure {
	err := resp.err
	var netErr net.Error
	switch {
	case ctx.Err() != nil:
		// The step's own deadline, or the worker stopping: the instance is
		// not judged by it.
		p.Abandoned()
		return &attemptFailure{f: Failf(CodeServiceTimeout, "%s: the step ran out of time during the call: %v", where, context.Cause(ctx)), final: true}
	case errors.Is(err, egress.ErrForbidden):
		p.Abandoned()
		return &attemptFailure{f: Failf(CodeServiceForbidden, "%s: %v", where, unwrapURLError(err)), sent: resp.sent}
	case errors.Is(err, egress.ErrTooLarge), errors.Is(err, egress.ErrTooManyRedirects):
		p.Succeeded()
		return &attemptFailure{f: Failf(CodeServiceBadResponse, "%s: %v", where, unwrapURLError(err)), final: true}
	case callCtx.Err() != nil:
		p.Failed(ctx, err)
		return &attemptFailure{f: Failf(CodeServiceTimeout, "%s took longer than the operation's timeout of %ds", where, p.Operation.TimeoutSeconds), transient: true, sent: resp.sent}
	case errors.As(err, &netErr) && netErr.Timeout():
		p.Failed(ctx, err)
		return &attemptFailure{f: Failf(CodeServiceTimeout, "%s timed out: %v", where, unwrapURLError(err)), transient: true, sent: resp.sent}
	}
	p.Failed(ctx, err)
	return &attemptFailure{f: Failf(CodeServiceUnavailable, "%s: %v", where, unwrapURLError(err)), transient: true, sent: resp.sent}
}

// unwrapURLError drops the *url.Error's method and URL, which the cause
// already says.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// headers are the call's headers: the idempotency key, the content type,
// and the service's auth.
func (r *serviceRun) headers(ctx context.Context, p *router.Pick) (http.Header, *Failure) {
	hd := http.Header{}
	hd.Set("Accept", "application/json, application/problem+json")
	hd.Set("Idempotency-Key", r.key)
	if r.body != nil {
		hd.Set("Content-Type", "application/json")
	}
	a := p.Service.Auth
	if a == nil || a.Secret == "" {
		return hd, nil
	}
	secret, ok := r.secrets[a.Secret]
	if !ok {
		if r.h.cfg.Secrets == nil {
			return nil, Failf(CodeServiceUnavailable, "service %s authenticates with the secret %q, and this worker has no secret store", p.Service.Name, a.Secret)
		}
		var err error
		if secret, err = r.h.cfg.Secrets.Get(ctx, a.Secret); err != nil {
			return nil, Failf(CodeServiceUnavailable, "reading the secret %q that service %s authenticates with: %v", a.Secret, p.Service.Name, err)
		}
		r.secrets[a.Secret] = secret
	}
	switch strings.ToLower(a.Type) {
	case "header":
		hd.Set(cmp.Or(a.Header, "X-Api-Key"), secret)
	default:
		hd.Set("Authorization", "Bearer "+secret)
	}
	return hd, nil
}

// do calls an instance with an endpoint through the egress guard.
func (r *serviceRun) do(ctx context.Context, p *router.Pick, headers http.Header) response {
	var resp response
	trace := &httptrace.ClientTrace{WroteHeaders: func() { resp.sent = true }}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	u := strings.TrimRight(p.Instance.Endpoint, "/") + r.path
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), r.call.Method, u, body)
	if err != nil {
		resp.err = fmt.Errorf("making the request to %s: %w", u, err)
		return resp
	}
	req.Header = headers
	client := r.h.cfg.Clients.Client(egress.Policy{AllowPrivate: p.Instance.Internal})
	hr, err := client.Do(req)
	if err != nil {
		resp.err = err
		return resp
	}
	defer hr.Body.Close()
	resp.status, resp.header = hr.StatusCode, hr.Header
	resp.body, resp.err = io.ReadAll(hr.Body)
	return resp
}

// invoke calls an instance that is a Lambda function with an API Gateway
// HTTP API event (payload format 2.0), and reads its answer as API
// Gateway would.
func (r *serviceRun) invoke(ctx context.Context, p *router.Pick, headers http.Header) response {
	rawPath, query, _ := strings.Cut(r.path, "?")
	now := r.h.now().UTC()
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: rawPath, RawQueryString: query,
		Headers: map[string]string{"user-agent": "aiflow-servicestep"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: "$default", Stage: "$default", RequestID: r.key,
			Time: now.Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.call.Method, Path: rawPath, Protocol: "HTTP/1.1", UserAgent: "aiflow-servicestep"},
		},
		Body: string(r.body),
	}
	for k, v := range headers {
		ev.Headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	if query != "" {
		if q, err := url.ParseQuery(query); err == nil {
			ev.QueryStringParameters = map[string]string{}
			for k, v := range q {
				ev.QueryStringParameters[k] = strings.Join(v, ",")
			}
		}
	}
	if len(p.Params) > 0 {
		ev.PathParameters = map[string]string{}
		for k, v := range p.Params {
			if u, err := url.PathUnescape(v); err == nil {
				v = u
			}
			ev.PathParameters[k] = v
		}
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return response{err: fmt.Errorf("encoding the event for %s: %w", p.Instance.FunctionARN, err)}
	}
	out, err := r.h.cfg.Functions.Invoke(ctx, sfn.InvokeParams{FunctionName: p.Instance.FunctionARN, Payload: payload})
	if err != nil {
		var named interface{ ErrorName() string }
		sent := true
		if errors.As(err, &named) && named.ErrorName() != "Lambda.SdkClientException" {
			// The Lambda service refused the call: the function did not run.
			sent = false
		}
		return response{err: err, sent: sent}
	}
	if int64(len(out.Payload)) > r.h.cfg.MaxResponseBytes {
		return response{err: &egress.TooLargeError{Limit: r.h.cfg.MaxResponseBytes, URL: p.Instance.FunctionARN}, sent: true}
	}
	if out.FunctionError != "" {
		return response{status: http.StatusBadGateway, body: out.Payload, sent: true,
			header: http.Header{"Content-Type": {"application/json"}, "X-Function-Error": {out.FunctionError}}}
	}
	return functionResponse(out.Payload)
}

// functionResponse reads a function's payload 2.0 answer: an object with
// statusCode is the response; anything else is a 200 whose body is the
// payload.
func functionResponse(payload []byte) response {
	var probe map[string]json.RawMessage
	if json.Unmarshal(payload, &probe) != nil || probe["statusCode"] == nil {
		return response{status: http.StatusOK, body: payload, sent: true, header: http.Header{"Content-Type": {"application/json"}}}
	}
	var fr events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(payload, &fr); err != nil {
		return response{status: http.StatusBadGateway, body: payload, sent: true}
	}
	resp := response{status: fr.StatusCode, body: []byte(fr.Body), sent: true, header: http.Header{}}
	for k, v := range fr.Headers {
		resp.header.Set(k, v)
	}
	if fr.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(fr.Body)
		if err != nil {
			return response{status: http.StatusBadGateway, body: []byte(fr.Body), sent: true}
		}
		resp.body = b
	}
	return resp
}

// output reads a successful answer: its JSON body (null when empty),
// checked against the operation's response schema and the step's
// output_schema.
func (r *serviceRun) output(p *router.Pick, where string, resp response) (json.RawMessage, *Failure) {
	body := bytes.TrimSpace(resp.body)
	if resp.status == http.StatusNoContent || len(body) == 0 {
		body = []byte("null")
	}
	var out bytes.Buffer
	if err := json.Compact(&out, body); err != nil {
		return nil, Failf(CodeServiceBadResponse, "%s answered %d with a body that is not JSON (%s): %v", where, resp.status, snippet(resp.body), err)
	}
	if rs := p.Operation.ResponseSchema; len(rs) > 0 && string(rs) != "null" {
		s, err := r.h.schemas.schemas.Compile(string(rs), "response_schema.json", rs)
		if err != nil {
			return nil, Failf(CodeServiceBadResponse, "the response schema of %s %s operation %s does not compile: %v", p.Service.Name, p.Service.Version, p.Operation.Name, err)
		}
		if ms := validate(s, out.Bytes()); ms != nil {
			return nil, Failf(CodeServiceBadResponse, "%s answered %d with a body that does not fit the operation's response schema: %s", where, resp.status, describeMismatches(ms))
		}
	}
	if r.outputSchema != nil {
		if ms := validate(r.outputSchema, out.Bytes()); ms != nil {
			return nil, Failf(CodeServiceBadResponse, "%s answered %d with a body that does not fit the step's output_schema: %s", where, resp.status, describeMismatches(ms))
		}
	}
	return out.Bytes(), nil
}

// retryAfter reads Retry-After: seconds, or an HTTP date.
func (r *serviceRun) retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(r.h.now()), 0)
	}
	return 0
}

// statusText is "404 Not Found: the problem's detail".
func statusText(resp response) string {
	s := strconv.Itoa(resp.status)
	if t := http.StatusText(resp.status); t != "" {
		s += " " + t
	}
	if d := problemDetail(resp.body); d != "" {
		s += ": " + d
	}
	return s
}

// problemDetail is an RFC 9457 problem's detail (or title), else the
// start of the body.
func problemDetail(body []byte) string {
	var p struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	if json.Unmarshal(body, &p) == nil && (p.Detail != "" || p.Title != "") {
		return cmp.Or(p.Detail, p.Title)
	}
	return snippet(body)
}

// snippet is the start of a body, for a cause.
func snippet(body []byte) string {
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = truncate(s, 200)
	}
	return s
}
