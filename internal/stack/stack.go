// Package stack runs template.yaml on this machine: `aiflow stack`. It reads
// the template with the SAM transform's meaning (internal/stackmodel) and
// stands in for the AWS services it uses, each speaking its real wire
// protocol on a loopback port, so that the functions' real bootstraps,
// built for this machine, run unchanged with the SDK clients they use on
// AWS:
//
//   - Lambda: every function is its bootstrap under the AWS Lambda Runtime
//     Interface Emulator (internal/lambdaemu), as many instances as its
//     concurrency allows, bounded by Params.MaxInstances; its environment is
//     the template's, resolved as CloudFormation resolves it (Ref, GetAtt, Sub,
//     dynamic references to the stack's secrets), plus the
//     AWS_ENDPOINT_URL_<SERVICE> variables that point its SDK clients here.
//   - SQS: the template's queues and redrive policies on the engine's queue,
//     served as the SQS API (internal/sqsapi); the functions' SQS event
//     sources are event source mappings on it (batch size, batching window,
//     maximum concurrency, partial batch responses).
//   - Step Functions: the template's state machines, with their definition
//     substitutions, on the durable local engine, in a database of its own
//     (AWS keeps Step Functions' state apart from the stack's database);
//     served as the Step Functions API (internal/sfnapi). Lambda tasks
//     invoke the emulated functions.
//   - Secrets Manager: the template's secrets, generated on first start into
//     a file only this user can read, served as the Secrets Manager API
//     (internal/secretsapi).
//   - RDS: the template's database cluster is a role and a database on the
//     given PostgreSQL server, made with the master credentials of its secret.
//   - CloudFormation custom resources whose ServiceToken is one of the
//     stack's functions (the migrations) are sent Create and Update events
//     as CloudFormation sends them, and the stack waits for their answers.
//
// What cannot run on one machine (IAM, VPC, log groups, alarms) is listed
// by Stack.NotRunHere with the reason.
package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/apigateway"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/enginestore"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/lambdaemu"
	"github.com/aiflow/aiflow/internal/samtemplate"
	"github.com/aiflow/aiflow/internal/secretsapi"
	"github.com/aiflow/aiflow/internal/sfnapi"
	"github.com/aiflow/aiflow/internal/sqsapi"
	"github.com/aiflow/aiflow/internal/sqsapi/sqsqueue"
	"github.com/aiflow/aiflow/internal/stackmodel"
)

// Defaults of Params.
const (
	DefaultStackName    = "aiflow"
	DefaultRegion       = "us-east-1"
	DefaultAccountID    = "123456789012"
	DefaultMaxInstances = 4
	DefaultCloseTimeout = 30 * time.Second
)

// Params configure Start.
type Params struct {
	// Dir holds template.yaml, the Makefile (its FUNCTIONS list) and the
	// functions' sources: the repository's root. Required.
	Dir string
	// DataDir keeps what the stack makes and keeps across restarts: the
	// secrets' file, the built bootstraps, the state of custom resources.
	// Required.
	DataDir string
	// DatabaseURL is a superuser's URL of the PostgreSQL server that stands
	// in for Aurora. The functions connect to it over TCP, so its host must
	// be an address (not a Unix socket). Required.
	DatabaseURL string
	// Parameters override the template's parameter defaults.
	Parameters map[string]string
	// Env adds environment variables to functions, by logical id, after the
	// template's, as `sam local invoke --env-vars` does; the key
	// "Parameters" applies to every function.
	Env map[string]map[string]string
	// Adjust, when set, changes the parsed template before it is resolved
	// (tests shorten a queue's visibility timeout with it).
	Adjust func(*samtemplate.Template) error
	// StackName, Region and AccountID are the pseudo parameters; empty
	// means the defaults above.
	StackName, Region, AccountID string
	// MaxInstances bounds each function's instances; 0 means
	// DefaultMaxInstances.
	MaxInstances int
	// Builder builds the emulator and the bootstraps; nil builds with the
	// go command in Dir and the user's cache.
	Builder *lambdaemu.Builder
	// Host is the address the stack's endpoints listen on; empty means
	// 127.0.0.1.
	Host string
	// APIAddr is the host:port of the template's first HTTP API; empty
	// means a free port on Host.
	APIAddr string
	// Logger receives what the stack does; FunctionLogger the functions'
	// output, a record a line. Nil discards.
	Logger, FunctionLogger *slog.Logger
	// Out, when set, is told each step of starting (building, creating).
	Out io.Writer
	// CloseTimeout bounds Close; 0 means DefaultCloseTimeout.
	CloseTimeout time.Duration
}

