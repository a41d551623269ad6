package steps

import (
	"context"
	"net/url"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/mcpclient"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// startMCPCall begins the client span of one MCP tool call, as the MCP
// semantic conventions name it: "tools/call {tool}", with mcp.method.name
// and gen_ai.tool.name. The pool's failovers and retries are inside it.
func startMCPCall(ctx context.Context, tracer trace.Tracer, server, tool string) (context.Context, trace.Span) {
	return tracer.Start(ctx, "tools/call "+tool, telemetry.ClientSpan,
		trace.WithAttributes(attribute.String("mcp.method.name", "tools/call"), attribute.String("gen_ai.tool.name", tool),
			attribute.String("gen_ai.operation.name", "execute_tool"), attribute.String("aiflow.mcp.server", server)))
}

// endMCPCall records what the pool said of the call: the replica that
// answered, the protocol version its session speaks, the attempts, or
// the error (error.type, the MCP.* code).
func endMCPCall(span trace.Span, res *mcpclient.CallResult, err error) {
	defer span.End()
	if !span.IsRecording() {
		return
	}
	if res != nil {
		attrs := []attribute.KeyValue{attribute.Int("aiflow.mcp.attempts", res.Attempts), attribute.Int("aiflow.mcp.failovers", res.Failovers)}
		if res.ProtocolVersion != "" {
			attrs = append(attrs, attribute.String("mcp.protocol.version", res.ProtocolVersion))
		}
		if u, perr := url.Parse(res.Endpoint); perr == nil && u.Host != "" {
			attrs = append(attrs, attribute.String("server.address", u.Hostname()), attribute.String("url.full", u.Redacted()))
		} else if res.Endpoint != "" {
			attrs = append(attrs, attribute.String("aiflow.mcp.endpoint", res.Endpoint))
		}
		span.SetAttributes(attrs...)
	}
	if err != nil {
		code := string(mcpclient.CodeOf(err))
		if code == "" {
			code = "_OTHER"
		}
		span.SetAttributes(attribute.String("error.type", code))
		span.RecordError(err)
		span.SetStatus(codes.Error, code)
	}
}
