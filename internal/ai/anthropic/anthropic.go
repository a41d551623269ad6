// Package anthropic is the ai.Provider for Anthropic's Messages API, through
// the official anthropic-sdk-go client: requests and answers translated to and
// from ai's provider-neutral types, the SSE stream, and the API's failures
// translated into ai's named errors.
package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/anthropics/anthropic-sdk-go/v2/shared"

	"github.com/aiflow/aiflow/internal/ai"
)

// Name is the provider's name in a workflow's model reference
// ("anthropic/<model>") and in its errors.
const Name = "anthropic"

// DefaultMaxTokens is the answer's token limit when a request sets none: the
// Messages API requires one.
const DefaultMaxTokens = 4096

// Options configure a Provider. The zero value talks to the Anthropic API with
// the key in ANTHROPIC_API_KEY (or the SDK's other credential sources) at the
// address in ANTHROPIC_BASE_URL, if set.
type Options struct {
	// APIKey is the key sent with every request. Empty means the SDK's
	// credential chain, ANTHROPIC_API_KEY first.
	APIKey string
	// BaseURL is the API's address. Empty means ANTHROPIC_BASE_URL, else
	// Anthropic's own.
	BaseURL string
	// HTTPClient makes the requests; nil means the SDK's default client.
	HTTPClient *http.Client
	// MaxTokens replaces a request's zero MaxTokens; zero means
	// DefaultMaxTokens.
	MaxTokens int
}

// Provider calls Anthropic's Messages API. It is safe for concurrent use.
type Provider struct {
	client    sdk.Client
	maxTokens int
}

// New returns a Provider configured by opts. The SDK's own retries are off:
// retrying belongs to ai.Retrier, which sees every attempt.
func New(opts Options) *Provider {
	reqOpts := []option.RequestOption{option.WithMaxRetries(0)}
	if opts.APIKey != "" {
		reqOpts = append(reqOpts, option.WithAPIKey(opts.APIKey))
	}
	if opts.BaseURL != "" {
		reqOpts = append(reqOpts, option.WithBaseURL(opts.BaseURL))
	}
	if opts.HTTPClient != nil {
		reqOpts = append(reqOpts, option.WithHTTPClient(opts.HTTPClient))
	}
	maxTokens := opts.MaxTokens
	if maxTokens <= 0 {
		maxTokens = DefaultMaxTokens
	}
	return &Provider{client: sdk.NewClient(reqOpts...), maxTokens: maxTokens}
}

// Name returns "anthropic".
func (p *Provider) Name() string { return Name }

// Generate makes one Messages API call and returns the whole answer. It
// returns an *ai.Error for every failure.
func (p *Provider) Generate(ctx context.Context, req ai.Request) (ai.Response, error) {
	params, err := p.params(req)
	if err != nil {
		return ai.Response{}, err
	}
	msg, err := p.client.Messages.New(ctx, params)
	if err != nil {
		return ai.Response{}, translate(ctx, err)
	}
	return response(msg)
}

// Stream makes one streaming Messages API call, calls onDelta with each
// piece of text as it arrives, and returns the same answer Generate would.
// It stops with onDelta's error if onDelta returns one, and returns an
// *ai.Error for every other failure.
func (p *Provider) Stream(ctx context.Context, req ai.Request, onDelta func(ai.Delta) error) (ai.Response, error) {
	params, err := p.params(req)
	if err != nil {
		return ai.Response{}, err
	}
	stream := p.client.Messages.NewStreaming(ctx, params)
	defer stream.Close()

	var msg sdk.Message
	stopped := false
	for stream.Next() {
		event := stream.Current()
		if err := msg.Accumulate(event); err != nil {
			return ai.Response{}, &ai.Error{Code: ai.CodeUnavailable, Provider: Name,
				Message: "reading the answer stream: " + err.Error(), Err: err}
		}
		switch event.Type {
		case "content_block_delta":
			if event.Delta.Type == "text_delta" && event.Delta.Text != "" {
				if err := onDelta(ai.Delta{Text: event.Delta.Text}); err != nil {
					return ai.Response{}, err
				}
			}
		case "message_stop":
			stopped = true
		}
	}
	if err := stream.Err(); err != nil {
		return ai.Response{}, translate(ctx, err)
	}
	if !stopped {
		return ai.Response{}, &ai.Error{Code: ai.CodeUnavailable, Provider: Name,
			Message: "the answer stream ended before message_stop"}
	}
	return response(&msg)
}

