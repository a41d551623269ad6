package mcpclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/sony/gobreaker/v2"

	"github.com/aiflow/aiflow/internal/clock"
)

// SecretSource answers a secret's value by its name; secrets.Env and the
// Secrets Manager adapter satisfy it.
type SecretSource interface {
	Get(ctx context.Context, name string) (string, error)
}

// Observer receives the pool's events (sessions opened, dropped and
// reconnected, circuits changing state, endpoints turning unhealthy, tool
// definitions changing). Observe is called synchronously and must not
// block.
type Observer interface {
	Observe(e Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(e Event)

// Observe calls f.
func (f ObserverFunc) Observe(e Event) { f(e) }

// Event is something that happened to a server's endpoint or tools.
type Event struct {
	Time     time.Time
	Type     EventType
	Server   string
	Endpoint string
	Tool     string
	Message  string
}

// EventType names an Event.
type EventType string

// The events of a pool.
const (
	EventConnected        EventType = "connected"
	EventDialFailed       EventType = "dial_failed"
	EventDropped          EventType = "dropped"
	EventUnhealthy        EventType = "unhealthy"
	EventHealthy          EventType = "healthy"
	EventBreaker          EventType = "breaker"
	EventRetry            EventType = "retry"
	EventFailover         EventType = "failover"
	EventToolsListChanged EventType = "tools_list_changed"
	EventToolPinned       EventType = "tool_pinned"
	EventToolChanged      EventType = "tool_changed"
)

// ConnectFunc makes the transport of one endpoint of a server served in
// process (tests, a development server); the pool connects an MCP client
// session over it.
type ConnectFunc func(ctx context.Context) (mcp.Transport, error)

// InProcessServer is a server served in the process: its replicas, and the
// timeouts and limits of its Config (whose Command and URLs stay empty).
type InProcessServer struct {
	Replicas []ConnectFunc
	Config   ServerConfig
}

// Options configures New.
type Options struct {
	// Config names the servers.
	Config Config
	// InProcess adds servers served in the process (tests, development),
	// by name; a name may not also be in Config.
	InProcess map[string]InProcessServer
	// Secrets answers token_secret and env_secrets. Required when a
	// server names a secret.
	Secrets SecretSource
	// Pins keeps approved definition hashes; nil keeps them in memory.
	Pins PinStore
	// RequireApproval disables every tool that has no pin until Approve;
	// false pins a tool's definition the first time it is seen (trust on
	// first use), so only later changes disable it.
	RequireApproval bool
	// Observer receives the pool's events; nil drops them.
	Observer Observer
	// Logger receives what the pool does on its own (reconnects, health);
	// nil discards.
	Logger *slog.Logger
	// NowFunc, SleepFunc and RandFunc are the pool's clock, its sleep
	// between attempts and reconnects, and its jitter source (in [0, 1));
	// nil means time.Now, a timer, and math/rand/v2.
	NowFunc   func() time.Time
	SleepFunc func(ctx context.Context, d time.Duration) error
	RandFunc  func() float64
	// TickerFunc starts the health check's ticker; nil means time.NewTicker.
	TickerFunc func(d time.Duration) (ticks <-chan time.Time, stop func())
	// BackoffBase and BackoffMax bound the exponential backoff between
	// attempts and reconnects: 0 means 200 ms and 10 s.
	BackoffBase, BackoffMax time.Duration
	// ClientName and ClientVersion are sent in initialize; empty means
	// "aiflow" and "dev".
	ClientName, ClientVersion string
}

// Pool keeps the MCP sessions of the configured servers and calls their
// tools. It is safe for concurrent use; Close ends its sessions.
type Pool struct {
	opts    Options
	servers map[string]*server
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error
	rand    func() float64
	ticker  func(d time.Duration) (<-chan time.Time, func())
	log     *slog.Logger
	pins    PinStore
	ctx     context.Context // ends at Close
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closed  atomic.Bool
}

// server is one configured server.
type server struct {
	name      string
	cfg       ServerConfig
	client    *mcp.Client
	endpoints []*endpoint
	sem       chan struct{}

	connectTimeout, callTimeout, healthInterval time.Duration
	maxResult, attempts                         int

	mu     sync.Mutex
	tools  map[string]*toolEntry // nil until listed
	stale  bool
	stats  serverCounters
	pool   *Pool
	listMu sync.Mutex // one tools/list at a time
}

type serverCounters struct {
	calls, succeeded, toolErrors, failed, retries, failovers, timeouts,
	circuitRejections, drops, reconnects, listRefreshes atomic.Uint64
}

// endpoint is one replica of a server (or its child process).
type endpoint struct {
	srv     *server
	name    string
	connect ConnectFunc
	breaker *gobreaker.CircuitBreaker[any]

	dialMu       sync.Mutex
	mu           sync.Mutex
	cs           *mcp.ClientSession
	healthy      bool
	reconnecting bool
	everUp       bool
	version      string

	dials, dialFailures, pings, pingFailures atomic.Uint64
}

// New returns a pool over the configured servers. It opens no session:
// each opens on first use (or at the first health check) and stays open.
// It returns an error when the configuration is invalid or a server is
// named twice.
func New(opts Options) (*Pool, error) {
	if err := opts.Config.Validate(); err != nil {
		return nil, err
	}
	p := &Pool{opts: opts, servers: map[string]*server{}, now: opts.NowFunc, sleep: opts.SleepFunc,
		rand: opts.RandFunc, ticker: opts.TickerFunc, log: opts.Logger, pins: opts.Pins}
	if p.now == nil {
		p.now = time.Now
	}
	if p.sleep == nil {
		p.sleep = clock.Sleep
	}
	if p.rand == nil {
		p.rand = rand.Float64
	}
	if p.ticker == nil {
		p.ticker = func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.pins == nil {
		p.pins = &MemoryPins{}
	}
	if p.opts.BackoffBase <= 0 {
		p.opts.BackoffBase = 200 * time.Millisecond
	}
	if p.opts.BackoffMax <= 0 {
		p.opts.BackoffMax = 10 * time.Second
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	for name, cfg := range opts.Config.Servers {
		srv := p.newServer(name, cfg)
		if cfg.Stdio() {
			srv.endpoints = append(srv.endpoints, srv.newEndpoint("stdio:"+cfg.Command, p.stdioConnect(srv)))
		}
		for _, u := range cfg.URLs {
			srv.endpoints = append(srv.endpoints, srv.newEndpoint(u, p.httpConnect(srv, u)))
		}
		p.servers[name] = srv
	}
	for name, ip := range opts.InProcess {
		if _, dup := p.servers[name]; dup {
			return nil, fmt.Errorf("making the MCP pool: server %q is both configured and served in process", name)
		}
		if len(ip.Replicas) == 0 || ip.Config.Command != "" || len(ip.Config.URLs) > 0 {
			return nil, fmt.Errorf("making the MCP pool: in-process server %q needs replicas, and no command or urls", name)
		}
		srv := p.newServer(name, ip.Config)
		for i, c := range ip.Replicas {
			srv.endpoints = append(srv.endpoints, srv.newEndpoint(fmt.Sprintf("in-process:%s#%d", name, i), c))
		}
		p.servers[name] = srv
	}
	for _, srv := range p.servers {
		if srv.healthInterval > 0 {
			p.wg.Go(func() { p.healthLoop(srv) })
		}
	}
	return p, nil
}

func (p *Pool) newServer(name string, cfg ServerConfig) *server {
	srv := &server{
		name:           name,
		cfg:            cfg,
		pool:           p,
		connectTimeout: seconds(cfg.ConnectTimeoutSeconds, defaultConnectTimeout),
		callTimeout:    seconds(cfg.CallTimeoutSeconds, defaultCallTimeout),
		healthInterval: seconds(cfg.HealthIntervalSeconds, defaultHealthInterval),
		maxResult:      orInt(cfg.MaxResultBytes, defaultMaxResultBytes),
		attempts:       orInt(cfg.MaxAttempts, defaultAttempts),
		sem:            make(chan struct{}, orInt(cfg.MaxConcurrency, defaultConcurrency)),
	}
	if cfg.HealthIntervalSeconds < 0 {
		srv.healthInterval = 0
	}
	clientName, clientVersion := p.opts.ClientName, p.opts.ClientVersion
	if clientName == "" {
		clientName = "aiflow"
	}
	if clientVersion == "" {
		clientVersion = "dev"
	}
	srv.client = mcp.NewClient(&mcp.Implementation{Name: clientName, Version: clientVersion}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			srv.mu.Lock()
			srv.stale = true
			srv.mu.Unlock()
			p.emit(Event{Type: EventToolsListChanged, Server: name, Message: "the server's tool list changed; it is listed again before the next use"})
		},
		// The pool pings on its own schedule and reports what it sees.
		Capabilities: &mcp.ClientCapabilities{},
	})
	return srv
}

func (srv *server) newEndpoint(name string, connect ConnectFunc) *endpoint {
	ep := &endpoint{srv: srv, name: name, connect: connect}
	p := srv.pool
	ep.breaker = gobreaker.NewCircuitBreaker[any](gobreaker.Settings{
		Name:        srv.name + " " + name,
		MaxRequests: 1,
		Timeout:     seconds(srv.cfg.BreakerOpenSeconds, defaultBreakerOpen),
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= uint32(orInt(srv.cfg.BreakerFailures, defaultBreakerFails))
		},
		OnStateChange: func(_ string, from, to gobreaker.State) {
			p.emit(Event{Type: EventBreaker, Server: srv.name, Endpoint: name, Message: from.String() + " -> " + to.String()})
		},
		// A server that answers, even with an error, is up; only failures
		// to reach it or to hear back count against its circuit, never the
		// caller's own deadline or cancel (see execute).
		IsSuccessful: func(err error) bool { return err == nil || answered(err) },
		IsExcluded:   excludedFromBreaker,
	})
	return ep
}

// stdioConnect starts the server's command with only the environment its
// configuration gives it.
func (p *Pool) stdioConnect(srv *server) ConnectFunc {
	return func(ctx context.Context) (mcp.Transport, error) {
		env := []string{}
		for _, k := range []string{"PATH", "HOME", "LANG", "TMPDIR"} {
			if v, ok := os.LookupEnv(k); ok {
				env = append(env, k+"="+v)
			}
		}
		for _, k := range slices.Sorted(mapKeys(srv.cfg.Env)) {
			env = append(env, k+"="+srv.cfg.Env[k])
		}
		for _, k := range slices.Sorted(mapKeys(srv.cfg.EnvSecrets)) {
			v, err := p.secret(ctx, srv.cfg.EnvSecrets[k])
			if err != nil {
				return nil, fmt.Errorf("reading the secret of %s: %w", k, err)
			}
			env = append(env, k+"="+v)
		}
		// Not CommandContext: the child outlives the dial's context.
		cmd := exec.Command(srv.cfg.Command, srv.cfg.Args...)
		cmd.Env = env
		cmd.Stderr = os.Stderr
		return &mcp.CommandTransport{Command: cmd, TerminateDuration: 2 * time.Second}, nil
	}
}

// httpConnect makes a Streamable HTTP transport whose client sends the
// server's own token and nothing of the caller's.
func (p *Pool) httpConnect(srv *server, url string) ConnectFunc {
	return func(ctx context.Context) (mcp.Transport, error) {
		client := &http.Client{Transport: http.DefaultTransport}
		if srv.cfg.TokenSecret != "" {
			token, err := p.secret(ctx, srv.cfg.TokenSecret)
			if err != nil {
				return nil, fmt.Errorf("reading the token of %s: %w", url, err)
			}
			client.Transport = bearer{token: token, base: http.DefaultTransport}
		}
		// The pool reconnects and retries itself; the transport's own
		// stream resumption would hide a dropped call from it.
		return &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: client, MaxRetries: -1}, nil
	}
}

