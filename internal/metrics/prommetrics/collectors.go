package prommetrics

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aiflow/aiflow/internal/metrics"
)

// QueueDepth is what one queue holds, read when scraped.
type QueueDepth struct {
	Queue                      string
	Visible, InFlight, Delayed int
	// OldestAge is the age of the oldest message not yet deleted; 0 when
	// there is none.
	OldestAge time.Duration
}

// QueueDepthsFunc reads the depth of every queue. The wiring adapts the
// local engine's broker to it (this package imports no engine).
type QueueDepthsFunc func() []QueueDepth

// WatchQueues reads the queues' depths on every scrape, as QueueMessages
// and QueueOldestAge.
func (p *Prometheus) WatchQueues(f QueueDepthsFunc) error {
	if err := p.reg.Register(queueCollector{f: f, messages: desc(metrics.QueueMessages), oldest: desc(metrics.QueueOldestAge)}); err != nil {
		return fmt.Errorf("registering the queue collector: %w", err)
	}
	return nil
}

type queueCollector struct {
	f                QueueDepthsFunc
	messages, oldest *prometheus.Desc
}

func (c queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.messages
	ch <- c.oldest
}

func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	for _, q := range c.f() {
		ch <- prometheus.MustNewConstMetric(c.messages, prometheus.GaugeValue, float64(q.Visible), q.Queue, "visible")
		ch <- prometheus.MustNewConstMetric(c.messages, prometheus.GaugeValue, float64(q.InFlight), q.Queue, "in_flight")
		ch <- prometheus.MustNewConstMetric(c.messages, prometheus.GaugeValue, float64(q.Delayed), q.Queue, "delayed")
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, q.OldestAge.Seconds(), q.Queue)
	}
}

// WatchPool reads pool's statistics (pgxpool.Stat) on every scrape, as
// DBConnections, DBAcquires and DBAcquireWait labelled pool=name. Each
// name may be watched once.
func (p *Prometheus) WatchPool(name string, pool *pgxpool.Pool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pools[name] {
		return fmt.Errorf("registering the collector of the database pool %s: a pool of that name is watched already", name)
	}
	c := poolCollector{name: name, pool: pool, conns: desc(metrics.DBConnections), acquires: desc(metrics.DBAcquires), wait: desc(metrics.DBAcquireWait)}
	if err := p.reg.Register(c); err != nil {
		return fmt.Errorf("registering the collector of the database pool %s: %w", name, err)
	}
	p.pools[name] = true
	return nil
}

type poolCollector struct {
	name                  string
	pool                  *pgxpool.Pool
	conns, acquires, wait *prometheus.Desc
}

// Describe sends nothing: the registry then checks the collector as
// unchecked, so that several pools, each with its own name label, may
// share the same metric names.
func (c poolCollector) Describe(chan<- *prometheus.Desc) {}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	gauge := func(state string, v int32) {
		ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(v), c.name, state)
	}
	gauge("acquired", s.AcquiredConns())
	gauge("idle", s.IdleConns())
	gauge("constructing", s.ConstructingConns())
	gauge("total", s.TotalConns())
	gauge("max", s.MaxConns())
	// AcquireCount counts every successful acquire, EmptyAcquireCount
	// those that found no idle connection and waited for one.
	immediate := s.AcquireCount() - s.EmptyAcquireCount()
	ch <- prometheus.MustNewConstMetric(c.acquires, prometheus.CounterValue, float64(immediate), c.name, "immediate")
	ch <- prometheus.MustNewConstMetric(c.acquires, prometheus.CounterValue, float64(s.EmptyAcquireCount()), c.name, "waited")
	ch <- prometheus.MustNewConstMetric(c.acquires, prometheus.CounterValue, float64(s.CanceledAcquireCount()), c.name, "canceled")
	ch <- prometheus.MustNewConstMetric(c.wait, prometheus.CounterValue, s.AcquireDuration().Seconds(), c.name)
}