// params translates req into the SDK's request. A request the API would
// refuse for its shape fails here with AI.InvalidRequest. Temperature and
// TopP are not sent (see below).
func (p *Provider) params(req ai.Request) (sdk.MessageNewParams, error) {
	if req.Model == "" {
		return sdk.MessageNewParams{}, invalid("the request names no model")
	}
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = p.maxTokens
	}
	// Temperature and TopP are left out: the SDK speaks API version
	// 2026-10-21, which has no sampling parameters and answers 400 to any of
	// them, so a step written for several providers still runs here, at the
	// model's own sampling.
	params := sdk.MessageNewParams{
		Model:         sdk.Model(req.Model),
		MaxTokens:     int64(maxTokens),
		StopSequences: req.StopSequences,
	}
	if system := ai.SystemWithOutput(req.System, req.Output); system != "" {
		params.System = []sdk.TextBlockParam{{Text: system}}
	}
	for i, m := range req.Messages {
		msg, err := message(m)
		if err != nil {
			return sdk.MessageNewParams{}, invalid("message %d: %s", i, err)
		}
		params.Messages = append(params.Messages, msg)
	}
	for _, t := range req.Tools {
		tool, err := tool(t)
		if err != nil {
			return sdk.MessageNewParams{}, invalid("tool %q: %s", t.Name, err)
		}
		params.Tools = append(params.Tools, tool)
	}
	return params, nil
}

func message(m ai.Message) (sdk.MessageParam, error) {
	blocks := make([]sdk.ContentBlockParamUnion, 0, len(m.Content))
	for j, part := range m.Content {
		switch {
		case part.ToolCall != nil:
			if m.Role != ai.RoleAssistant {
				return sdk.MessageParam{}, fmt.Errorf("part %d: a tool call belongs in an assistant message", j)
			}
			args := part.ToolCall.Arguments
			if len(args) == 0 {
				args = json.RawMessage(`{}`)
			}
			blocks = append(blocks, sdk.NewToolUseBlock(part.ToolCall.ID, args, part.ToolCall.Name))
		case part.ToolResult != nil:
			if m.Role != ai.RoleUser {
				return sdk.MessageParam{}, fmt.Errorf("part %d: a tool result belongs in a user message", j)
			}
			blocks = append(blocks, toolResult(part.ToolResult))
		case part.Text != "":
			blocks = append(blocks, sdk.NewTextBlock(part.Text))
		}
	}
	// The API refuses empty text blocks, so they are left out; a message
	// left with nothing is refused here.
	if len(blocks) == 0 {
		return sdk.MessageParam{}, errors.New("the message has no content")
	}
	switch m.Role {
	case ai.RoleUser:
		return sdk.NewUserMessage(blocks...), nil
	case ai.RoleAssistant:
		return sdk.NewAssistantMessage(blocks...), nil
	default:
		return sdk.MessageParam{}, fmt.Errorf("unknown role %q", m.Role)
	}
}

func toolResult(r *ai.ToolResult) sdk.ContentBlockParamUnion {
	block := sdk.ToolResultBlockParam{ToolUseID: r.CallID}
	// The API refuses an empty text block, so an empty result has no content.
	if r.Content != "" {
		block.Content = []sdk.ToolResultBlockParamContentUnion{{OfText: &sdk.TextBlockParam{Text: r.Content}}}
	}
	if r.IsError {
		block.IsError = sdk.Bool(true)
	}
	return sdk.ContentBlockParamUnion{OfToolResult: &block}
}

func tool(t ai.Tool) (sdk.ToolUnionParam, error) {
	var schema map[string]any
	if len(t.InputSchema) > 0 {
		if err := json.Unmarshal(t.InputSchema, &schema); err != nil {
			return sdk.ToolUnionParam{}, fmt.Errorf("decoding the input schema: %w", err)
		}
	}
	var input sdk.ToolInputSchemaParam
	for k, v := range schema {
		switch k {
		case "type":
			if v != "object" {
				return sdk.ToolUnionParam{}, fmt.Errorf("the input schema's type is %v, not object", v)
			}
		case "properties":
			input.Properties = v
		case "required":
			names, ok := v.([]any)
			if !ok {
				return sdk.ToolUnionParam{}, errors.New("the input schema's required is not an array")
			}
			for _, n := range names {
				s, ok := n.(string)
				if !ok {
					return sdk.ToolUnionParam{}, errors.New("the input schema's required holds a non-string")
				}
				input.Required = append(input.Required, s)
			}
		default:
			if input.ExtraFields == nil {
				input.ExtraFields = map[string]any{}
			}
			input.ExtraFields[k] = v
		}
	}
	param := sdk.ToolParam{Name: t.Name, InputSchema: input}
	if t.Description != "" {
		param.Description = sdk.String(t.Description)
	}
	return sdk.ToolUnionParam{OfTool: &param}, nil
}

