package progress

import "time"

// Skips is a clock that skips time (clock.Skipping): the Printer reads
// the live view's time from it and how much of each step's duration was
// skipped.
type Skips interface {
	Now() time.Time
	SkippedBetween(from, to time.Time) time.Duration
}

// ShowSkips makes p read the time from s and say, after each duration it
// shows, what s skipped of it: "15m0s (skipped)" when all of it was
// skipped, "17m2s (17m0s skipped)" when part was.
func (p *Printer) ShowSkips(s Skips) {
	p.skips = s
	p.now = s.Now
}

// Elapsed shows the time from from to to as the lines show a duration,
// with what was skipped of it when p shows skips.
func (p *Printer) Elapsed(from, to time.Time) string {
	d := FormatDuration(to.Sub(from))
	if p.skips == nil {
		return d
	}
	skipped := p.skips.SkippedBetween(from, to)
	switch s := FormatDuration(skipped); {
	case skipped <= 0:
		return d
	case s == d:
		return d + " (skipped)"
	default:
		return d + " (" + s + " skipped)"
	}
}
