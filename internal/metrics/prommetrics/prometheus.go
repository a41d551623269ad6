package prommetrics

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/aiflow/aiflow/internal/metrics"
)

// Prometheus is a Sink over a Prometheus registry of its own, holding every
// counter and histogram of Defs, the Go runtime's and the process's
// metrics, and the collectors added with WatchQueues and WatchPool. It is
// safe for concurrent use.
type Prometheus struct {
	reg        *prometheus.Registry
	counters   map[*metrics.Def]*prometheus.CounterVec
	histograms map[*metrics.Def]*prometheus.HistogramVec

	mu    sync.Mutex
	pools map[string]bool // the names WatchPool watches
}

var _ metrics.Sink = (*Prometheus)(nil)

// NewPrometheus returns a Prometheus sink with every metric of Defs
// registered.
func NewPrometheus() *Prometheus {
	p := &Prometheus{reg: prometheus.NewRegistry(), counters: map[*metrics.Def]*prometheus.CounterVec{}, histograms: map[*metrics.Def]*prometheus.HistogramVec{}, pools: map[string]bool{}}
	p.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, d := range metrics.Defs() {
		switch d.Kind {
		case metrics.Counter:
			if d == metrics.DBAcquires || d == metrics.DBAcquireWait {
				continue // read from the pool when scraped (WatchPool)
			}
			v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: d.Name, Help: d.Help}, d.Labels)
			p.reg.MustRegister(v)
			p.counters[d] = v
		case metrics.Histogram:
			b := d.Buckets
			if b == nil {
				b = metrics.DurationBuckets
			}
			v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: d.Name, Help: d.Help, Buckets: b}, d.Labels)
			p.reg.MustRegister(v)
			p.histograms[d] = v
		}
	}
	return p
}

// Add adds v to the counter d. It panics when d is no counter of Defs or
// the labels do not match d's, both programming errors.
func (p *Prometheus) Add(d *metrics.Def, v float64, labels ...string) {
	c, ok := p.counters[d]
	if !ok {
		panic(fmt.Sprintf("metrics: %s is not a counter of this registry", d.Name))
	}
	c.WithLabelValues(labels...).Add(v)
}

// Observe records v in the histogram d; it panics as Add does.
func (p *Prometheus) Observe(d *metrics.Def, v float64, labels ...string) {
	h, ok := p.histograms[d]
	if !ok {
		panic(fmt.Sprintf("metrics: %s is not a histogram of this registry", d.Name))
	}
	h.WithLabelValues(labels...).Observe(v)
}

// Handler serves the registry in the Prometheus exposition formats, for
// GET /metrics.
func (p *Prometheus) Handler() http.Handler {
	return promhttp.HandlerFor(p.reg, promhttp.HandlerOpts{})
}

// desc is d as a Prometheus description, for collectors read on scrape.
func desc(d *metrics.Def) *prometheus.Desc {
	return prometheus.NewDesc(d.Name, d.Help, d.Labels, nil)
}
