package lambdaemu

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Pool runs up to Size instances of one function and spreads invocations
// over them, as Lambda scales a function up to its concurrency: an
// invocation takes an idle instance, or starts one (a cold start) while
// fewer than Size run, or waits for one. A dead instance is dropped and a
// later invocation starts another. Close it.
type Pool struct {
	p    Params
	sem  chan struct{} // a token for each invocation in flight, Size at most
	mu   sync.Mutex
	idle []*Instance
	all  map[*Instance]bool
	shut bool
}

// NewPool returns a pool of at most size instances of the function p
// describes. It starts none: the first invocations do.
func NewPool(p Params, size int) (*Pool, error) {
	if size < 1 {
		return nil, fmt.Errorf("making a pool of function %s: size %d is not positive", p.Name, size)
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return &Pool{p: p, sem: make(chan struct{}, size), all: map[*Instance]bool{}}, nil
}

// errPoolClosed is the error of an invocation of a closed pool.
var errPoolClosed = errors.New("the pool was closed")

// Invoke invokes the function on an instance of the pool, as
// Instance.Invoke does. Its errors are Instance.Invoke's (ErrDead when the
// instance died under it: the caller retries), Start's, and ctx's while it
// waits for an instance; a closed pool's wrap ErrDead.
func (p *Pool) Invoke(ctx context.Context, payload []byte) (*Result, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("invoking function %s: waiting for an instance: %w", p.p.Name, ctx.Err())
	}
	defer func() { <-p.sem }()
	inst, err := p.take(ctx)
	if err != nil {
		return nil, err
	}
	res, err := inst.Invoke(ctx, payload)
	p.give(inst)
	return res, err
}

// take returns an idle live instance, or starts one.
func (p *Pool) take(ctx context.Context) (*Instance, error) {
	var found *Instance
	var dead []*Instance
	p.mu.Lock()
	for found == nil && len(p.idle) > 0 {
		inst := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if inst.Alive() {
			found = inst
			continue
		}
		delete(p.all, inst)
		dead = append(dead, inst)
	}
	shut := p.shut
	p.mu.Unlock()
	for _, inst := range dead {
		_ = inst.Close() // its processes are already stopping
	}
	if found != nil {
		return found, nil
	}
	if shut {
		return nil, fmt.Errorf("invoking function %s: %w: %w", p.p.Name, ErrDead, errPoolClosed)
	}
	inst, err := Start(ctx, p.p)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if p.shut {
		p.mu.Unlock()
		_ = inst.Close()
		return nil, fmt.Errorf("invoking function %s: %w: %w", p.p.Name, ErrDead, errPoolClosed)
	}
	p.all[inst] = true
	p.mu.Unlock()
	return inst, nil
}

// give returns an instance after an invocation: idle if it lives, dropped
// if it died.
func (p *Pool) give(inst *Instance) {
	p.mu.Lock()
	if inst.Alive() && !p.shut {
		// An invocation abandoned by its caller still holds the
		// instance; the next one waits for it in Instance.Invoke.
		p.idle = append(p.idle, inst)
		p.mu.Unlock()
		return
	}
	mine := p.all[inst]
	delete(p.all, inst)
	p.mu.Unlock()
	if mine {
		_ = inst.Close()
	}
}

// Size is the number of instances the pool runs now.
func (p *Pool) Size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.all)
}

// Close closes every instance (an invocation in flight ends with ErrDead)
// and returns the first error of their Close.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.shut = true
	all := p.all
	p.all = map[*Instance]bool{}
	p.idle = nil
	p.mu.Unlock()
	var first error
	for inst := range all {
		if err := inst.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
