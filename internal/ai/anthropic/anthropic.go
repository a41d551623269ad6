// Package anthropic is the ai.Provider for Anthropic's Messages API, through
// a small client of aiflow's own that speaks the API's documented wire
// format (POST /v1/messages, answered by a message object or, when streamed,
// by the server-sent events message_start, content_block_start,
// content_block_delta, content_block_stop, message_delta, message_stop, ping
// and error): requests and answers translated to and from ai's
// provider-neutral types, and the API's failures translated into ai's named
// errors.
package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/ai"
)

// Name is the provider's name in a workflow's model reference
// ("anthropic/<model>") and in its errors.
const Name = "anthropic"

// DefaultMaxTokens is the answer's token limit when a request sets none: the
// Messages API requires one.
const DefaultMaxTokens = 4096

// DefaultBaseURL is Anthropic's API, where the provider goes when neither
// Options.BaseURL nor ANTHROPIC_BASE_URL is set.
const DefaultBaseURL = "https://api.anthropic.com/"

// APIVersion is the anthropic-version header every request carries.
const APIVersion = "2026-10-21"

// Options configure a Provider. The zero value talks to the Anthropic API with
// the key in ANTHROPIC_API_KEY (else the token in ANTHROPIC_AUTH_TOKEN) at the
// address in ANTHROPIC_BASE_URL, if set.
type Options struct {
	// APIKey is the key sent with every request. Empty means
	// ANTHROPIC_API_KEY, then ANTHROPIC_AUTH_TOKEN.
	APIKey string
	// BaseURL is the API's address. Empty means ANTHROPIC_BASE_URL, else
	// DefaultBaseURL.
	BaseURL string
	// HTTPClient makes the requests; nil means a client of its own whose
	// transport waits at most 10 minutes for a response's headers (a
	// stream's body may take longer).
	HTTPClient *http.Client
	// MaxTokens replaces a request's zero MaxTokens; zero means
	// DefaultMaxTokens.
	MaxTokens int
}

// Provider calls Anthropic's Messages API. It is safe for concurrent use.
type Provider struct {
	client    *client
	maxTokens int
}

var _ ai.Provider = (*Provider)(nil)

// New returns a Provider configured by opts. It makes one request per call:
// retrying belongs to ai.Retrier, which sees every attempt.
func New(opts Options) *Provider {
	maxTokens := opts.MaxTokens
	if maxTokens <= 0 {
		maxTokens = DefaultMaxTokens
	}
	return &Provider{client: newClient(opts), maxTokens: maxTokens}
}

// Name returns "anthropic".
func (p *Provider) Name() string { return Name }

// Generate makes one Messages API call and returns the whole answer. It
// returns an *ai.Error for every failure.
func (p *Provider) Generate(ctx context.Context, req ai.Request) (ai.Response, error) {
	body, err := p.params(req)
	if err != nil {
		return ai.Response{}, err
	}
	// A call that is not streamed waits for the whole answer: Anthropic's
	// SDKs give it ten minutes and ask for a stream past that (an hour for
	// 128,000 tokens).
	if expected := time.Duration(float64(time.Hour) * float64(body.MaxTokens) / 128000); expected > nonStreamingTimeout {
		return ai.Response{}, ai.InvalidRequestf(Name, "max tokens %d may take longer than 10 minutes to generate: use a streamed call", body.MaxTokens)
	}
	callCtx, cancel := context.WithTimeout(ctx, nonStreamingTimeout)
	defer cancel()
	res, err := p.client.post(callCtx, body)
	if err != nil {
		return ai.Response{}, translate(ctx, err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		return ai.Response{}, statusError(ctx, res)
	}
	var msg wireMessage
	if err := json.NewDecoder(res.Body).Decode(&msg); err != nil {
		if callCtx.Err() != nil {
			return ai.Response{}, translate(ctx, errors.Join(callCtx.Err(), err))
		}
		return ai.Response{}, &ai.Error{Code: ai.CodeUnavailable, Provider: Name, StatusCode: res.StatusCode,
			Message: "decoding the message: " + err.Error(), Err: err}
	}
	return response(&msg)
}

// nonStreamingTimeout bounds a call that is not streamed.
const nonStreamingTimeout = 10 * time.Minute

// Stream makes one streaming Messages API call, calls onDelta with each
// piece of text as it arrives, and returns the same answer Generate would.
// It stops with onDelta's error if onDelta returns one, and returns an
// *ai.Error for every other failure.
func (p *Provider) Stream(ctx context.Context, req ai.Request, onDelta func(ai.Delta) error) (ai.Response, error) {
	body, err := p.params(req)
	if err != nil {
		return ai.Response{}, err
	}
	body.Stream = true
	res, err := p.client.post(ctx, body)
	if err != nil {
		return ai.Response{}, translate(ctx, err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		return ai.Response{}, statusError(ctx, res)
	}
	var acc accumulator
	events := ai.NewEventReader(res.Body)
	for !acc.stopped {
		ev, err := events.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return ai.Response{}, translate(ctx, err)
			}
			return ai.Response{}, &ai.Error{Code: ai.CodeUnavailable, Provider: Name,
				Message: fmt.Sprintf("reading the answer stream (after %d events): %v", events.Events(), err), Err: err}
		}
		text, err := acc.add(ev)
		if err != nil {
			var e *ai.Error
			if errors.As(err, &e) {
				return ai.Response{}, e
			}
			return ai.Response{}, ai.StreamError(Name, events.Events(), "%v", err)
		}
		if text != "" {
			if err := onDelta(ai.Delta{Text: text}); err != nil {
				return ai.Response{}, err
			}
		}
	}
	if !acc.stopped {
		return ai.Response{}, &ai.Error{Code: ai.CodeUnavailable, Provider: Name,
			Message: "the answer stream ended before message_stop"}
	}
	return response(&acc.msg)
}

