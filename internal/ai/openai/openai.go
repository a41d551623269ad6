// Package openai is the ai.Provider of OpenAI's Chat Completions API (and
// of any server that speaks it), through the official openai-go SDK.
//
// It translates an ai.Request into a chat completion: the system prompt as a
// system message, tool results as "tool" messages, tools as functions, the
// sampling parameters (max tokens as max_completion_tokens), and an output
// schema as the json_schema response format. The format is strict when the
// schema meets the rules of OpenAI's strict mode (every object lists all its
// properties as required and sets additionalProperties to false); otherwise
// it is sent with strict false, since strict mode would reject the request,
// and the step validates the answer itself as it does for every provider.
//
// The SDK's own retries are off: ai.Retrier retries, once, for every
// provider. Errors are *ai.Error: the HTTP status maps through
// ai.CodeForStatus, Retry-After and retry-after-ms become RetryAfter, an
// error code of content_filter (or content_policy_violation) is
// AI.ContentFiltered, ctx's deadline AI.Timeout, and a failed connection
// AI.Unavailable.
package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/param"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"

	"github.com/aiflow/aiflow/internal/ai"
)

// Name is the provider's name, as workflows write it before the model
// ("openai/gpt-4.1-mini").
const Name = "openai"

// DefaultBaseURL is OpenAI's API, where the SDK goes when neither
// Options.BaseURL nor OPENAI_BASE_URL is set.
const DefaultBaseURL = "https://api.openai.com/v1/"

// Options configures New.
type Options struct {
	// APIKey is the key sent as a bearer token; empty means the SDK's
	// default, the OPENAI_API_KEY variable.
	APIKey string
	// BaseURL is where the API is; empty means the SDK's default, the
	// OPENAI_BASE_URL variable and then DefaultBaseURL.
	BaseURL string
	// HTTPClient makes the requests; nil means the SDK's default.
	HTTPClient *http.Client
	// NowFunc tells the time, to read a Retry-After given as a date; nil
	// means time.Now.
	NowFunc func() time.Time
}

// Provider calls the Chat Completions API. It is safe for concurrent use.
type Provider struct {
	client sdk.Client
	now    func() time.Time
}

var _ ai.Provider = (*Provider)(nil)

// New returns a provider configured by opts. Options left empty take the
// SDK's defaults, which read OPENAI_API_KEY and OPENAI_BASE_URL (this
// package reads no environment itself: a function's key and base URL come
// from its configuration, config.AIStep). A missing key is not an error
// here: the API refuses the call with AI.Auth.
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
	now := opts.NowFunc
	if now == nil {
		now = time.Now
	}
	return &Provider{client: sdk.NewClient(reqOpts...), now: now}
}

// Name returns "openai".
func (p *Provider) Name() string { return Name }

// Generate makes one chat completion. Its errors are *ai.Error.
func (p *Provider) Generate(ctx context.Context, req ai.Request) (ai.Response, error) {
	params, err := newParams(req)
	if err != nil {
		return ai.Response{}, err
	}
	cc, err := p.client.Chat.Completions.New(ctx, params)
	if err != nil {
		return ai.Response{}, p.translate(ctx, err)
	}
	return response(cc)
}

// Stream makes one streamed chat completion, handing each piece of text to
// onDelta as it arrives and stopping with onDelta's error if it returns
// one. It asks for the usage chunk, so its response counts tokens as
// Generate's does. Its other errors are *ai.Error.
func (p *Provider) Stream(ctx context.Context, req ai.Request, onDelta func(ai.Delta) error) (ai.Response, error) {
	params, err := newParams(req)
	if err != nil {
		return ai.Response{}, err
	}
	params.StreamOptions = sdk.ChatCompletionStreamOptionsParam{IncludeUsage: param.NewOpt(true)}
	stream := p.client.Chat.Completions.NewStreaming(ctx, params)
	defer stream.Close()
	var acc sdk.ChatCompletionAccumulator
	for stream.Next() {
		chunk := stream.Current()
		if !acc.AddChunk(chunk) {
			return ai.Response{}, &ai.Error{Code: ai.CodeUnavailable, Provider: Name, Message: "the stream sent a chunk out of order"}
		}
		for _, choice := range chunk.Choices {
			if choice.Index != 0 {
				continue
			}
			// A refusal streams like text and stands for it (see response).
			for _, text := range []string{choice.Delta.Content, choice.Delta.Refusal} {
				if text == "" {
					continue
				}
				if err := onDelta(ai.Delta{Text: text}); err != nil {
					return ai.Response{}, err
				}
			}
		}
	}
	if err := stream.Err(); err != nil {
		return ai.Response{}, p.translate(ctx, err)
	}
	return response(&acc.ChatCompletion)
}

