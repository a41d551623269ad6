package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/mcpclient"
)

// MCPPool is what the mcp handler and MCPTools need of the MCP client
// pool; *mcpclient.Pool is it.
type MCPPool interface {
	Call(ctx context.Context, cp mcpclient.CallParams) (*mcpclient.CallResult, error)
	Tools(ctx context.Context, server string) ([]mcpclient.ToolInfo, error)
	Servers() []string
}

// MCPSpec is the spec of an mcp step's message: the server and tool the
// workflow names.
type MCPSpec struct {
	Server         string `json:"server"`
	Tool           string `json:"tool"`
	TimeoutSeconds int    `json:"timeout_seconds,omitempty"`
}

// MCPData is the data of an mcp step's message: the tool's arguments,
// rendered by the state machine.
type MCPData struct {
	Arguments json.RawMessage `json:"arguments"`
}

// DetailMCPToolCalled is the detail event an mcp step records for its
// call, with MCPCall data.
const DetailMCPToolCalled = "MCPToolCalled"

// MCPCall is the data of an MCPToolCalled event: which replica answered,
// over which protocol version, after how many attempts, and how it ended
// (Error is the failure's name, empty on success).
type MCPCall struct {
	Step            string `json:"step"`
	StepAttempt     int    `json:"step_attempt"`
	Server          string `json:"server"`
	Tool            string `json:"tool"`
	Endpoint        string `json:"endpoint,omitempty"`
	ProtocolVersion string `json:"protocol_version,omitempty"`
	Attempts        int    `json:"attempts"`
	Failovers       int    `json:"failovers,omitempty"`
	LatencyMS       int64  `json:"latency_ms"`
	Error           string `json:"error,omitempty"`
	Cause           string `json:"cause,omitempty"`
}

// MCPConfig configures NewMCP.
type MCPConfig struct {
	// Pool calls the tools. Required.
	Pool MCPPool
	// Details, if set, records an MCPToolCalled event per step.
	Details DetailRecorder
	// NowFunc is the clock of latencies; nil means time.Now.
	NowFunc func() time.Time
	// Logger receives detail events that could not be recorded; nil
	// discards.
	Logger *slog.Logger
	// TracerProvider makes a span per tool call (MCP semantic
	// conventions); nil means the OpenTelemetry global (no-op until
	// tracing is set up).
	TracerProvider trace.TracerProvider
}

// MCP is the Handler of mcp steps.
type MCP struct {
	cfg    MCPConfig
	now    func() time.Time
	log    *slog.Logger
	tracer trace.Tracer
}

var _ Handler = (*MCP)(nil)

// NewMCP returns the mcp step handler.
func NewMCP(cfg MCPConfig) *MCP {
	h := &MCP{cfg: cfg, now: cfg.NowFunc, log: cfg.Logger, tracer: tracerOf(cfg.TracerProvider)}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h
}

// Run calls the step's tool with its arguments. The result is
// {"output": structured content, else the text parsed as JSON, else the
// text}. A failure is a *Failure named by the pool (MCP.Unavailable,
// MCP.Timeout, MCP.ToolError with the tool's text as the cause,
// MCP.InvalidArguments, MCP.CircuitOpen, MCP.ToolChanged,
// MCP.UnknownTool, MCP.ResultTooLarge), or Steps.MalformedMessage.
//
// The call carries the step invocation's idempotency key (see
// task.Message.IdempotencyKey: the same on every delivery of the message
// and every retry of the step) in its _meta and, when the tool declares an
// idempotency argument the arguments leave unset, in that argument, so
// that a tool that honours keys does its work once however often the
// message comes or the step is retried.
func (h *MCP) Run(ctx context.Context, m Message) (Result, error) {
	var spec MCPSpec
	if err := json.Unmarshal(m.Spec, &spec); err != nil || spec.Server == "" || spec.Tool == "" {
		if err == nil {
			err = errors.New("spec.server and spec.tool are required")
		}
		return Result{}, Failf(CodeMalformedMessage, "reading the spec of mcp step %q: %v", m.Step.ID, err)
	}
	var data MCPData
	if len(m.Data) > 0 {
		if err := json.Unmarshal(m.Data, &data); err != nil {
			return Result{}, Failf(CodeMalformedMessage, "reading the data of mcp step %q: %v", m.Step.ID, err)
		}
	}
	args := data.Arguments
	if len(bytes.TrimSpace(args)) == 0 || bytes.Equal(bytes.TrimSpace(args), []byte("null")) {
		args = json.RawMessage(`{}`)
	}
	if h.cfg.Pool == nil {
		return Result{}, Failf(string(mcpclient.CodeUnavailable), "this worker has no MCP servers configured (step %q calls %s/%s)", m.Step.ID, spec.Server, spec.Tool)
	}
	start := h.now()
	cctx, span := startMCPCall(ctx, h.tracer, spec.Server, spec.Tool)
	res, err := h.cfg.Pool.Call(cctx, mcpclient.CallParams{
		Server: spec.Server, Tool: spec.Tool, Arguments: args,
		IdempotencyKey: m.IdempotencyKey(),
	})
	endMCPCall(span, res, err)
	call := MCPCall{Step: m.Step.ID, StepAttempt: m.Step.Attempt, Server: spec.Server, Tool: spec.Tool, LatencyMS: h.now().Sub(start).Milliseconds()}
	if res != nil {
		call.Endpoint, call.ProtocolVersion, call.Attempts, call.Failovers = res.Endpoint, res.ProtocolVersion, res.Attempts, res.Failovers
	}
	if err != nil {
		f := mcpFailure(err)
		call.Error, call.Cause = f.Name, f.Cause
		h.record(ctx, m, call)
		return Result{}, f
	}
	h.record(ctx, m, call)
	return Result{Output: res.Output()}, nil
}

