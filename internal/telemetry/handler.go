package telemetry

import (
	"context"
	"log/slog"
	"slices"

	"go.opentelemetry.io/otel/trace"
)

// contextHandler adds the context fields, and the trace and span IDs of
// the context's span, to each record before passing it
// to a slog.JSONHandler or slog.TextHandler.
//
// The fields always land at the top level of a record, even under
// logger.WithGroup: a request_id nested as "db.request_id" would defeat
// searching logs by request. So the handler remembers the WithAttrs and
// WithGroup calls made on it; when a record has context fields and a group
// is open, it rebuilds the chain on top of the fields. Without an open
// group it appends the fields to the record, which is cheaper.
type contextHandler struct {
	base     slog.Handler // the handler NewLogger built, without ops
	inner    slog.Handler // base with ops applied
	ops      []handlerOp
	hasGroup bool
}

// handlerOp is one WithGroup (group != "") or WithAttrs call.
type handlerOp struct {
	group string
	attrs []slog.Attr
}

func newContextHandler(h slog.Handler) *contextHandler {
	return &contextHandler{base: h, inner: h}
}

func (h *contextHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

func (h *contextHandler) Handle(ctx context.Context, r slog.Record) error {
	attrs := fieldsFrom(ctx).attrs()
	if ctx != nil {
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			attrs = append(attrs, slog.String(keyTraceID, sc.TraceID().String()), slog.String(keySpanID, sc.SpanID().String()))
		}
	}
	if len(attrs) == 0 {
		return h.inner.Handle(ctx, r)
	}
	if !h.hasGroup {
		r = r.Clone()
		r.AddAttrs(attrs...)
		return h.inner.Handle(ctx, r)
	}
	inner := h.base.WithAttrs(attrs)
	for _, op := range h.ops {
		if op.group != "" {
			inner = inner.WithGroup(op.group)
		} else {
			inner = inner.WithAttrs(op.attrs)
		}
	}
	return inner.Handle(ctx, r)
}

func (h *contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return &contextHandler{
		base:     h.base,
		inner:    h.inner.WithAttrs(attrs),
		ops:      append(slices.Clip(h.ops), handlerOp{attrs: slices.Clone(attrs)}),
		hasGroup: h.hasGroup,
	}
}

func (h *contextHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &contextHandler{
		base:     h.base,
		inner:    h.inner.WithGroup(name),
		ops:      append(slices.Clip(h.ops), handlerOp{group: name}),
		hasGroup: true,
	}
}