// newParams translates req into the SDK's request.
func newParams(req ai.Request) (sdk.ChatCompletionNewParams, error) {
	params := sdk.ChatCompletionNewParams{Model: shared.ChatModel(req.Model)}
	if req.System != "" {
		params.Messages = append(params.Messages, sdk.SystemMessage(req.System))
	}
	for i, m := range req.Messages {
		msgs, err := messages(m)
		if err != nil {
			return params, invalid("message %d: %v", i, err)
		}
		params.Messages = append(params.Messages, msgs...)
	}
	for _, t := range req.Tools {
		schema, err := object(t.InputSchema)
		if err != nil {
			return params, invalid("tool %s: input schema: %v", t.Name, err)
		}
		def := shared.FunctionDefinitionParam{Name: t.Name, Parameters: schema}
		if t.Description != "" {
			def.Description = param.NewOpt(t.Description)
		}
		params.Tools = append(params.Tools, sdk.ChatCompletionFunctionTool(def))
	}
	if req.Temperature != nil {
		params.Temperature = param.NewOpt(*req.Temperature)
	}
	if req.TopP != nil {
		params.TopP = param.NewOpt(*req.TopP)
	}
	if req.MaxTokens > 0 {
		params.MaxCompletionTokens = param.NewOpt(int64(req.MaxTokens))
	}
	if len(req.StopSequences) > 0 {
		params.Stop = sdk.ChatCompletionNewParamsStopUnion{OfStringArray: req.StopSequences}
	}
	if out := req.Output; out != nil {
		schema, err := object(out.Schema)
		if err != nil {
			return params, invalid("output schema: %v", err)
		}
		params.ResponseFormat = sdk.ChatCompletionNewParamsResponseFormatUnion{
			OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
				JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{
					Name:   schemaName(out.Name),
					Schema: schema,
					Strict: param.NewOpt(Strict(schema)),
				},
			},
		}
	}
	return params, nil
}

// messages translates one message. A user message's tool results become
// "tool" messages, ahead of its text, so they follow the assistant message
// whose calls they answer, as the API requires.
func messages(m ai.Message) ([]sdk.ChatCompletionMessageParamUnion, error) {
	var text []string
	switch m.Role {
	case ai.RoleUser:
		var out []sdk.ChatCompletionMessageParamUnion
		for _, part := range m.Content {
			switch {
			case part.ToolResult != nil:
				content := part.ToolResult.Content
				if part.ToolResult.IsError {
					// Chat Completions has no error flag on a tool
					// message; the model reads it in the text.
					content = "Error: " + content
				}
				out = append(out, sdk.ToolMessage(content, part.ToolResult.CallID))
			case part.ToolCall != nil:
				return nil, errors.New("a user message holds a tool call")
			default:
				text = append(text, part.Text)
			}
		}
		if len(text) > 0 {
			out = append(out, sdk.UserMessage(strings.Join(text, "\n")))
		}
		return out, nil
	case ai.RoleAssistant:
		var msg sdk.ChatCompletionAssistantMessageParam
		for _, part := range m.Content {
			switch {
			case part.ToolCall != nil:
				args := string(part.ToolCall.Arguments)
				if args == "" {
					args = "{}"
				}
				msg.ToolCalls = append(msg.ToolCalls, sdk.ChatCompletionMessageToolCallUnionParam{
					OfFunction: &sdk.ChatCompletionMessageFunctionToolCallParam{
						ID:       part.ToolCall.ID,
						Function: sdk.ChatCompletionMessageFunctionToolCallFunctionParam{Name: part.ToolCall.Name, Arguments: args},
					},
				})
			case part.ToolResult != nil:
				return nil, errors.New("an assistant message holds a tool result")
			default:
				text = append(text, part.Text)
			}
		}
		if len(text) > 0 {
			msg.Content.OfString = param.NewOpt(strings.Join(text, "\n"))
		}
		return []sdk.ChatCompletionMessageParamUnion{{OfAssistant: &msg}}, nil
	default:
		return nil, fmt.Errorf("unknown role %q", m.Role)
	}
}

func object(raw json.RawMessage) (map[string]any, error) {
	if len(raw) == 0 {
		return map[string]any{"type": "object", "properties": map[string]any{}}, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("decoding JSON schema object: %w", err)
	}
	return m, nil
}

var nameUnsafe = regexp.MustCompile(`[^a-zA-Z0-9_-]`)

// schemaName fits a name to the response format's rule:
// ^[a-zA-Z0-9_-]{1,64}$.
func schemaName(name string) string {
	name = nameUnsafe.ReplaceAllString(name, "_")
	if name == "" {
		return "output"
	}
	return name[:min(len(name), 64)]
}