// Endpoints are the stack's services on this machine.
type Endpoints struct {
	// StepFunctions, SQS and SecretsManager are the endpoints of those
	// APIs, for AWS_ENDPOINT_URL_<SERVICE> or the AWS CLI's --endpoint-url.
	StepFunctions, SQS, SecretsManager string
	// S3 is the endpoint of the S3 API (internal/s3api), path-style, over
	// the template's buckets.
	S3 string
	// HTTPAPIs are the HTTP APIs' base URLs, by logical id.
	HTTPAPIs map[string]string
	// FunctionURLs are the function URLs, by logical id.
	FunctionURLs map[string]string
	// Issuer is the stack's token issuer (its OpenID discovery and keys).
	Issuer string
}

// Stack is a running stack. Close it.
type Stack struct {
	p         Params
	logger    *slog.Logger
	model     *stackmodel.Stack
	endpoints Endpoints

	secretStore *secretsapi.FileStore
	secrets     *secretsapi.Service

	engineDB     *pgxpool.Pool
	engineEvents *eventstore.Store
	broker       *queue.Broker
	eng          *engine.Engine
	bus          *eventBus

	functions *functionSet
	stopESMs  []func()
	issuer    *apigateway.Issuer

	mu      sync.Mutex
	servers []*http.Server
	wg      sync.WaitGroup
	closed  bool
}

