// Package prommetrics is package metrics' Prometheus sink: a registry of
// every metric of metrics.Defs, the Go runtime's and the process's, that
// aiflow dev and aiflow engine serve at /metrics, and the collectors read
// when scraped (WatchQueues, WatchPool). It is a package of its own so that
// the Lambda functions, which write their metrics as CloudWatch Embedded
// Metric Format (metrics.EMF), link neither the Prometheus client nor the
// protocol buffers it brings (internal/archtest keeps it so).
package prommetrics
