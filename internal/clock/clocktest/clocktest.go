// Package clocktest holds a clock that tests move by hand, for the code
// that takes its time as a NowFunc or a Now method (token expiry, rate
// limits, caches).
package clocktest

import (
	"sync"
	"time"
)

// Manual is a clock that stands still until Advance moves it. It is safe
// for concurrent use.
type Manual struct {
	mu  sync.Mutex
	now time.Time
}

// NewManual returns a clock that reads start.
func NewManual(start time.Time) *Manual { return &Manual{now: start} }

// Now returns the clock's time.
func (c *Manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Manual) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