// Strict reports whether a JSON schema meets the object rules of OpenAI's
// strict structured outputs: every object schema, at any depth, sets
// additionalProperties to false and lists every property as required.
func Strict(schema map[string]any) bool {
	ok := true
	var walk func(v any)
	walk = func(v any) {
		switch s := v.(type) {
		case map[string]any:
			if props, isObj := s["properties"].(map[string]any); isObj || s["type"] == "object" {
				if s["additionalProperties"] != false {
					ok = false
				}
				req, _ := s["required"].([]any)
				if len(req) != len(props) {
					ok = false
				}
				for _, r := range req {
					name, _ := r.(string)
					if _, found := props[name]; !found {
						ok = false
					}
				}
			}
			for _, sub := range s {
				walk(sub)
			}
		case []any:
			for _, sub := range s {
				walk(sub)
			}
		}
	}
	walk(schema)
	return ok
}

// response translates the first choice of a completion.
func response(cc *sdk.ChatCompletion) (ai.Response, error) {
	if len(cc.Choices) == 0 {
		return ai.Response{}, &ai.Error{Code: ai.CodeUnavailable, Provider: Name, Message: "the completion has no choices"}
	}
	choice := cc.Choices[0]
	resp := ai.Response{
		Text:       choice.Message.Content,
		StopReason: stopReason(choice.FinishReason),
		Usage:      ai.Usage{InputTokens: int(cc.Usage.PromptTokens), OutputTokens: int(cc.Usage.CompletionTokens)},
		Model:      cc.Model,
	}
	if choice.Message.Refusal != "" {
		// A refusal stands instead of the answer (structured outputs
		// send one when the model declines).
		resp.Text = choice.Message.Refusal
		resp.StopReason = ai.StopContentFiltered
	}
	for _, tc := range choice.Message.ToolCalls {
		if tc.Type != "" && tc.Type != "function" {
			continue
		}
		args := json.RawMessage(tc.Function.Arguments)
		switch {
		case len(args) == 0:
			args = json.RawMessage("{}")
		case !json.Valid(args):
			// The model wrote broken JSON: pass it on as a string, so the
			// step's argument check tells the model what went wrong.
			args, _ = json.Marshal(tc.Function.Arguments)
		}
		resp.ToolCalls = append(resp.ToolCalls, ai.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: args})
	}
	return resp, nil
}

func stopReason(finish string) ai.StopReason {
	switch finish {
	case "length":
		return ai.StopMaxTokens
	case "tool_calls", "function_call":
		return ai.StopToolUse
	case "content_filter":
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

// translate turns the SDK's error into an *ai.Error.
func (p *Provider) translate(ctx context.Context, err error) *ai.Error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		code, msg := ai.CodeUnavailable, "call cancelled"
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			code, msg = ai.CodeTimeout, "deadline exceeded"
		}
		return &ai.Error{Code: code, Provider: Name, Message: msg, Err: errors.Join(ctxErr, err)}
	}
	var apiErr *sdk.Error
	if errors.As(err, &apiErr) {
		e := &ai.Error{
			Code:       ai.CodeForStatus(apiErr.StatusCode),
			Provider:   Name,
			Message:    apiErr.Message,
			StatusCode: apiErr.StatusCode,
			Err:        err,
		}
		if e.Message == "" {
			e.Message = http.StatusText(apiErr.StatusCode)
		}
		if isContentFilter(apiErr.Code) {
			e.Code = ai.CodeContentFiltered
		}
		if apiErr.Response != nil {
			e.RetryAfter = ai.RetryAfter(apiErr.Response.Header, p.now())
		}
		return e
	}
	var streamErr *ssestream.StreamError
	if errors.As(err, &streamErr) {
		return streamError(streamErr)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &ai.Error{Code: ai.CodeTimeout, Provider: Name, Message: "deadline exceeded", Err: err}
	}
	return &ai.Error{Code: ai.CodeUnavailable, Provider: Name, Message: "calling the API: " + err.Error(), Err: err}
}

func isContentFilter(code string) bool {
	return code == "content_filter" || code == "content_policy_violation"
}

// streamError translates an error event in the middle of a stream, which
// carries the API's error object but no status.
func streamError(se *ssestream.StreamError) *ai.Error {
	var body struct {
		Error struct {
			Message string `json:"message"`
			Type    string `json:"type"`
			Code    any    `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(se.Event.Data, &body)
	code := fmt.Sprint(body.Error.Code)
	e := &ai.Error{Code: ai.CodeUnavailable, Provider: Name, Message: body.Error.Message, Err: se}
	if e.Message == "" {
		e.Message = se.Message
	}
	switch {
	case isContentFilter(code):
		e.Code = ai.CodeContentFiltered
	case code == "rate_limit_exceeded" || body.Error.Type == "rate_limit_error" || body.Error.Type == "requests" || body.Error.Type == "tokens":
		e.Code = ai.CodeThrottled
	case body.Error.Type == "invalid_request_error":
		e.Code = ai.CodeInvalidRequest
	}
	return e
}