func (h *MCP) record(ctx context.Context, m Message, call MCPCall) {
	if h.cfg.Details == nil {
		return
	}
	if err := h.cfg.Details.RecordDetail(ctx, Detail{ExecutionID: m.Execution.ID, Type: DetailMCPToolCalled, Data: call}); err != nil {
		h.log.WarnContext(ctx, "recording an mcp step's detail event", "error", err)
	}
}

// mcpFailure names a pool error for SendTaskFailure: the tool's own text
// is the cause of MCP.ToolError, and "server/tool: what" of the others.
func mcpFailure(err error) *Failure {
	var e *mcpclient.Error
	if !errors.As(err, &e) {
		return &Failure{Name: CodeInternal, Cause: err.Error()}
	}
	if e.Code == mcpclient.CodeToolError {
		return &Failure{Name: string(e.Code), Cause: e.Message}
	}
	return &Failure{Name: string(e.Code), Cause: strings.TrimPrefix(e.Error(), string(e.Code)+": ")}
}

// MCPTools is the ToolRunner of agent steps over the MCP pool: it offers
// every approved tool of every server as "server/tool".
type MCPTools struct {
	Pool MCPPool
	// Logger receives the servers that could not be listed; nil discards.
	Logger *slog.Logger
	// TracerProvider makes a span per tool call; nil means the
	// OpenTelemetry global.
	TracerProvider trace.TracerProvider
}

var _ ToolRunner = (*MCPTools)(nil)

// ListTools lists the approved tools of every server, sorted. A server
// that cannot be reached is left out (its tools are then "not served" to
// the step that names them); ListTools fails only when no server could be
// listed.
func (t *MCPTools) ListTools(ctx context.Context) ([]ToolInfo, error) {
	var (
		out  []ToolInfo
		errs []error
	)
	servers := t.Pool.Servers()
	for _, s := range servers {
		tools, err := t.Pool.Tools(ctx, s)
		if err != nil {
			errs = append(errs, err)
			if t.Logger != nil {
				t.Logger.Warn("listing the tools of an MCP server", "server", s, "error", err)
			}
			continue
		}
		for _, tool := range tools {
			if tool.Status != mcpclient.ToolPinned {
				continue
			}
			out = append(out, ToolInfo{Name: s + "/" + tool.Name, Description: tool.Description, InputSchema: tool.InputSchema})
		}
	}
	if len(servers) > 0 && len(errs) == len(servers) {
		return nil, fmt.Errorf("listing the MCP tools: %w", errors.Join(errs...))
	}
	return out, nil
}

// CallTool calls "server/tool". What the model can act on — the tool's
// error, arguments that do not fit, a tool unknown, disabled or too
// talkative — comes back as an error result for the model; an unreachable
// server, a timeout or an open circuit is the runner's error, which fails
// the step.
func (t *MCPTools) CallTool(ctx context.Context, name string, args json.RawMessage) (string, bool, error) {
	server, tool, ok := strings.Cut(name, "/")
	if !ok {
		return fmt.Sprintf("there is no tool %q; a tool is named server/tool", name), true, nil
	}
	cctx, span := startMCPCall(ctx, tracerOf(t.TracerProvider), server, tool)
	res, err := t.Pool.Call(cctx, mcpclient.CallParams{Server: server, Tool: tool, Arguments: args})
	endMCPCall(span, res, err)
	switch mcpclient.CodeOf(err) {
	case "":
		if err != nil {
			return "", false, err
		}
	case mcpclient.CodeToolError, mcpclient.CodeInvalidArguments, mcpclient.CodeUnknownTool, mcpclient.CodeToolChanged, mcpclient.CodeResultTooLarge:
		return mcpFailure(err).Cause, true, nil
	default:
		return "", false, err
	}
	if res.Text != "" || res.Structured == nil {
		return res.Text, false, nil
	}
	out, err := json.Marshal(res.Structured)
	if err != nil {
		return "", false, fmt.Errorf("encoding the result of %s: %w", name, err)
	}
	return string(out), false, nil
}