func (p *Pool) secret(ctx context.Context, name string) (string, error) {
	if p.opts.Secrets == nil {
		return "", fmt.Errorf("secret %q is named but the pool has no secret source", name)
	}
	return p.opts.Secrets.Get(ctx, name)
}

// bearer sets the Authorization header of every request to the pool's
// own token, replacing any other.
type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func (p *Pool) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = p.now()
	}
	p.log.Debug("mcp pool event", "type", e.Type, "server", e.Server, "endpoint", e.Endpoint, "tool", e.Tool, "message", e.Message)
	if p.opts.Observer != nil {
		p.opts.Observer.Observe(e)
	}
}

// backoff is the wait before retry n (from 0): exponential from
// BackoffBase, capped at BackoffMax, with full jitter in its upper half.
func (p *Pool) backoff(n int) time.Duration {
	d := p.opts.BackoffBase
	for range n {
		d *= 2
		if d >= p.opts.BackoffMax {
			d = p.opts.BackoffMax
			break
		}
	}
	return d/2 + time.Duration(p.rand()*float64(d/2))
}

// Servers returns the names of the servers, sorted.
func (p *Pool) Servers() []string {
	out := make([]string, 0, len(p.servers))
	for name := range p.servers {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// Close ends every session and the pool's background work. Calls after
// Close fail with MCP.Unavailable.
func (p *Pool) Close() error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	p.cancel()
	var errs []error
	for _, srv := range p.servers {
		for _, ep := range srv.endpoints {
			ep.mu.Lock()
			cs := ep.cs
			ep.cs = nil
			ep.mu.Unlock()
			if cs != nil {
				if err := cs.Close(); err != nil && !errors.Is(err, mcp.ErrConnectionClosed) {
					errs = append(errs, fmt.Errorf("closing the session to %s: %w", ep.name, err))
				}
			}
		}
	}
	p.wg.Wait()
	return errors.Join(errs...)
}

// session returns the endpoint's open session, opening one (through the
// circuit breaker) when there is none.
func (ep *endpoint) session(ctx context.Context) (*mcp.ClientSession, error) {
	ep.mu.Lock()
	cs := ep.cs
	ep.mu.Unlock()
	if cs != nil {
		return cs, nil
	}
	err := ep.execute(ctx, func() error { return ep.dial(ctx) })
	if err != nil {
		return nil, err
	}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if ep.cs == nil {
		return nil, mcp.ErrConnectionClosed
	}
	return ep.cs, nil
}

// dial opens a session unless another dial just did.
func (ep *endpoint) dial(ctx context.Context) error {
	ep.dialMu.Lock()
	defer ep.dialMu.Unlock()
	p, srv := ep.srv.pool, ep.srv
	ep.mu.Lock()
	open := ep.cs != nil
	ep.mu.Unlock()
	if open {
		return nil
	}
	if p.closed.Load() {
		return errors.New("the pool is closed")
	}
	ep.dials.Add(1)
	dctx, cancel := context.WithTimeout(ctx, srv.connectTimeout)
	defer cancel()
	cs, err := ep.open(dctx)
	if err != nil {
		ep.dialFailures.Add(1)
		ep.setHealthy(false, "connecting: "+err.Error())
		p.emit(Event{Type: EventDialFailed, Server: srv.name, Endpoint: ep.name, Message: err.Error()})
		if dctx.Err() != nil && ctx.Err() == nil {
			return fmt.Errorf("connecting within %s: %w", srv.connectTimeout, err)
		}
		return err
	}
	ep.mu.Lock()
	if p.closed.Load() {
		ep.mu.Unlock()
		_ = cs.Close()
		return errors.New("the pool is closed")
	}
	again := ep.everUp
	ep.cs, ep.everUp, ep.version = cs, true, cs.InitializeResult().ProtocolVersion
	ep.mu.Unlock()
	if again {
		srv.stats.reconnects.Add(1)
	}
	ep.setHealthy(true, "")
	if again {
		// A server met again may have changed its tools.
		srv.mu.Lock()
		srv.stale = true
		srv.mu.Unlock()
	}
	p.emit(Event{Type: EventConnected, Server: srv.name, Endpoint: ep.name, Message: "protocol " + ep.version})
	p.wg.Go(func() {
		err := cs.Wait()
		ep.dropped(cs, err)
	})
	return nil
}

func (ep *endpoint) open(ctx context.Context) (*mcp.ClientSession, error) {
	t, err := ep.connect(ctx)
	if err != nil {
		return nil, err
	}
	version := ep.srv.cfg.ProtocolVersion
	if version == "" {
		version = DefaultProtocolVersion
	}
	return ep.srv.client.Connect(ctx, t, &mcp.ClientSessionOptions{ProtocolVersion: version})
}

// drop closes a session a call found broken; its watcher then reconnects.
func (ep *endpoint) drop(cs *mcp.ClientSession, why error) {
	ep.srv.pool.log.Info("mcp session broken", "server", ep.srv.name, "endpoint", ep.name, "error", why)
	_ = cs.Close()
	ep.dropped(cs, why)
}

// dropped forgets a session that ended and, unless the pool is closing,
// reconnects in the background with backoff.
func (ep *endpoint) dropped(cs *mcp.ClientSession, why error) {
	p := ep.srv.pool
	ep.mu.Lock()
	if ep.cs != cs {
		ep.mu.Unlock()
		return
	}
	ep.cs = nil
	start := !ep.reconnecting && !p.closed.Load()
	if start {
		ep.reconnecting = true
	}
	ep.mu.Unlock()
	ep.srv.stats.drops.Add(1)
	msg := "the session ended"
	if why != nil {
		msg += ": " + why.Error()
	}
	ep.setHealthy(false, msg)
	p.emit(Event{Type: EventDropped, Server: ep.srv.name, Endpoint: ep.name, Message: msg})
	if start {
		p.wg.Go(ep.reconnect)
	}
}

// reconnect dials until a session is open or the pool closes, waiting
// longer after each failure.
func (ep *endpoint) reconnect() {
	p := ep.srv.pool
	defer func() {
		ep.mu.Lock()
		ep.reconnecting = false
		ep.mu.Unlock()
	}()
	for n := 0; ; n++ {
		if err := p.sleep(p.ctx, p.backoff(n)); err != nil {
			return
		}
		ep.mu.Lock()
		open := ep.cs != nil
		ep.mu.Unlock()
		if open {
			return
		}
		if err := ep.dial(p.ctx); err == nil {
			return
		} else if p.ctx.Err() != nil {
			return
		}
	}
}

func (ep *endpoint) setHealthy(ok bool, why string) {
	ep.mu.Lock()
	was := ep.healthy
	ep.healthy = ok
	ep.mu.Unlock()
	if was == ok {
		return
	}
	typ := EventHealthy
	if !ok {
		typ = EventUnhealthy
	}
	ep.srv.pool.emit(Event{Type: typ, Server: ep.srv.name, Endpoint: ep.name, Message: why})
}

// order is the endpoints in the order a call tries them: healthy ones
// with a closed circuit first, then half-open ones, then the rest, each
// group in configuration order.
func (srv *server) order() []*endpoint {
	rank := func(ep *endpoint) int {
		ep.mu.Lock()
		healthy := ep.healthy || !ep.everUp && ep.dials.Load() == 0
		ep.mu.Unlock()
		switch st := ep.breaker.State(); {
		case st == gobreaker.StateClosed && healthy:
			return 0
		case st == gobreaker.StateHalfOpen:
			return 1
		case st == gobreaker.StateClosed:
			return 2
		}
		return 3
	}
	out := slices.Clone(srv.endpoints)
	slices.SortStableFunc(out, func(a, b *endpoint) int { return rank(a) - rank(b) })
	return out
}

// healthLoop pings the server's endpoints on every tick.
func (p *Pool) healthLoop(srv *server) {
	ticks, stop := p.ticker(srv.healthInterval)
	defer stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-ticks:
			p.checkServer(p.ctx, srv)
		}
	}
}

// CheckHealth pings every endpoint of every server once, opening the
// sessions that are not open: what the health check does on each tick.
// An endpoint that does not answer is marked unhealthy, so calls go to
// the others first.
func (p *Pool) CheckHealth(ctx context.Context) {
	var wg sync.WaitGroup
	for _, srv := range p.servers {
		wg.Go(func() { p.checkServer(ctx, srv) })
	}
	wg.Wait()
}

func (p *Pool) checkServer(ctx context.Context, srv *server) {
	for _, ep := range srv.endpoints {
		ep.mu.Lock()
		cs := ep.cs
		ep.mu.Unlock()
		if cs == nil {
			// Outside the breaker: a health check neither opens nor closes
			// a circuit; calls do.
			_ = ep.dial(ctx)
			continue
		}
		ep.pings.Add(1)
		pctx, cancel := context.WithTimeout(ctx, srv.connectTimeout)
		err := cs.Ping(pctx, nil)
		cancel()
		if err != nil && !answered(err) {
			ep.pingFailures.Add(1)
			ep.setHealthy(false, "ping: "+err.Error())
			if ctx.Err() == nil {
				ep.drop(cs, fmt.Errorf("pinging: %w", err))
			}
			continue
		}
		ep.setHealthy(true, "")
	}
}
