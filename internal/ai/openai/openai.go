// Package openai is the ai.Provider of OpenAI's Chat Completions API (and
// of any server that speaks it), through a small client of aiflow's own
// that speaks the API's documented wire format: POST {base}/chat/completions
// with a JSON body, answered by a chat.completion object or, when streamed,
// by server-sent events of chat.completion.chunk objects ending with
// "data: [DONE]".
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
// The client makes one request per call: ai.Retrier retries, once, for
// every provider. Errors are *ai.Error: the HTTP status maps through
// ai.CodeForStatus, Retry-After and retry-after-ms become RetryAfter, an
// error code of content_filter (or content_policy_violation) is
// AI.ContentFiltered, ctx's deadline AI.Timeout, and a failed connection or
// a stream that breaks its format AI.Unavailable.
package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"time"

	"github.com/aiflow/aiflow/internal/ai"
)

// Name is the provider's name, as workflows write it before the model
// ("openai/gpt-4.1-mini").
const Name = "openai"

// DefaultBaseURL is OpenAI's API, where the provider goes when neither
// Options.BaseURL nor OPENAI_BASE_URL is set.
const DefaultBaseURL = "https://api.openai.com/v1/"

// Options configures New.
type Options struct {
	// APIKey is the key sent as a bearer token; empty means the
	// OPENAI_API_KEY variable.
	APIKey string
	// BaseURL is where the API is; empty means the OPENAI_BASE_URL
	// variable and then DefaultBaseURL.
	BaseURL string
	// HTTPClient makes the requests; nil means a client of its own whose
	// transport waits at most 10 minutes for a response's headers (a
	// stream's body may take longer).
	HTTPClient *http.Client
	// NowFunc tells the time, to read a Retry-After given as a date; nil
	// means time.Now.
	NowFunc func() time.Time
}

// Provider calls the Chat Completions API. It is safe for concurrent use.
type Provider struct {
	client *ai.APIClient
	now    func() time.Time
}

var _ ai.Provider = (*Provider)(nil)

// New returns a provider configured by opts. Options left empty take the
// standard variables of OpenAI's SDKs: OPENAI_API_KEY, OPENAI_BASE_URL, and
// OPENAI_ORG_ID and OPENAI_PROJECT_ID (sent as the OpenAI-Organization and
// OpenAI-Project headers), and OPENAI_CUSTOM_HEADERS (one "Name: value"
// a line). A function's key and base URL come from its configuration
// (config.AIStep). A missing key is not an error here: the API refuses the
// call with AI.Auth.
func New(opts Options) *Provider {
	now := opts.NowFunc
	if now == nil {
		now = time.Now
	}
	return &Provider{client: newClient(opts), now: now}
}

// Name returns "openai".
func (p *Provider) Name() string { return Name }

// Generate makes one chat completion. Its errors are *ai.Error.
func (p *Provider) Generate(ctx context.Context, req ai.Request) (ai.Response, error) {
	body, err := newRequest(req)
	if err != nil {
		return ai.Response{}, err
	}
	res, err := p.client.Post(ctx, body, false)
	if err != nil {
		return ai.Response{}, p.translate(ctx, err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		return ai.Response{}, p.statusError(ctx, res)
	}
	var cc completion
	if err := json.NewDecoder(res.Body).Decode(&cc); err != nil {
		if ctx.Err() != nil {
			return ai.Response{}, p.translate(ctx, err)
		}
		return ai.Response{}, &ai.Error{Code: ai.CodeUnavailable, Provider: Name, StatusCode: res.StatusCode,
			Message: "decoding the chat.completion answer: " + err.Error(), Err: err}
	}
	return response(&cc)
}

// Stream makes one streamed chat completion, handing each piece of text to
// onDelta as it arrives and stopping with onDelta's error if it returns
// one. It asks for the usage chunk, so its response counts tokens as
// Generate's does. Its other errors are *ai.Error.
func (p *Provider) Stream(ctx context.Context, req ai.Request, onDelta func(ai.Delta) error) (ai.Response, error) {
	body, err := newRequest(req)
	if err != nil {
		return ai.Response{}, err
	}
	body.Stream = true
	body.StreamOptions = &streamOptions{IncludeUsage: true}
	res, err := p.client.Post(ctx, body, true)
	if err != nil {
		return ai.Response{}, p.translate(ctx, err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		return ai.Response{}, p.statusError(ctx, res)
	}
	var acc accumulator
	events := ai.NewEventReader(res.Body)
	for {
		ev, err := events.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return ai.Response{}, p.translate(ctx, err)
			}
			return ai.Response{}, &ai.Error{Code: ai.CodeUnavailable, Provider: Name,
				Message: fmt.Sprintf("reading the answer stream (after %d events): %v", events.Events(), err), Err: err}
		}
		if string(ev.Data) == "[DONE]" {
			acc.done = true
			break
		}
		var c chunk
		if err := json.Unmarshal(ev.Data, &c); err != nil {
			return ai.Response{}, ai.StreamError(Name, events.Events(), "event %d is not a chat.completion.chunk object: %v", events.Events(), err)
		}
		if len(c.Error) > 0 && string(c.Error) != "null" {
			return ai.Response{}, streamError(c.Error)
		}
		texts, err := acc.add(&c)
		if err != nil {
			return ai.Response{}, ai.StreamError(Name, events.Events(), "%v", err)
		}
		for _, text := range texts {
			if err := onDelta(ai.Delta{Text: text}); err != nil {
				return ai.Response{}, err
			}
		}
	}
	if !acc.done && !acc.finished {
		return ai.Response{}, ai.StreamError(Name, events.Events(), "the stream ended before a finish_reason or data: [DONE]")
	}
	return response(&acc.cc)
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
