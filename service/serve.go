package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Options configure Serve.
type Options struct {
	// APIURL and Token reach aiflow's API (see ClientOptions); Token is the
	// service's own (role service, subject service:<name>) or an admin's.
	// Required: APIURL.
	APIURL, Token string
	// HTTPClient calls the API; nil means one with a 10-second timeout.
	HTTPClient *http.Client
	// Service is the service version to register; its Instances are
	// ignored (Instance is this one). Required: Name, Version, Operations.
	Service Definition
	// Instance is this instance. ID empty means the registry chooses;
	// Endpoint empty means http://<the listener's address>, which must
	// then be a host's (not every interface's, as ":8091" is). Service and
	// Version are Service's.
	Instance Instance
	// Handler answers the service's calls; required.
	Handler http.Handler
	// Listener is where to serve; nil means listen on Addr.
	Listener net.Listener
	// Addr is host:port to listen on when Listener is nil; empty means
	// 127.0.0.1:0.
	Addr string
	// HeartbeatInterval is the time between heartbeats; 0 means a third
	// of the instance's TTL (10 s for the default TTL of 30 s).
	HeartbeatInterval time.Duration
	// DrainDelay is how long the instance keeps accepting new requests
	// after it is marked draining, for routers that chose it just before;
	// 0 means none.
	DrainDelay time.Duration
	// DrainTimeout bounds the wait for the requests in flight once
	// draining; those still running then are cut. 0 means 30 s.
	DrainTimeout time.Duration
	// Signals end the service as its context does; nil means SIGTERM and
	// os.Interrupt, an empty slice none. Serve stops relaying them when it
	// returns.
	Signals []os.Signal
	// Logger receives the instance's life: registered, heartbeat
	// failures, draining, deregistered. nil means none.
	Logger *slog.Logger
}

// defaultHealthPath is answered when the service declares no health
// check, so that the path exists all the same.
const defaultHealthPath = "/healthz"

// Serve runs opts.Handler as an instance of opts.Service until ctx ends
// or one of opts.Signals arrives:
//
//  1. it listens and serves, answering the health check's path (200
//     {"status":"ok"}, 503 once draining) itself;
//  2. it registers the service version and then the instance through the
//     API, and heartbeats every HeartbeatInterval (registering the
//     instance again if the registry lost it);
//  3. at the end it drains the instance (the registry sends it no new
//     calls), waits DrainDelay, stops accepting connections and waits up to
//     DrainTimeout for the requests in flight (http.Server.Shutdown), then
//     deregisters the instance.
//
// It returns nil after a clean end, and an error when it could not start
// (bad options, the listener, the first registration) or when a step of
// the end failed (the instance is then left to expire by its TTL). The
// registered instance is reported to opts.Logger.
func Serve(ctx context.Context, opts Options) error {
	if err := opts.check(); err != nil {
		return err
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	client, err := NewClient(ClientOptions{APIURL: opts.APIURL, Token: opts.Token, HTTPClient: hc})
	if err != nil {
		return fmt.Errorf("serving %s: %w", opts.Service.Name, err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	signals := opts.Signals
	if signals == nil {
		signals = []os.Signal{syscall.SIGTERM, os.Interrupt}
	}
	if len(signals) > 0 {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, signals...)
		defer stop()
	}

	ln := opts.Listener
	if ln == nil {
		addr := opts.Addr
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		if ln, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("serving %s: listening on %s: %w", opts.Service.Name, addr, err)
		}
	}
	in := &instance{opts: opts, client: client, logger: logger}
	in.inst = opts.Instance
	in.inst.Service, in.inst.Version = opts.Service.Name, opts.Service.Version
	if in.inst.Endpoint == "" && in.inst.FunctionARN == "" {
		if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
			_ = ln.Close()
			return fmt.Errorf("serving %s: listening on every interface (%s), the instance's address is not known: set Instance.Endpoint", opts.Service.Name, ln.Addr())
		}
		in.inst.Endpoint = "http://" + ln.Addr().String()
	}
	srv := &http.Server{Handler: in.handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	if err := in.register(ctx); err != nil {
		_ = srv.Close()
		<-served
		return fmt.Errorf("serving %s: %w", opts.Service.Name, err)
	}
	logger.InfoContext(ctx, "service instance registered", "service", in.inst.Service, "version", in.inst.Version,
		"instance", in.id(), "endpoint", in.inst.Endpoint)

	var wg sync.WaitGroup
	beatCtx, stopBeats := context.WithCancel(ctx)
	wg.Go(func() { in.heartbeats(beatCtx) })
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
		served <- serveErr
	}
	stopBeats()
	wg.Wait()
	return in.end(context.WithoutCancel(ctx), srv, served)
}

