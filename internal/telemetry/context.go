package telemetry

import (
	"context"
	"log/slog"
)

// Attribute keys the logger adds from a context.
const (
	keyRequestID     = "request_id"
	keyCorrelationID = "correlation_id"
	keyExecutionID   = "execution_id"
	keyStep          = "step"
)

// fieldsKey is the context key of fields. All fields share one key so the
// handler does a single context lookup per record.
type fieldsKey struct{}

// fields are the identifiers that follow a request or an execution through
// the code; an empty field is unset.
type fields struct {
	requestID     string
	correlationID string
	executionID   string
	step          string
}

func fieldsFrom(ctx context.Context) fields {
	if ctx == nil {
		return fields{}
	}
	f, _ := ctx.Value(fieldsKey{}).(fields)
	return f
}

func withFields(ctx context.Context, f fields) context.Context {
	return context.WithValue(ctx, fieldsKey{}, f)
}

// WithRequestID returns a copy of ctx carrying id as the request ID: the ID
// of one HTTP request or one Lambda invocation. An empty id unsets it.
func WithRequestID(ctx context.Context, id string) context.Context {
	f := fieldsFrom(ctx)
	f.requestID = id
	return withFields(ctx, f)
}

// WithCorrelationID returns a copy of ctx carrying id as the correlation
// ID, which ties together the requests and messages caused by one action.
// An empty id unsets it.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	f := fieldsFrom(ctx)
	f.correlationID = id
	return withFields(ctx, f)
}

// WithExecutionID returns a copy of ctx carrying id as the ID of the
// workflow execution being worked on. An empty id unsets it.
func WithExecutionID(ctx context.Context, id string) context.Context {
	f := fieldsFrom(ctx)
	f.executionID = id
	return withFields(ctx, f)
}

// WithStep returns a copy of ctx carrying the name of the workflow step
// being run. An empty name unsets it.
func WithStep(ctx context.Context, name string) context.Context {
	f := fieldsFrom(ctx)
	f.step = name
	return withFields(ctx, f)
}

// RequestID returns the request ID set by WithRequestID, or "".
func RequestID(ctx context.Context) string { return fieldsFrom(ctx).requestID }

// CorrelationID returns the correlation ID set by WithCorrelationID, or "".
func CorrelationID(ctx context.Context) string { return fieldsFrom(ctx).correlationID }

// ExecutionID returns the execution ID set by WithExecutionID, or "".
func ExecutionID(ctx context.Context) string { return fieldsFrom(ctx).executionID }

// Step returns the step name set by WithStep, or "".
func Step(ctx context.Context) string { return fieldsFrom(ctx).step }

// attrs returns the set fields as log attributes, in a fixed order.
func (f fields) attrs() []slog.Attr {
	if f == (fields{}) {
		return nil
	}
	attrs := make([]slog.Attr, 0, 6) // room for the trace and span IDs
	if f.requestID != "" {
		attrs = append(attrs, slog.String(keyRequestID, f.requestID))
	}
	if f.correlationID != "" {
		attrs = append(attrs, slog.String(keyCorrelationID, f.correlationID))
	}
	if f.executionID != "" {
		attrs = append(attrs, slog.String(keyExecutionID, f.executionID))
	}
	if f.step != "" {
		attrs = append(attrs, slog.String(keyStep, f.step))
	}
	return attrs
}
