package stepevent

import (
	"sync"
)

// StreamEvent is a piece of a step's streamed answer, as subscribers of
// its execution receive it. Turn counts the step's model calls from 1.
type StreamEvent struct {
	ExecutionID string `json:"execution_id"`
	StepID      string `json:"step_id"`
	Attempt     int    `json:"attempt"`
	Turn        int    `json:"turn"`
	Text        string `json:"text"`
}

// Broker hands the streamed answers of ai steps to subscribers in the same
// process (the API's live stream, aiflow dev), by execution. Publishing
// never blocks a model call: a subscriber whose buffer is full misses the
// event, and its Subscription counts what it missed. The zero Broker is
// ready to use and safe for concurrent use.
type Broker struct {
	mu   sync.Mutex
	subs map[string]map[*Subscription]struct{}
}

// Subscription receives the events of one execution on C until Close.
type Subscription struct {
	// C delivers the events in the order they were published.
	C <-chan StreamEvent

	c       chan StreamEvent
	b       *Broker
	id      string
	mu      sync.Mutex
	missed  int
	closeMu sync.Once
}

// DefaultSubscriptionBuffer is the buffer of a subscription made with a
// buffer of 0.
const DefaultSubscriptionBuffer = 256

// Subscribe returns a subscription to the streamed answers of the
// execution executionID (its ARN), with room for buffer events (0 means
// DefaultSubscriptionBuffer).
func (b *Broker) Subscribe(executionID string, buffer int) *Subscription {
	if buffer <= 0 {
		buffer = DefaultSubscriptionBuffer
	}
	c := make(chan StreamEvent, buffer)
	s := &Subscription{C: c, c: c, b: b, id: executionID}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs == nil {
		b.subs = map[string]map[*Subscription]struct{}{}
	}
	if b.subs[executionID] == nil {
		b.subs[executionID] = map[*Subscription]struct{}{}
	}
	b.subs[executionID][s] = struct{}{}
	return s
}

// Publish delivers ev to the subscribers of its execution.
func (b *Broker) Publish(ev StreamEvent) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs[ev.ExecutionID] {
		select {
		case s.c <- ev:
		default:
			s.mu.Lock()
			s.missed++
			s.mu.Unlock()
		}
	}
}

// Subscribers returns how many subscriptions the execution has.
func (b *Broker) Subscribers(executionID string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs[executionID])
}

// Missed returns how many events the subscription missed because its
// buffer was full.
func (s *Subscription) Missed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.missed
}

// Close ends the subscription and closes C. It may be called more than
// once.
func (s *Subscription) Close() {
	s.closeMu.Do(func() {
		s.b.mu.Lock()
		defer s.b.mu.Unlock()
		delete(s.b.subs[s.id], s)
		if len(s.b.subs[s.id]) == 0 {
			delete(s.b.subs, s.id)
		}
		close(s.c)
	})
}
