// Package clock is the time the local engine and its queue run on: Now and
// timers. The system's time is System; tests run inside a testing/synctest
// bubble, where the same calls use the bubble's fake time, or pass a Clock
// of their own.
package clock

import "time"

// Clock tells the time and runs timers.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed; stop
	// cancels it and reports whether it did.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// System is the Clock of package time.
type System struct{}

// Now returns time.Now().
func (System) Now() time.Time { return time.Now() }

// AfterFunc is time.AfterFunc.
func (System) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}
