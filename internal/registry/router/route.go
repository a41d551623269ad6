package router

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/aiflow/aiflow/internal/registry"
)

// Route is a routed call's candidates, in failover order. It is used by
// one goroutine.
type Route struct {
	r     *Router
	cands []candidate
	// ci is the candidate being picked from, tried its instances handed
	// out, last the index of the last one.
	ci      int
	tried   []*instance
	last    int
	started bool
	picks   int
	blocked bool
}

// Service is the service version of the first candidate: the one the
// first Pick calls.
func (rt *Route) Service() *registry.Service { return rt.cands[0].v.svc }

// Operation is the operation of the first candidate.
func (rt *Route) Operation() *registry.Operation { return rt.cands[0].op }

// Next picks the next instance to call and counts the call in flight: the
// balancer's choice first, then, after a failure, the next healthy
// instance of the same service version whose breaker lets a call through
// (in the balancing order: the next in id order for round robin, the
// fewest in flight for least outstanding, the heaviest for weighted),
// then, for a capability, the next service's. Each Pick must end with
// Succeeded, Failed or Abandoned. When no instance is left, Next returns
// an *Error of kind ErrCircuitOpen if breakers kept out every healthy
// instance before any was picked, else ErrExhausted.
func (rt *Route) Next() (*Pick, error) {
	now := rt.r.now()
	for rt.ci < len(rt.cands) {
		c := &rt.cands[rt.ci]
		b := c.v.bal
		b.mu.Lock()
		idx, gen, blocked := b.pick(c.v.healthy, rt.tried, rt.last, !rt.started, now, rt.r.cfg.CoolDown)
		b.mu.Unlock()
		rt.started = true
		rt.blocked = rt.blocked || blocked
		if idx >= 0 {
			in := c.v.healthy[idx]
			rt.tried = append(rt.tried, in)
			rt.last = idx
			rt.picks++
			return &Pick{Service: c.v.svc, Operation: c.op, Params: c.params, Instance: in.in, Failovers: rt.picks - 1,
				r: rt.r, st: in.st, gen: gen}, nil
		}
		rt.ci++
		if rt.ci == 1 && len(rt.cands) > 2 {
			sortFailover(rt.cands)
		}
		rt.tried, rt.last, rt.started = rt.tried[:0], -1, false
	}
	if rt.picks == 0 && rt.blocked {
		return nil, rt.circuitOpen()
	}
	return nil, errorf(ErrExhausted, "every healthy instance of %s was tried (%d)", rt.names(), rt.picks)
}

func (rt *Route) names() string {
	var out []string
	for _, c := range rt.cands {
		out = append(out, c.v.svc.Name+" "+c.v.svc.Version)
	}
	return strings.Join(out, ", ")
}

func (rt *Route) circuitOpen() *Error {
	var ids []string
	for _, c := range rt.cands {
		for _, in := range c.v.healthy {
			ids = append(ids, in.in.ID)
		}
	}
	return errorf(ErrCircuitOpen, "the circuit breaker of every healthy instance of %s is open (%s): each failed %d calls in a row, and is tried again %s after it opened",
		rt.names(), strings.Join(ids, ", "), rt.r.cfg.FailureThreshold, rt.r.cfg.CoolDown)
}

// Pick is one call to one instance. Its Service, Operation and Instance
// are the router's: read them, never change them.
type Pick struct {
	Service   *registry.Service
	Operation *registry.Operation
	// Params are the path parameters the operation's template matched,
	// still escaped.
	Params   map[string]string
	Instance *registry.Instance
	// Failovers counts the picks of the route before this one.
	Failovers int

	r    *Router
	st   *instState
	gen  uint64
	done atomic.Bool
}

// Succeeded reports that the instance answered (any status it chose to
// answer with, a 4xx included): its breaker closes.
func (p *Pick) Succeeded() {
	if !p.done.CompareAndSwap(false, true) {
		return
	}
	b := p.st.bal
	b.mu.Lock()
	p.st.inflight--
	closed := p.st.brk.succeed(p.gen)
	b.mu.Unlock()
	if closed && p.r.cfg.OnBreakerFunc != nil {
		p.r.cfg.OnBreakerFunc(BreakerChange{Service: p.Service.Name, Version: p.Service.Version, InstanceID: p.Instance.ID, State: Closed})
	}
}

// Abandoned reports a call that says nothing of the instance (the
// caller's own deadline passed, or the instance asked to slow down): the
// call leaves the in-flight count, and a half-open breaker may probe
// again.
func (p *Pick) Abandoned() {
	if !p.done.CompareAndSwap(false, true) {
		return
	}
	b := p.st.bal
	b.mu.Lock()
	p.st.inflight--
	p.st.brk.abandon(p.gen)
	b.mu.Unlock()
}

// Failed reports that the instance failed the call (no connection, a 5xx,
// its own slowness): FailureThreshold failures in a row, or a failed
// probe, open its breaker, which is reported to OnEjectFunc with ctx
// (without its cancellation) and cause.
func (p *Pick) Failed(ctx context.Context, cause error) {
	if !p.done.CompareAndSwap(false, true) {
		return
	}
	b := p.st.bal
	now := p.r.now()
	b.mu.Lock()
	p.st.inflight--
	wasProbe := p.st.brk.state == HalfOpen && p.gen == p.st.brk.gen
	opened := p.st.brk.fail(p.gen, now, p.r.cfg.FailureThreshold)
	b.mu.Unlock()
	if opened && p.r.cfg.OnBreakerFunc != nil {
		p.r.cfg.OnBreakerFunc(BreakerChange{Service: p.Service.Name, Version: p.Service.Version, InstanceID: p.Instance.ID, State: Open})
	}
	if !opened || p.r.cfg.OnEjectFunc == nil {
		return
	}
	reason := fmt.Sprintf("%d failed calls in a row; the last: %v", p.r.cfg.FailureThreshold, cause)
	if wasProbe {
		reason = fmt.Sprintf("the probe call after the cool-down failed: %v", cause)
	}
	p.r.cfg.OnEjectFunc(context.WithoutCancel(ctx), Ejection{
		Service: p.Service.Name, Version: p.Service.Version, InstanceID: p.Instance.ID,
		Reason: "circuit breaker opened: " + reason, For: p.r.cfg.CoolDown,
	})
}
