package mcpclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/sony/gobreaker/v2"

	"github.com/aiflow/aiflow/internal/textgate"
)

// IdempotencyMetaKey is the _meta key of aiflow's idempotency keys. A
// tool declares that it honours one by this key in its definition's
// _meta, with one of two values:
//
//   - "_meta": the key travels in the call's _meta under the same name,
//     and the server answers a repeated key with the first call's result;
//   - the name of one of its arguments (such as "request_id"): a call
//     whose arguments set it is keyed by it, and a call with an
//     IdempotencyKey sets it when the arguments do not.
//
// A call with an IdempotencyKey carries it in its _meta under this key
// whatever the tool declares (the name follows MCP's _meta naming rules:
// a reverse-DNS prefix of our own). A call keyed as its tool declares is
// sent again after a dropped session, like a call to a read-only or
// idempotent tool; any other call is not.
const IdempotencyMetaKey = "dev.aiflow/idempotency-key"

// CallParams is one tool call.
type CallParams struct {
	Server string
	Tool   string
	// Arguments is a JSON object; empty means {}.
	Arguments json.RawMessage
	// IdempotencyKey, when set, travels in the call's _meta under
	// IdempotencyMetaKey, and in the tool's idempotency argument when the
	// tool declares one and the arguments leave it unset. A tool that
	// declares that it honours keys makes the call safe to send again.
	IdempotencyKey string
}

// CallResult is a tool's successful answer and how it was reached.
type CallResult struct {
	// Structured is the result's structuredContent (nil when the tool
	// gave none), Text its text content joined with newlines.
	Structured any
	Text       string
	// Endpoint is the replica that answered and ProtocolVersion the
	// version its session speaks.
	Endpoint        string
	ProtocolVersion string
	// Attempts counts the calls sent, from 1; Failovers the endpoints
	// passed over because they could not be reached.
	Attempts  int
	Failovers int
	Latency   time.Duration
}

// Output is what a step returns for the result: the structured content,
// else the text parsed as JSON, else the text.
func (r *CallResult) Output() any {
	if r.Structured != nil {
		return r.Structured
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(r.Text))
	dec.UseNumber()
	if dec.Decode(&v) == nil && !dec.More() {
		return v
	}
	return r.Text
}

// Call calls a tool: it checks that the tool exists and is approved,
// validates the arguments against its input schema, and sends the call to
// the first healthy endpoint, within the server's concurrency limit, call
// timeout and result cap. Its errors are *Error with the codes of Codes:
// the tool's isError result is MCP.ToolError with the tool's text as the
// message.
func (p *Pool) Call(ctx context.Context, cp CallParams) (*CallResult, error) {
	started := p.now()
	srv, ok := p.servers[cp.Server]
	if !ok {
		return nil, errorf(CodeUnknownTool, cp.Server, cp.Tool, nil, "no MCP server %q is configured (servers: %s)", cp.Server, strings.Join(p.Servers(), ", "))
	}
	srv.stats.calls.Add(1)
	res, err := p.call(ctx, srv, cp)
	switch code := CodeOf(err); {
	case err == nil:
		srv.stats.succeeded.Add(1)
		res.Latency = p.now().Sub(started)
	case code == CodeToolError:
		srv.stats.toolErrors.Add(1)
	case code == CodeTimeout:
		srv.stats.timeouts.Add(1)
		srv.stats.failed.Add(1)
	case code == CodeCircuitOpen:
		srv.stats.circuitRejections.Add(1)
		srv.stats.failed.Add(1)
	default:
		srv.stats.failed.Add(1)
	}
	return res, err
}

func (p *Pool) call(ctx context.Context, srv *server, cp CallParams) (*CallResult, error) {
	entry, err := p.tool(ctx, srv, cp.Tool)
	if err != nil {
		return nil, err
	}
	args := cp.Arguments
	if len(bytes.TrimSpace(args)) == 0 {
		args = json.RawMessage(`{}`)
	}
	var te *textgate.Error
	if errors.As(textgate.JSON(args), &te) {
		return nil, errorf(CodeInvalidArguments, srv.name, cp.Tool, te, "the arguments hold text that is refused (a NUL, invalid UTF-8 or a lone surrogate): %v", te)
	}
	if cp.IdempotencyKey != "" {
		args = entry.withKey(args, cp.IdempotencyKey)
	}
	if err := entry.validate(args); err != nil {
		return nil, errorf(CodeInvalidArguments, srv.name, cp.Tool, err, "the arguments do not fit the tool's input schema: %v", err)
	}
	params := &mcp.CallToolParams{Name: cp.Tool, Arguments: args}
	if cp.IdempotencyKey != "" {
		params.Meta = mcp.Meta{IdempotencyMetaKey: cp.IdempotencyKey}
	}
	params.Meta = withCaller(ctx, params.Meta)
	safe := entry.retrySafe(cp.IdempotencyKey != "", args)

	select {
	case srv.sem <- struct{}{}:
		defer func() { <-srv.sem }()
	case <-ctx.Done():
		return nil, ctxError(srv, cp.Tool, ctx, "waiting for a free slot of the server's max_concurrency")
	}

	var res *mcp.CallToolResult
	out := &CallResult{}
	err = p.do(ctx, srv, cp.Tool, safe, out, func(ctx context.Context, cs *mcp.ClientSession) error {
		cctx, cancel := context.WithTimeout(ctx, srv.callTimeout)
		defer cancel()
		r, err := cs.CallTool(cctx, params)
		if err != nil && cctx.Err() != nil && ctx.Err() == nil {
			return &callTimeout{after: srv.callTimeout, err: err}
		}
		res = r
		return err
	})
	if err != nil {
		return nil, err
	}
	size, err := json.Marshal(res)
	if err != nil {
		return nil, errorf(CodeToolError, srv.name, cp.Tool, err, "encoding the tool's result: %v", err)
	}
	if len(size) > srv.maxResult {
		return nil, errorf(CodeResultTooLarge, srv.name, cp.Tool, nil, "the result has %d bytes; the server's max_result_bytes is %d", len(size), srv.maxResult)
	}
	var text []string
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			text = append(text, t.Text)
		}
	}
	out.Text = strings.Join(text, "\n")
	out.Structured = res.StructuredContent
	if res.IsError {
		msg := out.Text
		if msg == "" {
			msg = "the tool reported an error without text"
		}
		return nil, errorf(CodeToolError, srv.name, cp.Tool, nil, "%s", msg)
	}
	return out, nil
}