// response translates the API's message into ai's answer.
func response(msg *sdk.Message) (ai.Response, error) {
	resp := ai.Response{
		StopReason: stopReason(msg.StopReason),
		Model:      string(msg.Model),
		Usage: ai.Usage{
			InputTokens:  int(msg.Usage.InputTokens + msg.Usage.CacheCreationInputTokens + msg.Usage.CacheReadInputTokens),
			OutputTokens: int(msg.Usage.OutputTokens),
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
func stopReason(r sdk.StopReason) ai.StopReason {
	switch r {
	case sdk.StopReasonToolUse:
		return ai.StopToolUse
	case sdk.StopReasonMaxTokens, sdk.StopReasonModelContextWindowExceeded:
		return ai.StopMaxTokens
	case sdk.StopReasonStopSequence:
		return ai.StopSequence
	case sdk.StopReasonRefusal:
		return ai.StopContentFiltered
	default:
		return ai.StopEndTurn
	}
}

func invalid(format string, args ...any) *ai.Error {
	e := ai.Errorf(ai.CodeInvalidRequest, format, args...)
	e.Provider = Name
	return e
}

// translate turns an error of the SDK into an *ai.Error: the API's status (or,
// for an error event inside a stream, its error type) picks the code, a
// missing credential is AI.Auth, a missed deadline AI.Timeout, anything else
// on the way (network, a cancelled call) AI.Unavailable.
func translate(ctx context.Context, err error) *ai.Error {
	var apiErr *sdk.Error
	if errors.As(err, &apiErr) {
		e := &ai.Error{Provider: Name, Err: err}
		if apiErr.StatusCode >= 400 {
			e.Code, e.StatusCode = ai.CodeForStatus(apiErr.StatusCode), apiErr.StatusCode
		} else {
			e.Code = codeForType(apiErr.Type())
		}
		e.Message = apiMessage(apiErr)
		if apiErr.Response != nil {
			e.RetryAfter = ai.RetryAfter(apiErr.Response.Header, time.Now())
		}
		return e
	}
	switch {
	// The SDK's error for a client without a credential is internal to it;
	// its text is all there is to know it by.
	case strings.Contains(err.Error(), "no Anthropic credentials found"):
		return &ai.Error{Code: ai.CodeAuth, Provider: Name, Message: "no Anthropic API key: set ANTHROPIC_API_KEY or pass the key", Err: err}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &ai.Error{Code: ai.CodeTimeout, Provider: Name, Message: "the call passed its deadline", Err: err}
	case errors.Is(err, context.Canceled):
		return &ai.Error{Code: ai.CodeUnavailable, Provider: Name, Message: "the call was cancelled", Err: err}
	default:
		return &ai.Error{Code: ai.CodeUnavailable, Provider: Name, Message: "calling the API: " + err.Error(), Err: err}
	}
}

// codeForType maps the error type of an error event that arrives inside a
// stream, after the 200 status.
func codeForType(t shared.ErrorType) ai.Code {
	switch t {
	case shared.ErrorTypeRateLimitError:
		return ai.CodeThrottled
	case shared.ErrorTypeAuthenticationError, shared.ErrorTypePermissionError:
		return ai.CodeAuth
	case shared.ErrorTypeTimeoutError:
		return ai.CodeTimeout
	case shared.ErrorTypeInvalidRequestError, shared.ErrorTypeNotFoundError, shared.ErrorTypeBillingError:
		return ai.CodeInvalidRequest
	default:
		return ai.CodeUnavailable
	}
}

// apiMessage is the API's own explanation, which names what was wrong and
// never holds the key.
func apiMessage(e *sdk.Error) string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	if t := e.Type(); t != "" {
		msg = string(t) + ": " + msg
	}
	if e.StatusCode >= 400 {
		msg = fmt.Sprintf("%d %s", e.StatusCode, msg)
	}
	return msg
}
