package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// maxEMFValues is how many values one metric may have in one EMF line.
const maxEMFValues = 100

// EmptyDimension is the dimension value of an empty label (a version a
// bare engine does not know, say): CloudWatch takes no empty value.
const EmptyDimension = "none"

// EMFConfig configures NewEMF.
type EMFConfig struct {
	// Writer receives the lines: a Lambda function's standard output,
	// which CloudWatch Logs reads. Required.
	Writer io.Writer
	// NowFunc is the time of the lines' Timestamp; nil means time.Now.
	NowFunc func() time.Time
	// Logger receives lines that could not be written; nil discards.
	Logger *slog.Logger
}

// EMF is a Sink that keeps what an invocation records and writes it as
// CloudWatch Embedded Metric Format lines when flushed: one line per set
// of dimension values, its counters summed and its histograms' values
// listed. It is safe for concurrent use.
type EMF struct {
	w      io.Writer
	now    func() time.Time
	logger *slog.Logger

	mu     sync.Mutex
	groups map[string]*emfGroup
}

var _ Sink = (*EMF)(nil)

// emfGroup is what one line holds: the metrics recorded with one set of
// dimensions and values.
type emfGroup struct {
	names, values []string
	sums          map[*Def]float64
	observed      map[*Def][]float64
}

// NewEMF returns an EMF sink; it errs without a Writer.
func NewEMF(cfg EMFConfig) (*EMF, error) {
	if cfg.Writer == nil {
		return nil, fmt.Errorf("making the EMF metrics: no writer")
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &EMF{w: cfg.Writer, now: cfg.NowFunc, logger: cfg.Logger, groups: map[string]*emfGroup{}}, nil
}

func (e *EMF) group(d *Def, labels []string) *emfGroup {
	if len(labels) != len(d.Labels) {
		panic(fmt.Sprintf("metrics: %s takes %d labels, got %d", d.Name, len(d.Labels), len(labels)))
	}
	key := strings.Join(d.Labels, "\x00") + "\x01" + strings.Join(labels, "\x00")
	g, ok := e.groups[key]
	if !ok {
		values := slices.Clone(labels)
		for i, v := range values {
			if v == "" {
				values[i] = EmptyDimension
			}
		}
		g = &emfGroup{names: d.Labels, values: values, sums: map[*Def]float64{}, observed: map[*Def][]float64{}}
		e.groups[key] = g
	}
	return g
}

// Add adds v to the counter d until the next Flush.
func (e *EMF) Add(d *Def, v float64, labels ...string) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return // CloudWatch takes no such value
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	g := e.group(d, labels)
	g.sums[d] += v
}

// Observe keeps v for the histogram d until the next Flush.
func (e *EMF) Observe(d *Def, v float64, labels ...string) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	g := e.group(d, labels)
	g.observed[d] = append(g.observed[d], v)
}

// emfMetric is a MetricDefinition of the specification.
type emfMetric struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit,omitempty"`
}

// emfDirective is a MetricDirective of the specification.
type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMetadata struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// Flush writes what was recorded since the last Flush, one line per set of
// dimension values (and one more for each further 100 values of a
// histogram), in a stable order, and forgets it. It returns the first
// error writing a line.
func (e *EMF) Flush() error {
	e.mu.Lock()
	groups := e.groups
	e.groups = map[string]*emfGroup{}
	e.mu.Unlock()
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	ts := e.now().UnixMilli()
	var first error
	for _, k := range keys {
		for _, line := range groups[k].lines(ts) {
			if _, err := e.w.Write(line); err != nil && first == nil {
				first = fmt.Errorf("writing the EMF metrics: %w", err)
			}
		}
	}
	return first
}

// lines encodes g as EMF lines, each ending in a newline.
func (g *emfGroup) lines(ts int64) [][]byte {
	var out [][]byte
	for part := 0; ; part++ {
		root := map[string]any{}
		dir := emfDirective{Namespace: Namespace, Dimensions: [][]string{slices.Clone(g.names)}, Metrics: []emfMetric{}}
		if part == 0 {
			for d, v := range g.sums {
				dir.Metrics = append(dir.Metrics, emfMetric{Name: d.Name, Unit: d.Unit})
				root[d.Name] = v
			}
		}
		for d, vs := range g.observed {
			lo := part * maxEMFValues
			if lo >= len(vs) {
				continue
			}
			dir.Metrics = append(dir.Metrics, emfMetric{Name: d.Name, Unit: d.Unit})
			root[d.Name] = vs[lo:min(lo+maxEMFValues, len(vs))]
		}
		if len(dir.Metrics) == 0 {
			return out
		}
		slices.SortFunc(dir.Metrics, func(a, b emfMetric) int { return strings.Compare(a.Name, b.Name) })
		for i, name := range g.names {
			root[name] = g.values[i]
		}
		root["_aws"] = emfMetadata{Timestamp: ts, CloudWatchMetrics: []emfDirective{dir}}
		b, err := json.Marshal(root) // cannot fail: Add and Observe keep finite numbers only
		if err != nil {
			return out
		}
		out = append(out, append(b, '\n'))
	}
}

// Flushing wraps a Lambda handler so that e is flushed after every
// invocation, whatever its outcome: the metrics it recorded are one set of
// EMF lines in the invocation's log. A failed flush is logged.
func Flushing[In, Out any](e *EMF, h func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, in In) (Out, error) {
		defer func() {
			if err := e.Flush(); err != nil {
				e.logger.ErrorContext(ctx, "writing the invocation's metrics", "error", err)
			}
		}()
		return h(ctx, in)
	}
}