// params translates req into the API's request. A request the API would
// refuse for its shape fails here with AI.InvalidRequest. Temperature and
// TopP are not sent (see below).
func (p *Provider) params(req ai.Request) (*messagesRequest, error) {
	if req.Model == "" {
		return nil, ai.InvalidRequestf(Name, "the request names no model")
	}
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = p.maxTokens
	}
	// Temperature and TopP are left out: API version 2026-10-21 has no
	// sampling parameters and answers 400 to any of them, so a step written
	// for several providers still runs here, at the model's own sampling.
	body := &messagesRequest{Model: req.Model, MaxTokens: maxTokens, StopSequences: req.StopSequences}
	if system := ai.SystemWithOutput(req.System, req.Output); system != "" {
		body.System = []textBlock{{Type: "text", Text: system}}
	}
	for i, m := range req.Messages {
		msg, err := message(m)
		if err != nil {
			return nil, ai.InvalidRequestf(Name, "message %d: %s", i, err)
		}
		body.Messages = append(body.Messages, msg)
	}
	for _, t := range req.Tools {
		tool, err := tool(t)
		if err != nil {
			return nil, ai.InvalidRequestf(Name, "tool %q: %s", t.Name, err)
		}
		body.Tools = append(body.Tools, tool)
	}
	return body, nil
}

func message(m ai.Message) (messageParam, error) {
	if m.Role != ai.RoleUser && m.Role != ai.RoleAssistant {
		return messageParam{}, fmt.Errorf("unknown role %q", m.Role)
	}
	blocks := make([]block, 0, len(m.Content))
	for j, part := range m.Content {
		switch {
		case part.ToolCall != nil:
			if m.Role != ai.RoleAssistant {
				return messageParam{}, fmt.Errorf("part %d: a tool call belongs in an assistant message", j)
			}
			args := part.ToolCall.Arguments
			if len(args) == 0 {
				args = json.RawMessage(`{}`)
			}
			if !json.Valid(args) {
				return messageParam{}, fmt.Errorf("part %d: the arguments of tool call %s are not JSON", j, part.ToolCall.ID)
			}
			blocks = append(blocks, block{Type: "tool_use", ID: part.ToolCall.ID, Name: part.ToolCall.Name, Input: args})
		case part.ToolResult != nil:
			if m.Role != ai.RoleUser {
				return messageParam{}, fmt.Errorf("part %d: a tool result belongs in a user message", j)
			}
			blocks = append(blocks, toolResult(part.ToolResult))
		case part.Text != "":
			blocks = append(blocks, block{Type: "text", Text: part.Text})
		}
	}
	// The API refuses empty text blocks, so they are left out; a message
	// left with nothing is refused here.
	if len(blocks) == 0 {
		return messageParam{}, errors.New("the message has no content")
	}
	return messageParam{Role: string(m.Role), Content: blocks}, nil
}

