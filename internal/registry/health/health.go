// Package health runs the service registry's active health checks: at
// each service's interval it GETs the health check path of every instance
// with an endpoint (draining ones aside), with the check's timeout and
// without following redirects, and records each result in the registry,
// which moves the instance's status at the service's thresholds and keeps
// the counts in a row. Because the counts and the time of the last check
// are the registry's, not the checker's, a checker that starts afresh (a
// scheduled function invoked each minute) goes on where the last one
// stopped. Each round also sweeps the registry (Registry.Sweep), so a
// missed heartbeat and the end of an ejection are written to the history
// once.
package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aiflow/aiflow/internal/clock"
	"github.com/aiflow/aiflow/internal/registry"
)

// Registry is what the checker needs of the registry; *registry.Registry
// is one.
type Registry interface {
	List(ctx context.Context, f registry.ListFilter) ([]registry.Service, error)
	RecordChecks(ctx context.Context, results []registry.CheckResult) error
	Sweep(ctx context.Context) error
}

// Config configures New.
type Config struct {
	// Registry is where instances are read and results recorded;
	// required.
	Registry Registry
	// ClientFunc returns the HTTP client of a check: internal says
	// whether the instance is internal (an admin registered it on a
	// private address). The wiring passes the egress guard's clients
	// (Policy{AllowPrivate: internal}); required. The checker never
	// follows a redirect, whatever the client does.
	ClientFunc func(internal bool) *http.Client
	// Clock tells the time and waits between rounds; nil means the
	// system's.
	Clock clock.Clock
	// Tick is how often Run and RunFor look for checks that are due;
	// 0 means one second.
	Tick time.Duration
	// Concurrency bounds the checks that run at once; 0 means 16.
	Concurrency int
	// Logger receives what goes wrong in rounds that nobody waits for;
	// nil discards it.
	Logger *slog.Logger
}

// Checker runs the checks. Its methods run in the caller's goroutine and
// wait for every check they start.
type Checker struct {
	reg         Registry
	clientFunc  func(bool) *http.Client
	clock       clock.Clock
	tick        time.Duration
	concurrency int
	logger      *slog.Logger
}

// New returns a checker. It returns an error when the registry or the
// client function is missing.
func New(cfg Config) (*Checker, error) {
	if cfg.Registry == nil {
		return nil, errors.New("making the health checker: no registry")
	}
	if cfg.ClientFunc == nil {
		return nil, errors.New("making the health checker: no client function")
	}
	c := &Checker{reg: cfg.Registry, clientFunc: cfg.ClientFunc, clock: cfg.Clock, tick: cfg.Tick, concurrency: cfg.Concurrency, logger: cfg.Logger}
	if c.clock == nil {
		c.clock = clock.System{}
	}
	if c.tick <= 0 {
		c.tick = time.Second
	}
	if c.concurrency <= 0 {
		c.concurrency = 16
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Run runs rounds (see RunOnce) every Tick until ctx ends, and returns
// ctx's error. A round's error is logged and the next round runs.
func (c *Checker) Run(ctx context.Context) error {
	for {
		if err := c.RunOnce(ctx); err != nil && ctx.Err() == nil {
			c.logger.Warn("a health check round failed", "error", err)
		}
		if err := c.sleep(ctx, c.tick); err != nil {
			return err
		}
	}
}

// RunFor runs rounds every Tick until d has passed since it was called,
// then returns: the body of a scheduled function invoked every minute
// (d a little under the minute). It returns the errors of its rounds,
// joined, or ctx's error when ctx ends first.
func (c *Checker) RunFor(ctx context.Context, d time.Duration) error {
	end := c.clock.Now().Add(d)
	var errs []error
	for {
		if err := c.RunOnce(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, err)
		}
		left := end.Sub(c.clock.Now())
		if left <= 0 {
			return errors.Join(errs...)
		}
		if err := c.sleep(ctx, min(left, c.tick)); err != nil {
			return err
		}
	}
}

// sleep waits d on the checker's clock, or until ctx ends.
func (c *Checker) sleep(ctx context.Context, d time.Duration) error {
	done := make(chan struct{})
	stop := c.clock.AfterFunc(d, func() { close(done) })
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		stop()
		return ctx.Err()
	}
}

// due is one check to run.
type due struct {
	svc registry.Service
	in  registry.Instance
}

// RunOnce runs one round: it sweeps the registry, then checks every
// instance whose check is due (never checked, or last checked at least
// its service's interval ago), at most Concurrency at once, and records
// the results when all are in, in one change per service; instances
// deregistered meanwhile are skipped. When ctx ends first nothing of the
// round's checks is recorded. It returns the errors of the sweep, the
// listing and the recording, joined.
func (c *Checker) RunOnce(ctx context.Context) error {
	var errs []error
	if err := c.reg.Sweep(ctx); err != nil {
		errs = append(errs, err)
	}
	svcs, err := c.reg.List(ctx, registry.ListFilter{})
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	now := c.clock.Now()
	var todo []due
	for _, s := range svcs {
		if s.HealthCheck == nil {
			continue
		}
		interval := time.Duration(max(s.HealthCheck.IntervalSeconds, 1)) * time.Second
		for _, in := range s.Instances {
			if in.Endpoint == "" || in.Status == registry.StatusDraining {
				continue
			}
			if in.CheckedAt.IsZero() || !now.Before(in.CheckedAt.Add(interval)) {
				todo = append(todo, due{svc: s, in: in})
			}
		}
	}
	results := make([]registry.CheckResult, len(todo))
	var wg sync.WaitGroup
	slots := make(chan struct{}, c.concurrency)
	for i, d := range todo {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return errors.Join(append(errs, ctx.Err())...)
		}
		wg.Go(func() {
			defer func() { <-slots }()
			results[i] = c.Check(ctx, d.svc, d.in)
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		// The caller stopped: the checks cut short say nothing of the
		// instances.
		return errors.Join(append(errs, ctx.Err())...)
	}
	if len(results) > 0 {
		if err := c.reg.RecordChecks(ctx, results); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// maxBody bounds what a check reads of an answer before it closes it.
const maxBody = 64 << 10

// Check runs one check of in, an instance of svc (which has a health
// check), and returns its result: passed when the answer's status is the
// expected one within the timeout. It does not record it.
func (c *Checker) Check(ctx context.Context, svc registry.Service, in registry.Instance) registry.CheckResult {
	hc := *svc.HealthCheck
	res := registry.CheckResult{Service: svc.Name, Instance: in.ID, Endpoint: in.Endpoint, At: c.clock.Now()}
	fail := func(format string, args ...any) registry.CheckResult {
		res.Error = fmt.Sprintf(format, args...)
		res.Duration = c.clock.Now().Sub(res.At)
		return res
	}
	expected := hc.ExpectedStatus
	if expected == 0 {
		expected = registry.DefaultExpectedStatus
	}
	timeout := time.Duration(max(hc.TimeoutSeconds, 1)) * time.Second
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	target := strings.TrimRight(in.Endpoint, "/") + hc.Path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fail("making the request to %s: %v", target, err)
	}
	req.Header.Set("User-Agent", "aiflow-health-checker")
	client := *c.clientFunc(in.Internal)
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fail("no answer within %s", timeout)
		}
		return fail("%v", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	_ = resp.Body.Close()
	res.StatusCode = resp.StatusCode
	if resp.StatusCode != expected {
		return fail("status %d, want %d", resp.StatusCode, expected)
	}
	res.Passed = true
	res.Duration = c.clock.Now().Sub(res.At)
	return res
}
