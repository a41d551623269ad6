package openai

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/aiflow/aiflow/internal/ai"
)

// The request body of POST /chat/completions, as the API reference
// documents it; only the fields an ai.Request fills.
type chatRequest struct {
	Model               string          `json:"model"`
	Messages            []chatMessage   `json:"messages"`
	Tools               []chatTool      `json:"tools,omitempty"`
	Temperature         *float64        `json:"temperature,omitempty"`
	TopP                *float64        `json:"top_p,omitempty"`
	MaxCompletionTokens int             `json:"max_completion_tokens,omitempty"`
	Stop                []string        `json:"stop,omitempty"`
	ResponseFormat      *responseFormat `json:"response_format,omitempty"`
	Stream              bool            `json:"stream,omitempty"`
	StreamOptions       *streamOptions  `json:"stream_options,omitempty"`
}

type chatMessage struct {
	Role       string         `json:"role"`
	Content    *string        `json:"content,omitempty"`
	ToolCalls  []wireToolCall `json:"tool_calls,omitempty"`
	ToolCallID string         `json:"tool_call_id,omitempty"`
}

type wireToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function wireFunction `json:"function"`
}

type wireFunction struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type chatTool struct {
	Type     string             `json:"type"`
	Function functionDefinition `json:"function"`
}

type functionDefinition struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters"`
}

type responseFormat struct {
	Type       string     `json:"type"`
	JSONSchema jsonSchema `json:"json_schema"`
}

