package anthropic_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/ai/aitest"
	"github.com/aiflow/aiflow/internal/ai/anthropic"
)

// server is an httptest server in the place of the Messages API: it keeps
// every request it receives and answers with respond.
type server struct {
	mu       sync.Mutex
	requests []received
	respond  func(w http.ResponseWriter, r *http.Request)
}

type received struct {
	path    string
	header  http.Header
	body    map[string]any
	rawBody []byte
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	s.mu.Lock()
	s.requests = append(s.requests, received{path: r.URL.Path, header: r.Header.Clone(), body: body, rawBody: raw})
	s.mu.Unlock()
	s.respond(w, r)
}

func (s *server) only(t *testing.T) received {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.Len(t, s.requests, 1)
	return s.requests[0]
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

type testBundle struct {
	server   *server
	url      string
	provider *anthropic.Provider
}

func setup(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) *testBundle {
	t.Helper()
	s := &server{respond: respond}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &testBundle{
		server:   s,
		url:      srv.URL,
		provider: anthropic.New(anthropic.Options{APIKey: "sk-ant-test", BaseURL: srv.URL}),
	}
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// jsonReply answers with a message object, as POST /v1/messages does.
func jsonReply(body []byte) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("request-id", "req_011CSHoEeqs5C35K2UUqR7Fy")
		_, _ = w.Write(body)
	}
}

// sseReply answers with a server-sent event stream, flushing each event as
// the API does.
func sseReply(stream []byte) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		for _, event := range strings.SplitAfter(string(stream), "\n\n") {
			_, _ = io.WriteString(w, event)
			w.(http.Flusher).Flush()
		}
	}
}

// errorReply answers with the API's error shape.
func errorReply(status int, errType, message string, header map[string]string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("request-id", "req_011CSHoEeqs5C35K2UUqR7Fy")
		w.WriteHeader(status)
		body, _ := json.Marshal(map[string]any{
			"type":       "error",
			"error":      map[string]any{"type": errType, "message": message},
			"request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
		})
		_, _ = w.Write(body)
	}
}

func weatherRequest() ai.Request {
	return ai.Request{
		Model:  "claude-sonnet-4-5-20250929",
		System: "You are a weather assistant.",
		Messages: []ai.Message{
			{Role: ai.RoleUser, Content: []ai.Part{{Text: "What is the weather in Paris and in San Francisco?"}}},
			{Role: ai.RoleAssistant, Content: []ai.Part{
				{Text: "Let me check Paris first."},
				{ToolCall: &ai.ToolCall{ID: "toolu_01Paris", Name: "get_weather", Arguments: json.RawMessage(`{"location":"Paris, France"}`)}},
			}},
			{Role: ai.RoleUser, Content: []ai.Part{
				{ToolResult: &ai.ToolResult{CallID: "toolu_01Paris", Content: `{"temperature":18,"unit":"celsius"}`}},
			}},
		},
		Tools: []ai.Tool{{
			Name:        "get_weather",
			Description: "Get the current weather in a given location",
			InputSchema: json.RawMessage(`{"type":"object","properties":{"location":{"type":"string","description":"The city and state"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"],"additionalProperties":false}`),
		}},
		StopSequences: []string{"\n\nHuman:"},
	}
}