// callTimeout is a call that ran out of the server's call timeout.
type callTimeout struct {
	after time.Duration
	err   error
}

func (c *callTimeout) Error() string {
	return fmt.Sprintf("no answer within the call timeout of %s: %v", c.after, c.err)
}

func (c *callTimeout) Unwrap() error { return c.err }

// answered reports whether err is the server's own answer (a JSON-RPC
// error response), which proves it up.
func answered(err error) bool {
	if errors.Is(err, mcp.ErrConnectionClosed) || errors.Is(err, mcp.ErrSessionMissing) {
		return false
	}
	var we *jsonrpc.Error
	if !errors.As(err, &we) {
		return false
	}
	switch we.Code {
	case -32003, -32004, -32005: // the client or server closing, the transport refusing
		return false
	}
	return true
}

func ctxError(srv *server, tool string, ctx context.Context, doing string) *Error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errorf(CodeTimeout, srv.name, tool, ctx.Err(), "the step's deadline passed while %s", doing)
	}
	return errorf(CodeTimeout, srv.name, tool, context.Cause(ctx), "cancelled while %s: %v", doing, context.Cause(ctx))
}

// do runs fn on a session of srv: on the first endpoint in order() that
// can be reached, again after a backoff when the session broke and safe
// says sending again does no harm, at most the server's max_attempts
// times. out receives the endpoint and counts.
func (p *Pool) do(ctx context.Context, srv *server, tool string, safe bool, out *CallResult, fn func(context.Context, *mcp.ClientSession) error) error {
	if p.closed.Load() {
		return errorf(CodeUnavailable, srv.name, tool, nil, "the MCP pool is closed")
	}
	var last error
	for attempt := 0; attempt < srv.attempts; attempt++ {
		if attempt > 0 {
			srv.stats.retries.Add(1)
			p.emit(Event{Type: EventRetry, Server: srv.name, Tool: tool, Message: fmt.Sprintf("attempt %d after: %v", attempt+1, last)})
			if err := p.sleep(ctx, p.backoff(attempt-1)); err != nil {
				return ctxError(srv, tool, ctx, "waiting to try again after: "+last.Error())
			}
		}
		allOpen := true
		for i, ep := range srv.order() {
			if i > 0 {
				out.Failovers++
				srv.stats.failovers.Add(1)
				p.emit(Event{Type: EventFailover, Server: srv.name, Endpoint: ep.name, Tool: tool, Message: "after: " + last.Error()})
			}
			cs, err := ep.session(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return ctxError(srv, tool, ctx, "connecting to "+ep.name)
				}
				if !errors.Is(err, gobreaker.ErrOpenState) && !errors.Is(err, gobreaker.ErrTooManyRequests) {
					allOpen = false
				}
				last = fmt.Errorf("%s: %w", ep.name, err)
				continue // nothing was sent: the next endpoint may take it
			}
			out.Attempts++
			err = ep.execute(ctx, func() error { return fn(ctx, cs) })
			var ct *callTimeout
			if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
				// The circuit opened (or its one half-open trial is taken)
				// since the session was open: nothing was sent.
				out.Attempts--
				last = fmt.Errorf("%s: %w", ep.name, err)
				continue
			}
			allOpen = false
			switch {
			case err == nil:
				out.Endpoint = ep.name
				ep.mu.Lock()
				out.ProtocolVersion = ep.version
				ep.mu.Unlock()
				return nil
			case answered(err):
				var we *jsonrpc.Error
				errors.As(err, &we)
				if we.Code == UnavailableErrorCode {
					return errorf(CodeUnavailable, srv.name, tool, err, "the server is up but cannot serve the call now: %s", we.Message)
				}
				if we.Code == jsonrpc.CodeInvalidParams {
					return errorf(CodeInvalidArguments, srv.name, tool, err, "the server refused the arguments: %s", we.Message)
				}
				return errorf(CodeToolError, srv.name, tool, err, "the server answered with error %d: %s", we.Code, we.Message)
			case errors.As(err, &ct):
				return errorf(CodeTimeout, srv.name, tool, err, "%s gave %v", ep.name, ct)
			case ctx.Err() != nil:
				return ctxError(srv, tool, ctx, "calling "+ep.name)
			}
			// The session broke with the call in flight: it may or may not
			// have run.
			ep.drop(cs, err)
			last = fmt.Errorf("%s: %w", ep.name, err)
			if !safe {
				return errorf(CodeUnavailable, srv.name, tool, err,
					"the session to %s broke during the call (%v); it is not sent again because the tool is neither read-only nor idempotent and the call carries no idempotency key the server honours", ep.name, err)
			}
			break
		}
		if allOpen {
			return errorf(CodeCircuitOpen, srv.name, tool, last, "the circuit of every endpoint is open: %v", last)
		}
	}
	return errorf(CodeUnavailable, srv.name, tool, last, "no endpoint answered after %d attempts: %v", srv.attempts, last)
}