// Start runs the template: it resolves it, makes its secrets, database,
// queues and state machines, builds and starts its functions, runs its
// custom resources, and serves the services' APIs. Its errors name the
// resource and what went wrong. On an error everything started is stopped.
func Start(ctx context.Context, p Params) (_ *Stack, err error) {
	if p.Dir == "" || p.DataDir == "" || p.DatabaseURL == "" {
		return nil, errors.New("starting the stack: Dir, DataDir and DatabaseURL are required")
	}
	p = withDefaults(p)
	s := &Stack{p: p, logger: p.Logger}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	if err := os.MkdirAll(p.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("making the stack's folder %s: %w", p.DataDir, err)
	}
	tmpl, folders, err := readTemplate(p)
	if err != nil {
		return nil, err
	}
	dbHost, dbPort, err := tcpAddress(p.DatabaseURL)
	if err != nil {
		return nil, err
	}

	sqsLn, err := s.listen("")
	if err != nil {
		return nil, err
	}
	sfnLn, err := s.listen("")
	if err != nil {
		return nil, err
	}
	secretsLn, err := s.listen("")
	if err != nil {
		return nil, err
	}
	s3Ln, err := s.listen("")
	if err != nil {
		return nil, err
	}
	s.endpoints = Endpoints{
		SQS: httpURL(sqsLn), StepFunctions: httpURL(sfnLn), SecretsManager: httpURL(secretsLn),
		HTTPAPIs: map[string]string{}, FunctionURLs: map[string]string{}, S3: httpURL(s3Ln),
	}
	if err := s.startIssuer(); err != nil {
		return nil, err
	}
	p.Parameters = s.defaultParameters(tmpl, p.Parameters)
	names := &localNames{
		AWSNames:     stackmodel.AWSNames{StackName: p.StackName, Region: p.Region, AccountID: p.AccountID},
		sqsEndpoint:  s.endpoints.SQS,
		apiEndpoints: map[string]string{}, functionURLs: map[string]string{},
		dbHost: dbHost, dbPort: dbPort, secretARNs: map[string]string{},
	}
	resolve := func() (*stackmodel.Stack, error) {
		return stackmodel.Resolve(stackmodel.Params{
			Template: tmpl, Folders: folders, Parameters: p.Parameters,
			StackName: p.StackName, Region: p.Region, AccountID: p.AccountID, Names: names,
		})
	}
	// The first resolution says which secrets, APIs and URLs there are; the
	// second gives them their ARNs and endpoints here.
	first, err := resolve()
	if err != nil {
		return nil, err
	}
	if err := s.startSecrets(ctx, first.Secrets, names); err != nil {
		return nil, err
	}
	s.serve(secretsLn, s.secrets)
	if err := s.startS3(s3Ln, first); err != nil {
		return nil, err
	}
	apiLns := map[string]net.Listener{}
	for i, api := range first.HTTPAPIs {
		addr := ""
		if i == 0 {
			addr = p.APIAddr
		}
		ln, err := s.listen(addr)
		if err != nil {
			return nil, fmt.Errorf("listening for the HTTP API %s: %w", api.LogicalID, err)
		}
		apiLns[api.LogicalID] = ln
		names.apiEndpoints[api.LogicalID] = httpURL(ln)
		s.endpoints.HTTPAPIs[api.LogicalID] = httpURL(ln)
	}
	urlLns := map[string]net.Listener{}
	for _, fu := range first.FunctionURLs {
		ln, err := s.listen("")
		if err != nil {
			return nil, fmt.Errorf("listening for the function URL %s: %w", fu.LogicalID, err)
		}
		urlLns[fu.LogicalID] = ln
		names.functionURLs[fu.LogicalID] = httpURL(ln) + "/"
		s.endpoints.FunctionURLs[fu.LogicalID] = httpURL(ln) + "/"
	}
	if s.model, err = resolve(); err != nil {
		return nil, err
	}

	s.progress("databases: creating the template's database cluster and the state machines' database")
	if err := s.makeDatabases(ctx); err != nil {
		return nil, err
	}
	if err := s.startQueues(); err != nil {
		return nil, err
	}
	s.serve(sqsLn, sqsapi.NewHandler(sqsqueue.New(s.broker), sqsapi.Options{
		Logger:       s.logger,
		QueueURLFunc: names.queueURL,
	}))

	s.progress("functions: building %d bootstraps for this machine", len(s.model.Functions))
	if s.functions, err = s.startFunctions(ctx); err != nil {
		return nil, err
	}
	if err := s.startEngine(ctx); err != nil {
		return nil, err
	}
	s.serve(sfnLn, sfnapi.NewHandler(s.eng, sfnapi.Options{Logger: s.logger}))
	if err := s.createStateMachines(ctx); err != nil {
		return nil, err
	}
	if err := s.runCustomResources(ctx); err != nil {
		return nil, err
	}
	if err := s.startEventSources(); err != nil {
		return nil, err
	}
	if err := s.startFronts(apiLns, urlLns); err != nil {
		return nil, err
	}
	if err := s.startEventBus(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// placeholderIDs stand for the ids of AWS resources the stack does not
// make (a VPC, subnets, security groups), for parameters of those types
// that have no value: nothing on this machine uses them.
var placeholderIDs = map[string]string{
	"AWS::EC2::VPC::Id":                      "vpc-0000000000000000a",
	"List<AWS::EC2::Subnet::Id>":             "subnet-0000000000000000a,subnet-0000000000000000b",
	"AWS::EC2::Subnet::Id":                   "subnet-0000000000000000a",
	"AWS::EC2::SecurityGroup::Id":            "sg-0000000000000000a",
	"List<AWS::EC2::SecurityGroup::Id>":      "sg-0000000000000000a",
	"AWS::EC2::KeyPair::KeyName":             "local",
	"AWS::EC2::AvailabilityZone::Name":       "us-east-1a",
	"List<AWS::EC2::AvailabilityZone::Name>": "us-east-1a,us-east-1b",
}

// defaultParameters gives a value to the template's parameters that have
// none and that the stack can fill: the JWT issuer and audience (the
// stack's issuer), and the AWS resource ids of placeholderIDs. Values the
// caller set win.
func (s *Stack) defaultParameters(tmpl *samtemplate.Template, given map[string]string) map[string]string {
	out := maps.Clone(given)
	if out == nil {
		out = map[string]string{}
	}
	for name, decl := range tmpl.Parameters {
		if _, set := out[name]; set {
			continue
		}
		d, _ := decl.(map[string]any)
		if _, hasDefault := d["Default"]; hasDefault {
			continue
		}
		typ, _ := d["Type"].(string)
		switch {
		case name == IssuerParameter:
			out[name] = s.issuer.URL()
		case name == AudienceParameter:
			out[name] = Audience
		case placeholderIDs[typ] != "":
			out[name] = placeholderIDs[typ]
		}
	}
	return out
}

func withDefaults(p Params) Params {
	if p.StackName == "" {
		p.StackName = DefaultStackName
	}
	if p.Region == "" {
		p.Region = DefaultRegion
	}
	if p.AccountID == "" {
		p.AccountID = DefaultAccountID
	}
	if p.MaxInstances <= 0 {
		p.MaxInstances = DefaultMaxInstances
	}
	if p.Host == "" {
		p.Host = "127.0.0.1"
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.FunctionLogger == nil {
		p.FunctionLogger = slog.New(slog.DiscardHandler)
	}
	if p.Builder == nil {
		p.Builder = &lambdaemu.Builder{ModuleDir: p.Dir}
	}
	if p.CloseTimeout <= 0 {
		p.CloseTimeout = DefaultCloseTimeout
	}
	return p
}

// readTemplate reads the template and the functions' folders from Dir and
// applies Adjust.
func readTemplate(p Params) (*samtemplate.Template, map[string]string, error) {
	tmpl, folders, err := stackmodel.Read(p.Dir)
	if err != nil {
		return nil, nil, err
	}
	if p.Adjust != nil {
		if err := p.Adjust(tmpl); err != nil {
			return nil, nil, fmt.Errorf("adjusting the template: %w", err)
		}
	}
	return tmpl, folders, nil
}

// tcpAddress returns the host and port of a postgres URL, refusing one
// that reaches its server through a Unix socket: the functions, separate
// processes, connect to the address the template's database endpoint
// resolves to.
func tcpAddress(databaseURL string) (host, port string, err error) {
	u, err := url.Parse(databaseURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", "", errors.New("the stack's database URL is not a postgres:// URL")
	}
	if h := u.Query().Get("host"); h != "" || u.Hostname() == "" {
		return "", "", errors.New("the stack's database URL names no TCP host: the functions connect to PostgreSQL over TCP, as they connect to Aurora (give postgres://user:password@127.0.0.1:5432/postgres)")
	}
	port = u.Port()
	if port == "" {
		port = "5432"
	}
	return u.Hostname(), port, nil
}

// Endpoints returns the stack's endpoints.
func (s *Stack) Endpoints() Endpoints { return s.endpoints }

// Model returns the resolved template the stack runs.
func (s *Stack) Model() *stackmodel.Stack { return s.model }

// NotRunHere lists the template's resources the stack does not run, and why.
func (s *Stack) NotRunHere() []stackmodel.NotRun { return s.model.NotRunHere }

func (s *Stack) progress(format string, args ...any) {
	if s.p.Out != nil {
		fmt.Fprintf(s.p.Out, format+"\n", args...)
	}
	s.logger.Info(fmt.Sprintf(format, args...))
}

func (s *Stack) listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = net.JoinHostPort(s.p.Host, "0")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	return ln, nil
}

func httpURL(ln net.Listener) string { return "http://" + ln.Addr().String() }

// serve serves h on ln until Close.
func (s *Stack) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.servers = append(s.servers, srv)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("serving", "addr", ln.Addr().String(), "error", err)
		}
	}()
}

