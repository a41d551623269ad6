package mcpclient

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aiflow/aiflow/internal/telemetry"
	"github.com/aiflow/aiflow/internal/textgate"
)

// The keys of what a tool call carries of its caller in its _meta: the W3C
// trace context of the span it is made in, under the keys MCP (SEP-414)
// and OpenTelemetry's MCP conventions give it, and the execution and step
// it is made for, under aiflow's reverse-DNS prefix. A server reads them
// into its own context (CallerContext), so that its log lines join the
// caller's trace, execution and step.
const (
	TraceparentMetaKey = "traceparent"
	TracestateMetaKey  = "tracestate"
	ExecutionMetaKey   = "dev.aiflow/execution"
	StepMetaKey        = "dev.aiflow/step"
)

// withCaller adds to meta (nil for none yet) what ctx holds of the caller:
// its span's trace context, and the execution and step of
// internal/telemetry's context. It returns meta, nil when there is
// nothing.
func withCaller(ctx context.Context, meta mcp.Meta) mcp.Meta {
	set := func(k, v string) {
		if v == "" {
			return
		}
		if meta == nil {
			meta = mcp.Meta{}
		}
		meta[k] = v
	}
	traceparent, tracestate := telemetry.W3CTraceContext(ctx)
	set(TraceparentMetaKey, traceparent)
	set(TracestateMetaKey, tracestate)
	set(ExecutionMetaKey, telemetry.ExecutionID(ctx))
	set(StepMetaKey, telemetry.Step(ctx))
	return meta
}

// CallerContext returns ctx with what a tool call's _meta says of its
// caller (see TraceparentMetaKey): the caller's span as the remote parent
// of ctx (unless ctx has a span of its own), and its execution and step
// for internal/telemetry's log lines. Values that are not strings, or that
// are not valid text, are left out. A server calls it on each call; the
// values are the caller's word, for joining logs, not for deciding
// anything.
func CallerContext(ctx context.Context, meta mcp.Meta) context.Context {
	str := func(k string) string {
		s, _ := meta[k].(string)
		if len(s) > 1024 || !textgate.Valid(s) {
			return ""
		}
		return s
	}
	ctx = telemetry.ContextWithW3CTraceContext(ctx, str(TraceparentMetaKey), str(TracestateMetaKey))
	if e := str(ExecutionMetaKey); e != "" {
		ctx = telemetry.WithExecutionID(ctx, e)
	}
	if s := str(StepMetaKey); s != "" {
		ctx = telemetry.WithStep(ctx, s)
	}
	return ctx
}