func toolResult(r *ai.ToolResult) block {
	b := block{Type: "tool_result", ToolUseID: r.CallID, IsError: r.IsError}
	// The API refuses an empty text block, so an empty result has no content.
	if r.Content != "" {
		b.Content = []textBlock{{Type: "text", Text: r.Content}}
	}
	return b
}

// tool translates a tool. Its input schema must be an object schema; its
// keywords pass through as written, and "type" is always "object".
func tool(t ai.Tool) (toolParam, error) {
	schema := map[string]json.RawMessage{}
	if len(t.InputSchema) > 0 {
		if err := json.Unmarshal(t.InputSchema, &schema); err != nil {
			return toolParam{}, fmt.Errorf("decoding the input schema: %w", err)
		}
	}
	if raw, ok := schema["type"]; ok {
		var typ any
		_ = json.Unmarshal(raw, &typ)
		if typ != "object" {
			return toolParam{}, fmt.Errorf("the input schema's type is %v, not object", typ)
		}
	}
	if raw, ok := schema["required"]; ok {
		var names []any
		if err := json.Unmarshal(raw, &names); err != nil {
			return toolParam{}, errors.New("the input schema's required is not an array")
		}
		for _, n := range names {
			if _, ok := n.(string); !ok {
				return toolParam{}, errors.New("the input schema's required holds a non-string")
			}
		}
	}
	schema["type"] = json.RawMessage(`"object"`)
	return toolParam{Name: t.Name, Description: t.Description, InputSchema: schema}, nil
}

// response translates the API's message into ai's answer.
func response(msg *wireMessage) (ai.Response, error) {
	resp := ai.Response{
		StopReason: stopReason(msg.StopReason),
		Model:      msg.Model,
		Usage: ai.Usage{
			InputTokens:  msg.Usage.InputTokens + msg.Usage.CacheCreationInputTokens + msg.Usage.CacheReadInputTokens,
			OutputTokens: msg.Usage.OutputTokens,
		},
	}
	var text strings.Builder
	for _, block := range msg.Content {
		switch block.Type {
		case "text":
			text.WriteString(block.Text)
		case "tool_use":
			args := block.Input
			if len(args) == 0 {
				args = json.RawMessage(`{}`)
			}
			if !json.Valid(args) {
				return ai.Response{}, &ai.Error{Code: ai.CodeUnavailable, Provider: Name,
					Message: fmt.Sprintf("the arguments of tool call %s are not valid JSON", block.ID)}
			}
			resp.ToolCalls = append(resp.ToolCalls, ai.ToolCall{ID: block.ID, Name: block.Name, Arguments: append(json.RawMessage(nil), args...)})
		}
	}
	resp.Text = text.String()
	return resp, nil
}

// stopReason maps the API's stop_reason. pause_turn (a server tool's long
// turn) ends this call like end_turn; running out of context is running out
// of tokens.
func stopReason(r string) ai.StopReason {
	switch r {
	case "tool_use":
		return ai.StopToolUse
	case "max_tokens", "model_context_window_exceeded":
		return ai.StopMaxTokens
	case "stop_sequence":
		return ai.StopSequence
	case "refusal":
		return ai.StopContentFiltered
	default:
		return ai.StopEndTurn
	}
}

// translate turns a failed call (no answer, or an answer cut short) into an
// *ai.Error: a missed deadline is AI.Timeout, anything else on the way
// (network, a cancelled call) AI.Unavailable.
func translate(ctx context.Context, err error) *ai.Error {
	var e *ai.Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &ai.Error{Code: ai.CodeTimeout, Provider: Name, Message: "the call passed its deadline", Err: errors.Join(ctx.Err(), err)}
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return &ai.Error{Code: ai.CodeUnavailable, Provider: Name, Message: "the call was cancelled", Err: errors.Join(ctx.Err(), err)}
	default:
		return &ai.Error{Code: ai.CodeUnavailable, Provider: Name, Message: "calling the API: " + err.Error(), Err: err}
	}
}

// codeForType maps the error type of an error event that arrives inside a
// stream, after the 200 status.
func codeForType(t string) ai.Code {
	switch t {
	case "rate_limit_error":
		return ai.CodeThrottled
	case "authentication_error", "permission_error":
		return ai.CodeAuth
	case "timeout_error":
		return ai.CodeTimeout
	case "invalid_request_error", "not_found_error", "billing_error":
		return ai.CodeInvalidRequest
	default:
		return ai.CodeUnavailable
	}
}
