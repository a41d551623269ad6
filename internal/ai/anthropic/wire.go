package anthropic

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
	"time"

	"github.com/aiflow/aiflow/internal/ai"
)

// The request body of POST /v1/messages, as the API reference documents
// it; only the fields an ai.Request fills.
type messagesRequest struct {
	Model         string         `json:"model"`
	MaxTokens     int            `json:"max_tokens"`
	System        []textBlock    `json:"system,omitempty"`
	Messages      []messageParam `json:"messages"`
	Tools         []toolParam    `json:"tools,omitempty"`
	StopSequences []string       `json:"stop_sequences,omitempty"`
	Stream        bool           `json:"stream,omitempty"`
}

type textBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type messageParam struct {
	Role    string  `json:"role"`
	Content []block `json:"content"`
}

// block is a content block of a request: text, tool_use or tool_result.
type block struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   []textBlock     `json:"content,omitempty"`
	IsError   bool            `json:"is_error,omitempty"`
}

type toolParam struct {
	Name        string                     `json:"name"`
	Description string                     `json:"description,omitempty"`
	InputSchema map[string]json.RawMessage `json:"input_schema"`
}

// wireMessage is the message object: the answer of a call, and what a
// stream's events add up to.
type wireMessage struct {
	ID         string          `json:"id"`
	Model      string          `json:"model"`
	Content    []responseBlock `json:"content"`
	StopReason string          `json:"stop_reason"`
	Usage      wireUsage       `json:"usage"`
}

type responseBlock struct {
	Type  string          `json:"type"`
	Text  string          `json:"text"`
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
}

type wireUsage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

// streamEvent is the data of one event of a stream; its type says which
// fields it has.
type streamEvent struct {
	Type         string          `json:"type"`
	Message      *wireMessage    `json:"message"`
	Index        *int            `json:"index"`
	ContentBlock *responseBlock  `json:"content_block"`
	Delta        json.RawMessage `json:"delta"`
	Usage        *deltaUsage     `json:"usage"`
	Error        *apiError       `json:"error"`
}

type contentDelta struct {
	Type        string `json:"type"`
	Text        string `json:"text"`
	PartialJSON string `json:"partial_json"`
}

type messageDelta struct {
	StopReason string `json:"stop_reason"`
}

// deltaUsage is message_delta's usage: the output tokens so far, and the
// input counts when the API restates them.
type deltaUsage struct {
	OutputTokens             int  `json:"output_tokens"`
	InputTokens              *int `json:"input_tokens"`
	CacheCreationInputTokens *int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int `json:"cache_read_input_tokens"`
}

// accumulator builds the message from a stream's events, as the API's
// streaming documentation describes them: message_start gives the message
// and its input tokens, content_block_start adds a block at the next index,
// content_block_delta adds text (text_delta) or a piece of a tool call's
// input JSON (input_json_delta) to a started block, message_delta gives the
// stop reason and the output tokens, message_stop ends it. ping and event
// types it does not know are skipped; error ends the stream with the
// error's type.
type accumulator struct {
	msg     wireMessage
	started bool
	stopped bool
	// partial says which tool_use blocks have had a piece of input: the
	// first piece replaces the {} of content_block_start.
	partial []bool
}

// add applies one event and returns the text to deliver, if any.
func (a *accumulator) add(ev ai.Event) (string, error) {
	var se streamEvent
	if err := json.Unmarshal(ev.Data, &se); err != nil {
		return "", fmt.Errorf("the data of a %q event is not a JSON event object: %v", ev.Name, err)
	}
	typ := se.Type
	if typ == "" {
		typ = ev.Name
	}
	if typ != "message_start" && typ != "ping" && typ != "error" && !a.started {
		return "", fmt.Errorf("a %s event arrived before message_start", typ)
	}
	switch typ {
	case "message_start":
		if se.Message == nil {
			return "", errors.New("message_start has no message")
		}
		a.msg, a.started = *se.Message, true
		a.msg.Content = nil
	case "content_block_start":
		if se.Index == nil || *se.Index != len(a.msg.Content) || se.ContentBlock == nil {
			return "", fmt.Errorf("content_block_start for index %s, expected index %d with a content_block", index(se.Index), len(a.msg.Content))
		}
		a.msg.Content = append(a.msg.Content, *se.ContentBlock)
		a.partial = append(a.partial, false)
	case "content_block_delta":
		i, err := a.block(typ, se.Index)
		if err != nil {
			return "", err
		}
		var d contentDelta
		if err := json.Unmarshal(se.Delta, &d); err != nil {
			return "", fmt.Errorf("content_block_delta's delta is not a delta object: %v", err)
		}
		b := &a.msg.Content[i]
		switch d.Type {
		case "text_delta":
			b.Text += d.Text
			return d.Text, nil
		case "input_json_delta":
			if d.PartialJSON == "" {
				break
			}
			if !a.partial[i] {
				b.Input = nil
				a.partial[i] = true
			}
			b.Input = append(b.Input, d.PartialJSON...)
		}
		// thinking_delta, signature_delta and citations_delta add nothing
		// to an ai.Response.
	case "content_block_stop":
		i, err := a.block(typ, se.Index)
		if err != nil {
			return "", err
		}
		if b := a.msg.Content[i]; b.Type == "tool_use" && len(b.Input) > 0 && !json.Valid(b.Input) {
			return "", fmt.Errorf("the input of tool call %s is not valid JSON", b.ID)
		}
	case "message_delta":
		var d messageDelta
		if err := json.Unmarshal(se.Delta, &d); err != nil {
			return "", fmt.Errorf("message_delta's delta is not a delta object: %v", err)
		}
		if d.StopReason != "" {
			a.msg.StopReason = d.StopReason
		}
		if u := se.Usage; u != nil {
			a.msg.Usage.OutputTokens = u.OutputTokens
			if u.InputTokens != nil {
				a.msg.Usage.InputTokens = *u.InputTokens
			}
			if u.CacheCreationInputTokens != nil {
				a.msg.Usage.CacheCreationInputTokens = *u.CacheCreationInputTokens
			}
			if u.CacheReadInputTokens != nil {
				a.msg.Usage.CacheReadInputTokens = *u.CacheReadInputTokens
			}
		}
	case "message_stop":
		a.stopped = true
	case "error":
		if se.Error == nil {
			return "", &ai.Error{Code: ai.CodeUnavailable, Provider: Name, Message: "received error while streaming: " + string(ev.Data)}
		}
		return "", &ai.Error{Code: codeForType(se.Error.Type), Provider: Name, Message: se.Error.message(0),
			Err: fmt.Errorf("received error while streaming: %s", ev.Data)}
	}
	return "", nil
}

