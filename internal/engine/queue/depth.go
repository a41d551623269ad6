package queue

import (
	"cmp"
	"slices"
	"time"
)

// Depth is what one queue holds now, for metrics: the counts of Stats and
// the age of its oldest message.
type Depth struct {
	Name                       string
	Visible, InFlight, Delayed int
	// OldestAge is the age, on the broker's clock, of the oldest message
	// that is visible or in flight (as SQS's ApproximateAgeOfOldestMessage
	// counts: delayed messages are not yet in the queue); 0 when there is
	// none.
	OldestAge time.Duration
}

// Depths returns the depth of every queue, in name order, dropping visible
// messages whose retention is over first (as Stats does); nil once the
// broker is closed. It walks each queue's messages, so it is for a
// scrape, not for every message.
func (b *Broker) Depths() []Depth {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	now := b.clock.Now()
	out := make([]Depth, 0, len(b.names))
	for name, q := range b.names {
		var oldest time.Time
		older := func(m *message) {
			if oldest.IsZero() || m.sent.Before(oldest) {
				oldest = m.sent
			}
		}
		for _, m := range q.visible[q.head:] {
			if m.state != stateVisible {
				continue
			}
			if b.expired(m) {
				b.drop(m)
				continue
			}
			older(m)
		}
		for _, m := range q.handles {
			if m.state == stateInFlight {
				older(m)
			}
		}
		d := Depth{Name: name, Visible: q.nVisible, InFlight: q.nInFlight, Delayed: q.nDelayed}
		if !oldest.IsZero() {
			d.OldestAge = max(now.Sub(oldest), 0)
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Depth) int { return cmp.Compare(a.Name, b.Name) })
	return out
}