func (o Options) check() error {
	var missing []string
	if o.APIURL == "" {
		missing = append(missing, "APIURL")
	}
	if o.Service.Name == "" {
		missing = append(missing, "Service.Name")
	}
	if o.Service.Version == "" {
		missing = append(missing, "Service.Version")
	}
	if o.Handler == nil {
		missing = append(missing, "Handler")
	}
	if len(missing) > 0 {
		return fmt.Errorf("serving a service: the options lack %v", missing)
	}
	return nil
}

// instance is one Serve's state.
type instance struct {
	opts     Options
	client   *Client
	logger   *slog.Logger
	draining atomic.Bool

	mu   sync.Mutex
	inst Instance // as registered (its ID the registry's)
}

func (in *instance) id() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.inst.ID
}

// healthPath is the path of the service's health check.
func (in *instance) healthPath() string {
	if hc := in.opts.Service.HealthCheck; hc != nil && hc.Path != "" {
		return hc.Path
	}
	return defaultHealthPath
}

// handler answers GET on the health path and passes the rest on.
func (in *instance) handler() http.Handler {
	path := in.healthPath()
	status := http.StatusOK
	if hc := in.opts.Service.HealthCheck; hc != nil && hc.ExpectedStatus != 0 {
		status = hc.ExpectedStatus
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			in.opts.Handler.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if in.draining.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"draining"}` + "\n"))
			return
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
}

// register registers the service version, then the instance.
func (in *instance) register(ctx context.Context) error {
	def := in.opts.Service
	def.Instances = nil
	if _, _, err := in.client.Register(ctx, def); err != nil {
		return err
	}
	return in.registerInstance(ctx)
}

func (in *instance) registerInstance(ctx context.Context) error {
	in.mu.Lock()
	want := in.inst
	in.mu.Unlock()
	got, err := in.client.RegisterInstance(ctx, want.Service, want)
	if err != nil {
		return err
	}
	in.mu.Lock()
	in.inst.ID = got.ID
	in.mu.Unlock()
	return nil
}

// interval is the time between heartbeats.
func (in *instance) interval() time.Duration {
	if in.opts.HeartbeatInterval > 0 {
		return in.opts.HeartbeatInterval
	}
	ttl := in.opts.Instance.TTLSeconds
	if ttl <= 0 {
		ttl = 30
	}
	return time.Duration(ttl) * time.Second / 3
}

// heartbeats beats until ctx ends; an instance the registry no longer
// knows (it was deregistered by hand, or the registry was reset) is
// registered again, service version first.
func (in *instance) heartbeats(ctx context.Context) {
	t := time.NewTicker(in.interval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, err := in.client.Heartbeat(ctx, in.inst.Service, in.id())
		switch {
		case err == nil:
			continue
		case ctx.Err() != nil:
			return
		case IsNotFound(err):
			in.logger.WarnContext(ctx, "the registry does not know this instance: registering it again", "instance", in.id())
			if err := in.register(ctx); err != nil && ctx.Err() == nil {
				in.logger.ErrorContext(ctx, "registering the instance again", "error", err)
			}
		default:
			in.logger.ErrorContext(ctx, "sending a heartbeat", "instance", in.id(), "error", err)
		}
	}
}

// end drains, shuts the server down and deregisters. ctx carries no
// cancellation: each step has its own bound.
func (in *instance) end(ctx context.Context, srv *http.Server, served chan error) error {
	name, id := in.inst.Service, in.id()
	drainTimeout := in.opts.DrainTimeout
	if drainTimeout <= 0 {
		drainTimeout = 30 * time.Second
	}
	var errs []error
	in.draining.Store(true)
	apiCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	if _, err := in.client.Drain(apiCtx, name, id); err != nil {
		errs = append(errs, err)
	}
	cancel()
	in.logger.InfoContext(ctx, "service instance draining", "service", name, "instance", id)
	if in.opts.DrainDelay > 0 {
		t := time.NewTimer(in.opts.DrainDelay)
		<-t.C
	}
	shutCtx, cancel := context.WithTimeout(ctx, drainTimeout)
	if err := srv.Shutdown(shutCtx); err != nil {
		errs = append(errs, fmt.Errorf("waiting for the requests in flight: %w", err))
		_ = srv.Close()
	}
	cancel()
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("serving: %w", err))
	}
	apiCtx, cancel = context.WithTimeout(ctx, 10*time.Second)
	if err := in.client.DeregisterInstance(apiCtx, name, id); err != nil {
		errs = append(errs, err)
	}
	cancel()
	in.logger.InfoContext(ctx, "service instance deregistered", "service", name, "instance", id)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ending %s instance %s: %w", name, id, err)
	}
	return nil
}