func wantWeatherResponse() ai.Response {
	return ai.Response{
		Text: "I'll look up the weather in San Francisco.",
		ToolCalls: []ai.ToolCall{{
			ID: "toolu_01A09q90qw90lq917835lq9", Name: "get_weather",
			Arguments: json.RawMessage(`{"location": "San Francisco, CA", "unit": "celsius"}`),
		}},
		StopReason: ai.StopToolUse,
		Usage:      ai.Usage{InputTokens: 472, OutputTokens: 91},
		Model:      "claude-sonnet-4-5-20250929",
	}
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	b := setup(t, jsonReply(fixture(t, "message_tool_use.json")))

	resp, err := b.provider.Generate(context.Background(), weatherRequest())
	require.NoError(t, err)
	aitest.RequireResponse(t, wantWeatherResponse(), resp)

	got := b.server.only(t)
	require.Equal(t, "/v1/messages", got.path)
	require.Equal(t, "Bearer sk-ant-test", got.header.Get("Authorization"))
	require.NotEmpty(t, got.header.Get("anthropic-version"))
	require.JSONEq(t, `{
		"model": "claude-sonnet-4-5-20250929",
		"max_tokens": 4096,
		"system": [{"type": "text", "text": "You are a weather assistant."}],
		"stop_sequences": ["\n\nHuman:"],
		"messages": [
			{"role": "user", "content": [{"type": "text", "text": "What is the weather in Paris and in San Francisco?"}]},
			{"role": "assistant", "content": [
				{"type": "text", "text": "Let me check Paris first."},
				{"type": "tool_use", "id": "toolu_01Paris", "name": "get_weather", "input": {"location": "Paris, France"}}
			]},
			{"role": "user", "content": [
				{"type": "tool_result", "tool_use_id": "toolu_01Paris", "content": [{"type": "text", "text": "{\"temperature\":18,\"unit\":\"celsius\"}"}]}
			]}
		],
		"tools": [{
			"name": "get_weather",
			"description": "Get the current weather in a given location",
			"input_schema": {
				"type": "object",
				"properties": {
					"location": {"type": "string", "description": "The city and state"},
					"unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}
				},
				"required": ["location"],
				"additionalProperties": false
			}
		}]
	}`, string(got.rawBody))
}

func TestGenerateRequestFields(t *testing.T) {
	t.Parallel()

	t.Run("MaxTokensOfTheRequest", func(t *testing.T) {
		t.Parallel()
		b := setup(t, jsonReply(fixture(t, "message_tool_use.json")))
		req := weatherRequest()
		req.MaxTokens = 300
		_, err := b.provider.Generate(context.Background(), req)
		require.NoError(t, err)
		require.EqualValues(t, 300, b.server.only(t).body["max_tokens"])
	})

	t.Run("MaxTokensOfTheOptions", func(t *testing.T) {
		t.Parallel()
		s := &server{respond: jsonReply(fixture(t, "message_tool_use.json"))}
		srv := httptest.NewServer(s)
		t.Cleanup(srv.Close)
		p := anthropic.New(anthropic.Options{APIKey: "sk-ant-test", BaseURL: srv.URL, MaxTokens: 1000})
		_, err := p.Generate(context.Background(), weatherRequest())
		require.NoError(t, err)
		require.EqualValues(t, 1000, s.only(t).body["max_tokens"])
	})

	t.Run("OutputSchemaInTheSystemPrompt", func(t *testing.T) {
		t.Parallel()
		b := setup(t, jsonReply(fixture(t, "message_tool_use.json")))
		req := weatherRequest()
		req.Output = &ai.OutputSchema{Name: "forecast", Schema: json.RawMessage(`{"type":"object","properties":{"summary":{"type":"string"}},"required":["summary"]}`)}
		_, err := b.provider.Generate(context.Background(), req)
		require.NoError(t, err)
		system := b.server.only(t).body["system"].([]any)
		require.Len(t, system, 1)
		text := system[0].(map[string]any)["text"].(string)
		require.True(t, strings.HasPrefix(text, "You are a weather assistant.\n\n"), text)
		require.Contains(t, text, `"forecast"`)
		require.True(t, strings.HasSuffix(text, string(req.Output.Schema)), text)
	})

	t.Run("NoSamplingParameters", func(t *testing.T) {
		t.Parallel()
		b := setup(t, jsonReply(fixture(t, "message_tool_use.json")))
		req := weatherRequest()
		temperature, topP := 0.2, 0.9
		req.Temperature, req.TopP = &temperature, &topP
		_, err := b.provider.Generate(context.Background(), req)
		require.NoError(t, err)
		body := b.server.only(t).body
		require.NotContains(t, body, "temperature")
		require.NotContains(t, body, "top_p")
	})

	t.Run("EmptyTextLeftOut", func(t *testing.T) {
		t.Parallel()
		b := setup(t, jsonReply(fixture(t, "message_tool_use.json")))
		req := weatherRequest()
		req.Messages[1].Content[0].Text = ""
		_, err := b.provider.Generate(context.Background(), req)
		require.NoError(t, err)
		raw, err := json.Marshal(b.server.only(t).body["messages"].([]any)[1])
		require.NoError(t, err)
		require.JSONEq(t, `{"role": "assistant", "content": [
			{"type": "tool_use", "id": "toolu_01Paris", "name": "get_weather", "input": {"location": "Paris, France"}}
		]}`, string(raw))
	})

	t.Run("ToolResultErrorAndEmpty", func(t *testing.T) {
		t.Parallel()
		b := setup(t, jsonReply(fixture(t, "message_tool_use.json")))
		req := weatherRequest()
		req.Messages[2].Content = []ai.Part{
			{ToolResult: &ai.ToolResult{CallID: "toolu_01Paris", Content: "the weather service is down", IsError: true}},
			{ToolResult: &ai.ToolResult{CallID: "toolu_01Other"}},
		}
		_, err := b.provider.Generate(context.Background(), req)
		require.NoError(t, err)
		msgs := b.server.only(t).body["messages"].([]any)
		raw, err := json.Marshal(msgs[2])
		require.NoError(t, err)
		require.JSONEq(t, `{"role": "user", "content": [
			{"type": "tool_result", "tool_use_id": "toolu_01Paris", "is_error": true, "content": [{"type": "text", "text": "the weather service is down"}]},
			{"type": "tool_result", "tool_use_id": "toolu_01Other"}
		]}`, string(raw))
	})
}

