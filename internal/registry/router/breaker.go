package router

import "time"

// State is a circuit breaker's state.
type State string

// The states of an instance's circuit breaker.
const (
	// Closed: calls go through; consecutive failures are counted.
	Closed State = "closed"
	// Open: the instance gets no calls until the cool-down has passed.
	Open State = "open"
	// HalfOpen: the cool-down passed; one call (the probe) goes through,
	// and its outcome closes or reopens the breaker.
	HalfOpen State = "half_open"
)

// breaker is one instance's circuit breaker. It is guarded by the mutex of
// the balancer of the instance's service version.
type breaker struct {
	state    State
	failures int
	openedAt time.Time
	probing  bool
	// gen counts the breaker's changes of state: an outcome of a call
	// picked in another generation (picked while closed, reported after the
	// breaker opened) does not judge the breaker again.
	gen uint64
}

// ready reports whether a call may go to the instance now.
func (b *breaker) ready(now time.Time, coolDown time.Duration) bool {
	switch b.state {
	case Open:
		return !now.Before(b.openedAt.Add(coolDown))
	case HalfOpen:
		return !b.probing
	}
	return true
}

// claim takes the call that ready allowed: an open breaker whose cool-down
// passed turns half-open and the call is its probe. It returns the
// generation the call's outcome is for.
func (b *breaker) claim() uint64 {
	if b.state == "" {
		b.state = Closed
	}
	if b.state == Open {
		b.state, b.gen = HalfOpen, b.gen+1
	}
	if b.state == HalfOpen {
		b.probing = true
	}
	return b.gen
}

// succeed records a call that the instance answered: it closes the
// breaker. It reports whether the breaker was half-open and closed.
func (b *breaker) succeed(gen uint64) (closed bool) {
	if gen != b.gen {
		return false
	}
	if b.state == HalfOpen {
		b.state, b.gen, closed = Closed, b.gen+1, true
	}
	b.failures, b.probing = 0, false
	return closed
}

// fail records a failed call; it reports whether the breaker opened.
func (b *breaker) fail(gen uint64, now time.Time, threshold int) bool {
	if gen != b.gen {
		return false
	}
	switch b.state {
	case HalfOpen:
		b.state, b.openedAt, b.probing, b.gen = Open, now, false, b.gen+1
		return true
	case Open:
		return false
	}
	b.failures++
	if b.failures < threshold {
		return false
	}
	b.state, b.openedAt, b.failures, b.gen = Open, now, 0, b.gen+1
	return true
}

// abandon records a call that judged nothing (the caller's own deadline):
// a half-open breaker may send another probe.
func (b *breaker) abandon(gen uint64) {
	if gen == b.gen && b.state == HalfOpen {
		b.probing = false
	}
}

// current is the breaker's state as a reader sees it at now.
func (b *breaker) current(now time.Time, coolDown time.Duration) State {
	switch {
	case b.state == "":
		return Closed
	case b.state == Open && !now.Before(b.openedAt.Add(coolDown)):
		return HalfOpen
	}
	return b.state
}
