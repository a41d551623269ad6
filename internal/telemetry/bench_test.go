package telemetry_test

import (
	"context"
	"io"
	"testing"

	"github.com/aiflow/aiflow/internal/telemetry"
)

// BenchmarkLogWithContext is one request log line as the API writes it: JSON,
// with the request and correlation ids taken from the context.
func BenchmarkLogWithContext(b *testing.B) {
	logger := telemetry.NewLogger(telemetry.LoggerOptions{Format: telemetry.FormatJSON, Writer: io.Discard})
	ctx := telemetry.WithCorrelationID(telemetry.WithRequestID(context.Background(), "5e4724be1854127b44f1f088d72d5ae6"), "corr-1")
	b.ReportAllocs()
	for b.Loop() {
		logger.InfoContext(ctx, "request", "method", "GET", "path", "/healthz", "status", 200)
	}
}

// BenchmarkLogWithURLRedaction logs a value that holds a database URL, which
// the handler must find and mask.
func BenchmarkLogWithURLRedaction(b *testing.B) {
	logger := telemetry.NewLogger(telemetry.LoggerOptions{Format: telemetry.FormatJSON, Writer: io.Discard})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		logger.WarnContext(ctx, "database unreachable", "database_url", "postgres://aiflow:hunter2@db.internal:5432/aiflow?sslmode=require")
	}
}