func TestInvalidRequest(t *testing.T) {
	t.Parallel()
	for name, mutate := range map[string]func(*ai.Request){
		"NoModel":           func(r *ai.Request) { r.Model = "" },
		"UnknownRole":       func(r *ai.Request) { r.Messages[0].Role = "system" },
		"EmptyMessage":      func(r *ai.Request) { r.Messages[0].Content = nil },
		"OnlyEmptyText":     func(r *ai.Request) { r.Messages[0].Content = []ai.Part{{Text: ""}} },
		"ToolCallFromUser":  func(r *ai.Request) { r.Messages[0].Content = r.Messages[1].Content },
		"ToolResultFromBot": func(r *ai.Request) { r.Messages[1].Content = r.Messages[2].Content },
		"SchemaNotObject":   func(r *ai.Request) { r.Tools[0].InputSchema = json.RawMessage(`{"type":"string"}`) },
		"SchemaNotJSON":     func(r *ai.Request) { r.Tools[0].InputSchema = json.RawMessage(`{`) },
		"SchemaBadRequired": func(r *ai.Request) {
			r.Tools[0].InputSchema = json.RawMessage(`{"type":"object","required":"location"}`)
		},
		"SchemaBadRequired2": func(r *ai.Request) { r.Tools[0].InputSchema = json.RawMessage(`{"type":"object","required":[1]}`) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, jsonReply(fixture(t, "message_tool_use.json")))
			req := weatherRequest()
			mutate(&req)
			_, err := b.provider.Generate(context.Background(), req)
			requireCode(t, err, ai.CodeInvalidRequest)
			_, err = b.provider.Stream(context.Background(), req, func(ai.Delta) error { return nil })
			requireCode(t, err, ai.CodeInvalidRequest)
			require.Zero(t, b.server.count(), "an invalid request must not reach the API")
		})
	}
}

func requireCode(t *testing.T, err error, code ai.Code) *ai.Error {
	t.Helper()
	e := aitest.RequireCode(t, err, code)
	require.Equal(t, anthropic.Name, e.Provider)
	require.NotEmpty(t, e.Message)
	require.NotContains(t, e.Error(), "sk-ant-test")
	return e
}