type jsonSchema struct {
	Name   string          `json:"name"`
	Strict bool            `json:"strict"`
	Schema json.RawMessage `json:"schema"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// completion is the chat.completion object, and what a stream's chunks
// add up to.
type completion struct {
	ID      string   `json:"id"`
	Model   string   `json:"model"`
	Choices []choice `json:"choices"`
	Usage   usage    `json:"usage"`
}

type choice struct {
	Index        int     `json:"index"`
	Message      message `json:"message"`
	FinishReason string  `json:"finish_reason"`
}

type message struct {
	Content   string         `json:"content"`
	Refusal   string         `json:"refusal"`
	ToolCalls []wireToolCall `json:"tool_calls"`
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// chunk is one chat.completion.chunk of a stream, or the error object the
// API sends in its place when the answer fails after the 200 status.
type chunk struct {
	ID      string          `json:"id"`
	Model   string          `json:"model"`
	Choices []chunkChoice   `json:"choices"`
	Usage   *usage          `json:"usage"`
	Error   json.RawMessage `json:"error"`
}

type chunkChoice struct {
	Index        int    `json:"index"`
	FinishReason string `json:"finish_reason"`
	Delta        struct {
		Content   string `json:"content"`
		Refusal   string `json:"refusal"`
		ToolCalls []struct {
			Index    int          `json:"index"`
			ID       string       `json:"id"`
			Type     string       `json:"type"`
			Function wireFunction `json:"function"`
		} `json:"tool_calls"`
	} `json:"delta"`
}

// maxToolCallGap bounds how far past the tool calls seen so far a chunk's
// tool-call index may jump, so a broken stream cannot make the
// accumulator allocate without end.
const maxToolCallGap = 128

// accumulator puts a stream's chunks together into the completion they
// stand for: the first choice's text and refusal appended, its tool calls
// by their index (id and type as given, name and arguments appended), its
// finish reason, the usage chunk's counts, the model.
type accumulator struct {
	cc       completion
	finished bool
	done     bool
}

// add adds c to the completion and returns the pieces of text to deliver
// (content, then refusal, which stands for the text; see response).
func (a *accumulator) add(c *chunk) ([]string, error) {
	if a.cc.ID != "" && c.ID != "" && c.ID != a.cc.ID {
		return nil, fmt.Errorf("a chunk of completion %q arrived in the stream of %q", c.ID, a.cc.ID)
	}
	if a.cc.ID == "" {
		a.cc.ID = c.ID
	}
	if c.Model != "" {
		a.cc.Model = c.Model
	}
	if c.Usage != nil {
		a.cc.Usage.PromptTokens += c.Usage.PromptTokens
		a.cc.Usage.CompletionTokens += c.Usage.CompletionTokens
	}
	var texts []string
	for i := range c.Choices {
		ch := &c.Choices[i]
		if ch.Index != 0 {
			// Only the first choice is asked for (n is never sent).
			continue
		}
		if len(a.cc.Choices) == 0 {
			a.cc.Choices = append(a.cc.Choices, choice{})
		}
		out := &a.cc.Choices[0]
		if ch.FinishReason != "" {
			out.FinishReason = ch.FinishReason
			a.finished = true
		}
		for _, text := range []string{ch.Delta.Content, ch.Delta.Refusal} {
			if text != "" {
				texts = append(texts, text)
			}
		}
		out.Message.Content += ch.Delta.Content
		out.Message.Refusal += ch.Delta.Refusal
		for _, tc := range ch.Delta.ToolCalls {
			if tc.Index < 0 || tc.Index >= len(out.Message.ToolCalls)+maxToolCallGap {
				return nil, fmt.Errorf("a tool call's index %d is out of range (%d tool calls so far)", tc.Index, len(out.Message.ToolCalls))
			}
			for len(out.Message.ToolCalls) <= tc.Index {
				out.Message.ToolCalls = append(out.Message.ToolCalls, wireToolCall{})
			}
			call := &out.Message.ToolCalls[tc.Index]
			if tc.ID != "" {
				call.ID = tc.ID
			}
			if tc.Type != "" {
				call.Type = tc.Type
			}
			call.Function.Name += tc.Function.Name
			call.Function.Arguments += tc.Function.Arguments
		}
	}
	return texts, nil
}

// newRequest translates req into the API's request body.
func newRequest(req ai.Request) (*chatRequest, error) {
	body := &chatRequest{Model: req.Model, Temperature: req.Temperature, TopP: req.TopP, Stop: req.StopSequences}
	if req.System != "" {
		body.Messages = append(body.Messages, chatMessage{Role: "system", Content: &req.System})
	}
	for i, m := range req.Messages {
		msgs, err := messages(m)
		if err != nil {
			return nil, ai.InvalidRequestf(Name, "message %d: %v", i, err)
		}
		body.Messages = append(body.Messages, msgs...)
	}
	for _, t := range req.Tools {
		schema, err := schemaObject(t.InputSchema)
		if err != nil {
			return nil, ai.InvalidRequestf(Name, "tool %s: input schema: %v", t.Name, err)
		}
		body.Tools = append(body.Tools, chatTool{Type: "function", Function: functionDefinition{
			Name: t.Name, Description: t.Description, Parameters: schema,
		}})
	}
	if req.MaxTokens > 0 {
		body.MaxCompletionTokens = req.MaxTokens
	}
	if out := req.Output; out != nil {
		schema, err := object(out.Schema)
		if err != nil {
			return nil, ai.InvalidRequestf(Name, "output schema: %v", err)
		}
		raw, err := schemaObject(out.Schema)
		if err != nil {
			return nil, ai.InvalidRequestf(Name, "output schema: %v", err)
		}
		body.ResponseFormat = &responseFormat{Type: "json_schema", JSONSchema: jsonSchema{
			Name: schemaName(out.Name), Strict: Strict(schema), Schema: raw,
		}}
	}
	return body, nil
}

// schemaObject checks that raw is a JSON object and returns it as it was
// written (numbers stay exact), or the empty object schema when raw is
// empty.
func schemaObject(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) == 0 {
		return json.RawMessage(`{"type":"object","properties":{}}`), nil
	}
	if _, err := object(raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// messages translates one message. A user message's tool results become
// "tool" messages, ahead of its text, so they follow the assistant message
// whose calls they answer, as the API requires.
func messages(m ai.Message) ([]chatMessage, error) {
	var text []string
	switch m.Role {
	case ai.RoleUser:
		var out []chatMessage
		for _, part := range m.Content {
			switch {
			case part.ToolResult != nil:
				content := part.ToolResult.Content
				if part.ToolResult.IsError {
					// Chat Completions has no error flag on a tool
					// message; the model reads it in the text.
					content = "Error: " + content
				}
				out = append(out, chatMessage{Role: "tool", Content: &content, ToolCallID: part.ToolResult.CallID})
			case part.ToolCall != nil:
				return nil, errors.New("a user message holds a tool call")
			default:
				text = append(text, part.Text)
			}
		}
		if len(text) > 0 {
			joined := strings.Join(text, "\n")
			out = append(out, chatMessage{Role: "user", Content: &joined})
		}
		return out, nil
	case ai.RoleAssistant:
		msg := chatMessage{Role: "assistant"}
		for _, part := range m.Content {
			switch {
			case part.ToolCall != nil:
				args := string(part.ToolCall.Arguments)
				if args == "" {
					args = "{}"
				}
				msg.ToolCalls = append(msg.ToolCalls, wireToolCall{
					ID: part.ToolCall.ID, Type: "function",
					Function: wireFunction{Name: part.ToolCall.Name, Arguments: args},
				})
			case part.ToolResult != nil:
				return nil, errors.New("an assistant message holds a tool result")
			default:
				text = append(text, part.Text)
			}
		}
		if len(text) > 0 {
			joined := strings.Join(text, "\n")
			msg.Content = &joined
		}
		return []chatMessage{msg}, nil
	default:
		return nil, fmt.Errorf("unknown role %q", m.Role)
	}
}

// response translates the first choice of a completion.
func response(cc *completion) (ai.Response, error) {
	if len(cc.Choices) == 0 {
		return ai.Response{}, &ai.Error{Code: ai.CodeUnavailable, Provider: Name, Message: "the completion has no choices"}
	}
	choice := cc.Choices[0]
	resp := ai.Response{
		Text:       choice.Message.Content,
		StopReason: stopReason(choice.FinishReason),
		Usage:      ai.Usage{InputTokens: cc.Usage.PromptTokens, OutputTokens: cc.Usage.CompletionTokens},
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

// newClient returns the Chat Completions client of opts: its base URL
// and key, else OPENAI_BASE_URL and OPENAI_API_KEY, with the organisation
// and project of OPENAI_ORG_ID and OPENAI_PROJECT_ID.
func newClient(opts Options) *ai.APIClient {
	base := cmp.Or(opts.BaseURL, os.Getenv("OPENAI_BASE_URL"), DefaultBaseURL)
	key := cmp.Or(opts.APIKey, os.Getenv("OPENAI_API_KEY"))
	c := ai.NewAPIClient(Name, base, "chat/completions", opts.HTTPClient, os.Getenv("OPENAI_CUSTOM_HEADERS"))
	if org := os.Getenv("OPENAI_ORG_ID"); org != "" {
		c.Header.Set("OpenAI-Organization", org)
	}
	if project := os.Getenv("OPENAI_PROJECT_ID"); project != "" {
		c.Header.Set("OpenAI-Project", project)
	}
	if key != "" {
		c.Header.Set("Authorization", "Bearer "+key)
	}
	return c
}

// translate turns a failed call (no answer, or an answer cut short) into
// an *ai.Error.
func (p *Provider) translate(ctx context.Context, err error) *ai.Error {
	var e *ai.Error
	if errors.As(err, &e) {
		return e
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		code, msg := ai.CodeUnavailable, "call cancelled"
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			code, msg = ai.CodeTimeout, "deadline exceeded"
		}
		return &ai.Error{Code: code, Provider: Name, Message: msg, Err: errors.Join(ctxErr, err)}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &ai.Error{Code: ai.CodeTimeout, Provider: Name, Message: "deadline exceeded", Err: err}
	}
	return &ai.Error{Code: ai.CodeUnavailable, Provider: Name, Message: "calling the API: " + err.Error(), Err: err}
}

// apiError is the error object of the API's failures:
// {"error": {"message", "type", "param", "code"}}.
type apiError struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    any    `json:"code"`
}

func (e apiError) code() string {
	switch c := e.Code.(type) {
	case string:
		return c
	case nil:
		return ""
	default:
		return fmt.Sprint(c)
	}
}

// statusError translates an answer with an error status: the status picks
// the code, the body's error object gives the message (the status's text
// when it has none) and may say the content filter refused.
func (p *Provider) statusError(ctx context.Context, res *http.Response) *ai.Error {
	raw, err := io.ReadAll(io.LimitReader(res.Body, ai.MaxErrorBody))
	if err != nil && ctx.Err() != nil {
		return p.translate(ctx, err)
	}
	var body struct {
		Error apiError `json:"error"`
	}
	_ = json.Unmarshal(raw, &body)
	e := &ai.Error{
		Code:       ai.CodeForStatus(res.StatusCode),
		Provider:   Name,
		Message:    body.Error.Message,
		StatusCode: res.StatusCode,
		RetryAfter: ai.RetryAfter(res.Header, p.now()),
		Err:        fmt.Errorf("openai API error: %d %s: %s", res.StatusCode, http.StatusText(res.StatusCode), bytes.TrimSpace(raw)),
	}
	if e.Message == "" {
		e.Message = http.StatusText(res.StatusCode)
	}
	if isContentFilter(body.Error.code()) {
		e.Code = ai.CodeContentFiltered
	}
	return e
}

func isContentFilter(code string) bool {
	return code == "content_filter" || code == "content_policy_violation"
}

// streamError translates an error object in the middle of a stream, which
// carries no status.
func streamError(raw json.RawMessage) *ai.Error {
	var body apiError
	_ = json.Unmarshal(raw, &body)
	code := body.code()
	e := &ai.Error{Code: ai.CodeUnavailable, Provider: Name, Message: body.Message,
		Err: fmt.Errorf("received error while streaming: %s", raw)}
	if e.Message == "" {
		e.Message = "received error while streaming: " + string(raw)
	}
	switch {
	case isContentFilter(code):
		e.Code = ai.CodeContentFiltered
	case code == "rate_limit_exceeded" || body.Type == "rate_limit_error" || body.Type == "requests" || body.Type == "tokens":
		e.Code = ai.CodeThrottled
	case body.Type == "invalid_request_error":
		e.Code = ai.CodeInvalidRequest
	}
	return e
}
