package queue

import (
	"fmt"
	"slices"
	"strings"
)

// QueueInfo describes a queue: its configuration with the defaults filled
// in, its ARN and its counts.
type QueueInfo struct {
	Config QueueConfig
	ARN    string
	Stats  Stats
}

// QueueURL returns the URL of the queue named name, or an *Error with code
// QueueDoesNotExist, or ErrClosed.
func (b *Broker) QueueURL(name string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return "", ErrClosed
	}
	q, ok := b.names[name]
	if !ok {
		return "", newError(CodeQueueDoesNotExist, fmt.Sprintf("no queue is named %q", name))
	}
	return q.cfg.URL, nil
}

// ListQueues returns the URLs of the queues whose names start with
// prefix, in name order; ErrClosed once closed.
func (b *Broker) ListQueues(prefix string) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	names := make([]string, 0, len(b.names))
	for name := range b.names {
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	urls := make([]string, len(names))
	for i, name := range names {
		urls[i] = b.names[name].cfg.URL
	}
	return urls, nil
}

// Describe returns the configuration, ARN and counts of the queue at url.
// Errors are as for Stats.
func (b *Broker) Describe(url string) (QueueInfo, error) {
	s, err := b.Stats(url)
	if err != nil {
		return QueueInfo{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.queueLocked(url)
	if err != nil {
		return QueueInfo{}, err
	}
	return QueueInfo{Config: q.cfg, ARN: q.arn, Stats: s}, nil
}

// PurgeQueue deletes every message of the queue at url, visible, delayed
// and in flight; their receipt handles become invalid. Errors are *Error
// with code QueueDoesNotExist, or ErrClosed.
func (b *Broker) PurgeQueue(url string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.queueLocked(url)
	if err != nil {
		return err
	}
	b.purgeLocked(q)
	return nil
}

func (b *Broker) purgeLocked(q *queue) {
	for _, m := range q.visible[q.head:] {
		if m.state == stateVisible {
			b.setState(m, stateGone)
		}
	}
	clear(q.visible)
	q.visible, q.head = q.visible[:0], 0
	for _, m := range q.handles {
		if m.state == stateInFlight {
			b.disarm(m)
			b.setState(m, stateGone)
		}
	}
	clear(q.handles)
	for m := range q.delayed {
		b.disarm(m)
		b.setState(m, stateGone)
	}
	clear(q.delayed)
}

// DeleteQueue deletes the queue at url and its messages. Receivers
// waiting on it return QueueDoesNotExist; an event source mapping of it
// receives nothing more; a queue whose dead-letter queue it was loses its
// redrive policy (on SQS its messages would be lost instead). Errors
// are *Error with code QueueDoesNotExist, or ErrClosed.
func (b *Broker) DeleteQueue(url string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.queueLocked(url)
	if err != nil {
		return err
	}
	b.purgeLocked(q)
	delete(b.queues, url)
	delete(b.names, q.cfg.Name)
	for _, other := range b.queues {
		if other.dlq == q {
			other.dlq, other.cfg.DeadLetterURL, other.cfg.MaxReceiveCount = nil, "", 0
		}
	}
	close(q.notify) // wake long polls, which then find the queue gone
	q.notify = make(chan struct{})
	q.waiting = false
	return nil
}