func TestStream(t *testing.T) {
	t.Parallel()
	b := setup(t, sseReply(fixture(t, "stream_tool_use.sse")))

	var deltas []string
	resp, err := b.provider.Stream(context.Background(), weatherRequest(), func(d ai.Delta) error {
		deltas = append(deltas, d.Text)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{"I'll look up", " the weather in San Francisco."}, deltas)
	aitest.RequireResponse(t, wantWeatherResponse(), resp)

	got := b.server.only(t)
	require.Equal(t, true, got.body["stream"])
	require.Equal(t, "claude-sonnet-4-5-20250929", got.body["model"])
	require.Len(t, got.body["tools"], 1)
}

func TestStreamSameAsGenerate(t *testing.T) {
	t.Parallel()
	gen := setup(t, jsonReply(fixture(t, "message_tool_use.json")))
	str := setup(t, sseReply(fixture(t, "stream_tool_use.sse")))

	want, err := gen.provider.Generate(context.Background(), weatherRequest())
	require.NoError(t, err)
	got, err := str.provider.Stream(context.Background(), weatherRequest(), func(ai.Delta) error { return nil })
	require.NoError(t, err)
	aitest.RequireResponse(t, want, got)

	// The two calls send the same request but for "stream".
	genBody, strBody := gen.server.only(t).body, str.server.only(t).body
	delete(strBody, "stream")
	require.Equal(t, genBody, strBody)
}

func TestStreamRefusal(t *testing.T) {
	t.Parallel()
	b := setup(t, sseReply(fixture(t, "stream_refusal.sse")))
	resp, err := b.provider.Stream(context.Background(), weatherRequest(), func(ai.Delta) error { return nil })
	require.NoError(t, err)
	require.Equal(t, ai.StopContentFiltered, resp.StopReason)
	require.Equal(t, "I can't help with that.", resp.Text)
	require.Equal(t, ai.Usage{InputTokens: 30, OutputTokens: 8}, resp.Usage)
}

func TestStreamStopsOnDeltaError(t *testing.T) {
	t.Parallel()
	b := setup(t, sseReply(fixture(t, "stream_tool_use.sse")))
	errStop := errors.New("subscriber gone")
	calls := 0
	_, err := b.provider.Stream(context.Background(), weatherRequest(), func(ai.Delta) error {
		calls++
		return errStop
	})
	require.ErrorIs(t, err, errStop)
	require.Equal(t, 1, calls)
}

func TestStreamErrorEvent(t *testing.T) {
	t.Parallel()
	b := setup(t, sseReply(fixture(t, "stream_overloaded.sse")))
	var deltas []string
	_, err := b.provider.Stream(context.Background(), weatherRequest(), func(d ai.Delta) error {
		deltas = append(deltas, d.Text)
		return nil
	})
	e := requireCode(t, err, ai.CodeUnavailable)
	require.Contains(t, e.Message, "overloaded_error")
	require.Zero(t, e.StatusCode, "the stream's status was 200; the error has none of its own")
	require.Equal(t, []string{"Hel"}, deltas)
}

func TestStreamCutShort(t *testing.T) {
	t.Parallel()
	full := string(fixture(t, "stream_tool_use.sse"))
	cut := full[:strings.Index(full, "event: message_delta")]
	b := setup(t, sseReply([]byte(cut)))
	_, err := b.provider.Stream(context.Background(), weatherRequest(), func(ai.Delta) error { return nil })
	e := requireCode(t, err, ai.CodeUnavailable)
	require.Contains(t, e.Message, "message_stop")
}

func TestErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		status     int
		errType    string
		header     map[string]string
		code       ai.Code
		retryAfter time.Duration
	}{
		{"RateLimitWithRetryAfter", 429, "rate_limit_error", map[string]string{"retry-after": "7"}, ai.CodeThrottled, 7 * time.Second},
		{"RateLimitWithRetryAfterMS", 429, "rate_limit_error", map[string]string{"retry-after-ms": "1500", "retry-after": "2"}, ai.CodeThrottled, 1500 * time.Millisecond},
		{"RateLimitWithoutRetryAfter", 429, "rate_limit_error", nil, ai.CodeThrottled, 0},
		{"Authentication", 401, "authentication_error", nil, ai.CodeAuth, 0},
		{"Permission", 403, "permission_error", nil, ai.CodeAuth, 0},
		{"InvalidRequest", 400, "invalid_request_error", nil, ai.CodeInvalidRequest, 0},
		{"NotFound", 404, "not_found_error", nil, ai.CodeInvalidRequest, 0},
		{"APIError", 500, "api_error", nil, ai.CodeUnavailable, 0},
		{"Overloaded", 529, "overloaded_error", map[string]string{"retry-after": "3"}, ai.CodeUnavailable, 3 * time.Second},
		{"Timeout", 504, "timeout_error", nil, ai.CodeTimeout, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			msg := "Number of request tokens has exceeded your per-minute rate limit"
			b := setup(t, errorReply(tc.status, tc.errType, msg, tc.header))

			_, err := b.provider.Generate(context.Background(), weatherRequest())
			e := requireCode(t, err, tc.code)
			require.Equal(t, tc.status, e.StatusCode)
			require.Equal(t, tc.retryAfter, e.RetryAfter)
			require.Contains(t, e.Message, tc.errType)
			require.Contains(t, e.Message, msg)

			_, err = b.provider.Stream(context.Background(), weatherRequest(), func(ai.Delta) error { return nil })
			e = requireCode(t, err, tc.code)
			require.Equal(t, tc.retryAfter, e.RetryAfter)

			// One attempt each: the SDK's own retries are off.
			require.Equal(t, 2, b.server.count())
		})
	}
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	hang := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	b := setup(t, hang)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := b.provider.Generate(ctx, weatherRequest())
	e := requireCode(t, err, ai.CodeTimeout)
	require.ErrorIs(t, e, context.DeadlineExceeded)

	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = b.provider.Stream(ctx, weatherRequest(), func(ai.Delta) error { return nil })
	requireCode(t, err, ai.CodeTimeout)
}