// block checks that a delta or stop event names a started block.
func (a *accumulator) block(typ string, i *int) (int, error) {
	if i == nil || *i < 0 || *i >= len(a.msg.Content) {
		return 0, fmt.Errorf("%s for content block %s, but %d blocks have started", typ, index(i), len(a.msg.Content))
	}
	return *i, nil
}

func index(i *int) string {
	if i == nil {
		return "(none)"
	}
	return fmt.Sprint(*i)
}

// apiError is the error object of the API's failures:
// {"type": "error", "error": {"type", "message"}}.
type apiError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// message is the API's own explanation, which names what was wrong and
// never holds the key: "<status> <type>: <message>" (no status for an error
// event inside a stream).
func (e apiError) message(status int) string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(status)
	}
	if e.Type != "" {
		msg = e.Type + ": " + msg
	}
	if status >= 400 {
		msg = fmt.Sprintf("%d %s", status, msg)
	}
	return msg
}

// statusError translates an answer with an error status: the status picks
// the code, the body's error object gives the message.
func statusError(ctx context.Context, res *http.Response) *ai.Error {
	raw, err := io.ReadAll(io.LimitReader(res.Body, ai.MaxErrorBody))
	if err != nil && ctx.Err() != nil {
		return translate(ctx, err)
	}
	var body struct {
		Error apiError `json:"error"`
	}
	_ = json.Unmarshal(raw, &body)
	return &ai.Error{
		Code:       ai.CodeForStatus(res.StatusCode),
		Provider:   Name,
		Message:    body.Error.message(res.StatusCode),
		StatusCode: res.StatusCode,
		RetryAfter: ai.RetryAfter(res.Header, time.Now()),
		Err: fmt.Errorf("anthropic API error: %d %s (request-id %s): %s", res.StatusCode, http.StatusText(res.StatusCode),
			res.Header.Get("request-id"), bytes.TrimSpace(raw)),
	}
}

// client sends the requests of a provider; without a key nothing is
// sent.
type client struct {
	api   *ai.APIClient
	noKey bool
}

// newClient returns the Messages client of opts: its base URL and key,
// else ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN.
func newClient(opts Options) *client {
	base := cmp.Or(opts.BaseURL, os.Getenv("ANTHROPIC_BASE_URL"), DefaultBaseURL)
	key := cmp.Or(opts.APIKey, os.Getenv("ANTHROPIC_API_KEY"), os.Getenv("ANTHROPIC_AUTH_TOKEN"))
	c := &client{api: ai.NewAPIClient(Name, base, "v1/messages", opts.HTTPClient, os.Getenv("ANTHROPIC_CUSTOM_HEADERS")), noKey: key == ""}
	if key != "" {
		c.api.Header.Set("Authorization", "Bearer "+key)
	}
	c.api.Header.Set("anthropic-version", APIVersion)
	return c
}

// post sends body. Without a key nothing is sent: the call fails with
// AI.Auth.
func (c *client) post(ctx context.Context, body *messagesRequest) (*http.Response, error) {
	if c.noKey {
		return nil, &ai.Error{Code: ai.CodeAuth, Provider: Name, Message: "no Anthropic API key: set ANTHROPIC_API_KEY or pass the key"}
	}
	return c.api.Post(ctx, body, body.Stream)
}
