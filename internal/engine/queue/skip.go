package queue

import (
	"github.com/aws/aws-lambda-go/events"

	"github.com/aiflow/aiflow/internal/clock"
)

var _ clock.Activity = (*Broker)(nil)

// Quiet reports whether no message waits for a worker and none is held by
// a worker working on it, with a count that grows whenever a message
// becomes visible or is received: the clock.Activity a skipping clock
// watches. A delayed message waits for its delay, and one whose
// mapping's handler ended without deleting it waits for its visibility
// timeout: both are timers, which the clock may skip.
func (b *Broker) Quiet() (quiet bool, epoch uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return true, b.epoch
	}
	for _, q := range b.queues {
		if q.nVisible > 0 || q.nInFlight > q.nParked {
			return false, b.epoch
		}
	}
	return true, b.epoch
}

// park marks the messages of a batch that its handler left in flight
// (it failed them) as waiting for their visibility timeout rather than
// worked on.
func (m *mapping) park(batch []events.SQSMessage) {
	b := m.b
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range batch {
		if msg, ok := m.q.handles[r.ReceiptHandle]; ok && msg.state == stateInFlight && !msg.parked {
			msg.parked = true
			m.q.nParked++
		}
	}
}

// watchedBy hands the broker to its clock when the clock waits for work
// to end before it moves time on (clock.Skipping).
func (b *Broker) watchedBy(c clock.Clock) {
	if w, ok := c.(clock.Watcher); ok {
		w.Watch(b)
	}
}