func TestDeadlineMidStream(t *testing.T) {
	t.Parallel()
	stall := func(w http.ResponseWriter, r *http.Request) {
		full := string(fixture(t, "stream_tool_use.sse"))
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, full[:strings.Index(full, "event: content_block_stop")])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}
	b := setup(t, stall)
	// The deadline passes once both pieces have arrived, with the stream
	// still open.
	ctx := aitest.NewPassingDeadline()
	var deltas []string
	_, err := b.provider.Stream(ctx, weatherRequest(), func(d ai.Delta) error {
		deltas = append(deltas, d.Text)
		if len(deltas) == 2 {
			ctx.Pass()
		}
		return nil
	})
	requireCode(t, err, ai.CodeTimeout)
	require.Equal(t, []string{"I'll look up", " the weather in San Francisco."}, deltas)
}

func TestCancelled(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := b.provider.Generate(ctx, weatherRequest())
	e := requireCode(t, err, ai.CodeUnavailable)
	require.ErrorIs(t, e, context.Canceled)
}

func TestNetworkError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	p := anthropic.New(anthropic.Options{APIKey: "sk-ant-test", BaseURL: url})

	_, err := p.Generate(context.Background(), weatherRequest())
	requireCode(t, err, ai.CodeUnavailable)
	_, err = p.Stream(context.Background(), weatherRequest(), func(ai.Delta) error { return nil })
	requireCode(t, err, ai.CodeUnavailable)
}

// TestEnvironment cannot run in parallel: it sets the variables the SDK reads.
func TestEnvironment(t *testing.T) {
	s := &server{respond: jsonReply(fixture(t, "message_tool_use.json"))}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	t.Setenv("ANTHROPIC_BASE_URL", srv.URL)
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-from-env")
	t.Setenv("ANTHROPIC_AUTH_TOKEN", "")

	p := anthropic.New(anthropic.Options{})
	require.Equal(t, "anthropic", p.Name())
	_, err := p.Generate(context.Background(), weatherRequest())
	require.NoError(t, err)
	require.Equal(t, "Bearer sk-ant-from-env", s.only(t).header.Get("Authorization"))
}

// TestNoCredentials cannot run in parallel: it clears the variables the SDK
// reads its credentials from.
func TestNoCredentials(t *testing.T) {
	s := &server{respond: jsonReply(fixture(t, "message_tool_use.json"))}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	for _, k := range []string{
		"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_PROFILE", "ANTHROPIC_FEDERATION_RULE_ID",
		"ANTHROPIC_ORGANIZATION_ID", "ANTHROPIC_IDENTITY_TOKEN", "ANTHROPIC_IDENTITY_TOKEN_FILE",
	} {
		t.Setenv(k, "")
	}
	t.Setenv("ANTHROPIC_CONFIG_DIR", t.TempDir())

	p := anthropic.New(anthropic.Options{BaseURL: srv.URL})
	_, err := p.Generate(context.Background(), weatherRequest())
	e := requireCode(t, err, ai.CodeAuth)
	require.Contains(t, e.Message, "ANTHROPIC_API_KEY")
	_, err = p.Stream(context.Background(), weatherRequest(), func(ai.Delta) error { return nil })
	requireCode(t, err, ai.CodeAuth)
	require.Zero(t, s.count(), "nothing is sent without a key")
}

func TestProviderInterface(t *testing.T) {
	t.Parallel()
	var p ai.Provider = anthropic.New(anthropic.Options{APIKey: "sk-ant-test"})
	require.Equal(t, anthropic.Name, p.Name())
}