// Close stops the stack: the fronts first, then the event sources (each
// batch in flight finishes, within the functions' timeouts and Close's
// bound), the engine (open executions resume on the next start), the
// functions and the servers. It returns what did not stop in time.
func (s *Stack) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	servers := slices.Clone(s.servers)
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), s.p.CloseTimeout)
	defer cancel()
	var errs []error
	for _, stop := range s.stopESMs {
		stop()
	}
	if s.bus != nil {
		if err := s.bus.close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if s.broker != nil {
		if err := s.broker.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping the queues: %w", err))
		}
	}
	if s.eng != nil {
		if err := s.eng.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing the engine: %w", err))
		}
	}
	if s.functions != nil {
		if err := s.functions.close(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, srv := range servers {
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
	}
	s.wg.Wait()
	if s.engineDB != nil {
		s.engineDB.Close()
	}
	return errors.Join(errs...)
}

// enginePoolSize is the engine database's pool: the engine's group commits
// and the event bus's subscription.
const enginePoolSize = 8

// startEngine opens the state machines' database and starts the durable
// engine on it, its queue sends on the stack's queues and its Lambda tasks
// on the stack's functions.
func (s *Stack) startEngine(ctx context.Context) error {
	cfg, err := pgxpool.ParseConfig(s.engineDatabaseURL())
	if err != nil {
		return fmt.Errorf("reading the state machines' database URL: %w", err)
	}
	cfg.MaxConns = enginePoolSize
	if s.engineDB, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return fmt.Errorf("opening the state machines' database: %w", err)
	}
	events, err := eventstore.Open(ctx, s.engineDB, eventstore.Options{Logger: s.logger})
	if err != nil {
		return fmt.Errorf("opening the state machines' event log: %w", err)
	}
	s.engineEvents = events
	store, err := enginestore.New(ctx, s.engineDB, events)
	if err != nil {
		return fmt.Errorf("opening the state machines' store: %w", err)
	}
	s.eng, err = engine.New(engine.Config{
		Store: store, Queues: s.broker, Functions: s.functions,
		Region: s.p.Region, AccountID: s.p.AccountID, Logger: s.logger,
		CloseTimeout: s.p.CloseTimeout / 2,
	})
	if err != nil {
		return fmt.Errorf("making the engine: %w", err)
	}
	if err := s.eng.Start(ctx); err != nil {
		return fmt.Errorf("starting the engine: %w", err)
	}
	return nil
}

// resourceErr is an error of the template's resource id, at the property
// path under it (empty for the resource itself): a *stackmodel.Error whose
// Path names where, as the template's own errors do.
func resourceErr(id, path, format string, args ...any) error {
	p := "Resources." + id
	if path != "" {
		p += "." + path
	}
	return &stackmodel.Error{Path: p, Err: fmt.Errorf(format, args...)}
}
