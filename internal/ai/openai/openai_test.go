package openai_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/ai/aitest"
	"github.com/aiflow/aiflow/internal/ai/openai"
)

const model = "gpt-4.1-mini-2025-04-14"

func TestConformance(t *testing.T) {
	t.Parallel()
	aitest.Suite{
		Model: model,
		NewProvider: func(t *testing.T, c aitest.Case) ai.Provider {
			p, _ := setup(t, c)
			return p
		},
		RetryAfter: true,
	}.Run(t)
}

func replyCase(req ai.Request, resp ai.Response) aitest.Case {
	return aitest.Case{Name: "custom", Request: req, Reply: &resp}
}

func TestRequestBody(t *testing.T) {
	t.Parallel()
	conv := aitest.ToolConversation(model)
	req := conv.Second
	req.StopSequences = []string{"\n\nEND"}
	req.Output = &ai.OutputSchema{Name: "weather report", Schema: json.RawMessage(aitest.TriageSchema)}
	p, f := setup(t, replyCase(req, conv.Final))

	_, err := p.Generate(context.Background(), req)
	require.NoError(t, err)
	got, err := json.Marshal(f.lastBody(t))
	require.NoError(t, err)
	require.JSONEq(t, `{
		"model": "gpt-4.1-mini-2025-04-14",
		"messages": [
			{"role": "system", "content": "You answer briefly."},
			{"role": "user", "content": "What is the weather and the time in Paris?"},
			{"role": "assistant", "content": "Let me look that up.", "tool_calls": [
				{"id": "call_weather_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\",\"unit\":\"celsius\"}"}},
				{"id": "call_time_2", "type": "function", "function": {"name": "get_time", "arguments": "{\"city\":\"Paris\"}"}}
			]},
			{"role": "tool", "tool_call_id": "call_weather_1", "content": "{\"temperature\":18,\"sky\":\"cloudy\"}"},
			{"role": "tool", "tool_call_id": "call_time_2", "content": "Error: clock service unreachable"}
		],
		"tools": [
			{"type": "function", "function": {"name": "get_weather", "description": "The current weather in a city.",
				"parameters": {"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city"]}}},
			{"type": "function", "function": {"name": "get_time", "description": "The local time in a city.",
				"parameters": {"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}
		],
		"temperature": 0.2,
		"top_p": 0.9,
		"max_completion_tokens": 300,
		"stop": ["\n\nEND"],
		"response_format": {"type": "json_schema", "json_schema": {"name": "weather_report", "strict": true, "schema": `+aitest.TriageSchema+`}}
	}`, string(got))
	f.mu.Lock()
	require.Equal(t, "Bearer sk-test", f.headers[0].Get("Authorization"))
	f.mu.Unlock()

	_, err = p.Stream(context.Background(), req, func(ai.Delta) error { return nil })
	require.NoError(t, err)
	body := f.lastBody(t)
	require.Equal(t, true, body["stream"])
	require.Equal(t, map[string]any{"include_usage": true}, body["stream_options"])
}

func TestSchemaThatStrictModeRejectsIsSentNotStrict(t *testing.T) {
	t.Parallel()
	req := aitest.TextRequest(model, "Research this")
	req.Output = &ai.OutputSchema{Schema: json.RawMessage(`{"type":"object","required":["answer"],"properties":{"answer":{"type":"string"},"open_questions":{"type":"array","items":{"type":"string"}}}}`)}
	p, f := setup(t, replyCase(req, ai.Response{Text: `{"answer":"yes"}`, StopReason: ai.StopEndTurn, Model: model}))
	_, err := p.Generate(context.Background(), req)
	require.NoError(t, err)
	format := f.lastBody(t)["response_format"].(map[string]any)["json_schema"].(map[string]any)
	require.Equal(t, false, format["strict"])
	require.Equal(t, "output", format["name"])
}

func TestStrict(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		schema string
		want   bool
	}{
		{aitest.TriageSchema, true},
		{`{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}`, false},
		{`{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"required":["a"],"additionalProperties":false}`, false},
		{`{"type":"object","properties":{"a":{"type":"array","items":{"type":"object","properties":{"x":{"type":"string"}}}}},"required":["a"],"additionalProperties":false}`, false},
		{`{"type":"object","properties":{"a":{"type":"array","items":{"type":"object","properties":{"x":{"type":"string"}},"required":["x"],"additionalProperties":false}}},"required":["a"],"additionalProperties":false}`, true},
		{`{"type":"string"}`, true},
	} {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(tc.schema), &m))
		require.Equal(t, tc.want, openai.Strict(m), tc.schema)
	}
}

func TestToolCallsSplitAcrossChunks(t *testing.T) {
	t.Parallel()
	conv := aitest.ToolConversation(model)
	p, _ := setup(t, replyCase(conv.First, conv.ToolUse))
	resp, deltas := aitest.RequireGenerateStreamAgree(t, p, conv.First)
	aitest.RequireResponse(t, conv.ToolUse, resp)
	require.Len(t, deltas, len(aitest.Chunks(conv.ToolUse.Text, 8)))
}

func TestRefusalIsContentFiltered(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprint(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o",
			"choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I'm sorry, I cannot help with that."},"logprobs":null,"finish_reason":"stop"}],
			"usage":{"prompt_tokens":5,"completion_tokens":9,"total_tokens":14}}`)
	}))
	t.Cleanup(srv.Close)
	p := openai.New(openai.Options{APIKey: "k", BaseURL: srv.URL})
	resp, err := p.Generate(context.Background(), aitest.TextRequest("gpt-4o", "hi"))
	require.NoError(t, err)
	require.Equal(t, ai.StopContentFiltered, resp.StopReason)
	require.Equal(t, "I'm sorry, I cannot help with that.", resp.Text)
}

func TestContentFilterErrorCode(t *testing.T) {
	t.Parallel()
	c := aitest.Case{Request: aitest.TextRequest(model, "hi"), Failure: &aitest.Failure{Status: 400, Message: "The response was filtered due to the prompt triggering content management policy."}}
	p, f := setup(t, c)
	f.code = "content_filter"
	_, err := p.Generate(context.Background(), c.Request)
	e := aitest.RequireCode(t, err, ai.CodeContentFiltered)
	require.Equal(t, 400, e.StatusCode)
}

func TestRetryAfterHeaders(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"seconds", http.Header{"Retry-After": {"7"}}, 7 * time.Second},
		{"fractional seconds", http.Header{"Retry-After": {"0.5"}}, 500 * time.Millisecond},
		{"milliseconds win", http.Header{"Retry-After-Ms": {"1250"}, "Retry-After": {"2"}}, 1250 * time.Millisecond},
		{"date", http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second},
		{"date in the past", http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0},
		{"garbage", http.Header{"Retry-After": {"soon"}}, 0},
		{"none", http.Header{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header()[k] = v
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = fmt.Fprint(w, `{"error":{"message":"Rate limit reached for gpt-4.1-mini on tokens per min (TPM)","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`)
			}))
			t.Cleanup(srv.Close)
			p := openai.New(openai.Options{APIKey: "k", BaseURL: srv.URL, NowFunc: func() time.Time { return now }})
			_, err := p.Generate(context.Background(), aitest.TextRequest(model, "hi"))
			e := aitest.RequireCode(t, err, ai.CodeThrottled)
			require.Equal(t, tc.want, e.RetryAfter)
			require.Contains(t, e.Message, "Rate limit reached")
		})
	}
}

func TestSDKRetriesAreOff(t *testing.T) {
	t.Parallel()
	for _, status := range []int{429, 500, 503} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			c := aitest.Case{Request: aitest.TextRequest(model, "hi"), Failure: &aitest.Failure{Status: status, Message: "no", RetryAfter: time.Second}}
			p, f := setup(t, c)
			_, err := p.Generate(context.Background(), c.Request)
			require.Error(t, err)
			_, err = p.Stream(context.Background(), c.Request, func(ai.Delta) error { return nil })
			require.Error(t, err)
			f.mu.Lock()
			defer f.mu.Unlock()
			require.Equal(t, 2, f.requests, "one request per call: the Retrier retries, not the SDK")
		})
	}
}

func TestErrorInTheMiddleOfAStream(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = fmt.Fprint(w, `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}`+"\n\n")
		_, _ = fmt.Fprint(w, `data: {"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}`+"\n\n")
	}))
	t.Cleanup(srv.Close)
	p := openai.New(openai.Options{APIKey: "k", BaseURL: srv.URL})
	var got string
	_, err := p.Stream(context.Background(), aitest.TextRequest("gpt-4o", "hi"), func(d ai.Delta) error {
		got += d.Text
		return nil
	})
	e := aitest.RequireCode(t, err, ai.CodeUnavailable)
	require.Equal(t, "The server had an error while processing your request.", e.Message)
	require.Equal(t, "Hel", got)
}

func TestUnreachableServerIsUnavailable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	p := openai.New(openai.Options{APIKey: "k", BaseURL: url})
	_, err := p.Generate(context.Background(), aitest.TextRequest(model, "hi"))
	e := aitest.RequireCode(t, err, ai.CodeUnavailable)
	require.Equal(t, "openai", e.Provider)
	require.NotContains(t, e.Message, "sk-")
}

func TestInvalidToolArgumentsArePassedAsAString(t *testing.T) {
	t.Parallel()
	req := aitest.ToolConversation(model).First
	reply := ai.Response{ToolCalls: []ai.ToolCall{{ID: "call_1", Name: "get_weather", Arguments: json.RawMessage(`{"city":"Par`)}}, StopReason: ai.StopToolUse, Model: model}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeCompletion(w, reply)
	}))
	t.Cleanup(srv.Close)
	p := openai.New(openai.Options{APIKey: "k", BaseURL: srv.URL})
	resp, err := p.Generate(context.Background(), req)
	require.NoError(t, err)
	require.JSONEq(t, `"{\"city\":\"Par"`, string(resp.ToolCalls[0].Arguments))
}

func TestBadSchemaIsInvalidRequest(t *testing.T) {
	t.Parallel()
	req := aitest.TextRequest(model, "hi")
	req.Tools = []ai.Tool{{Name: "t", InputSchema: json.RawMessage(`[1]`)}}
	p, f := setup(t, replyCase(req, ai.Response{}))
	_, err := p.Generate(context.Background(), req)
	e := aitest.RequireCode(t, err, ai.CodeInvalidRequest)
	require.Contains(t, e.Message, "tool t: input schema")
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Zero(t, f.requests)
}

// TestEnvironment cannot run in parallel: it sets OPENAI_BASE_URL and
// OPENAI_API_KEY.
func TestEnvironment(t *testing.T) {
	c := replyCase(aitest.TextRequest(model, "hi"), ai.Response{Text: "hello", StopReason: ai.StopEndTurn, Model: model})
	f := &fakeAPI{t: t, c: c}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	t.Setenv("OPENAI_BASE_URL", srv.URL+"/v1")
	t.Setenv("OPENAI_API_KEY", "sk-from-env")
	resp, err := openai.New(openai.Options{}).Generate(context.Background(), c.Request)
	require.NoError(t, err)
	require.Equal(t, "hello", resp.Text)
	f.mu.Lock()
	require.Equal(t, "Bearer sk-from-env", f.headers[0].Get("Authorization"))
	f.mu.Unlock()

	// Options win over the environment.
	_, err = openai.New(openai.Options{APIKey: "sk-option", BaseURL: srv.URL + "/v1/"}).Generate(context.Background(), c.Request)
	require.NoError(t, err)
	f.mu.Lock()
	require.Equal(t, "Bearer sk-option", f.headers[1].Get("Authorization"))
	f.mu.Unlock()
}

func TestWithRetrier(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = fmt.Fprint(w, `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
			return
		}
		writeCompletion(w, ai.Response{Text: "ok", StopReason: ai.StopEndTurn, Model: model})
	}))
	t.Cleanup(srv.Close)
	p := openai.New(openai.Options{APIKey: "k", BaseURL: srv.URL})
	var waits []time.Duration
	r := ai.Retrier{
		SleepFunc: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil },
		RandFunc:  func(int64) int64 { return 0 },
	}
	res, err := r.DoResult(context.Background(), func(ctx context.Context) (ai.Response, error) {
		return p.Generate(ctx, aitest.TextRequest(model, "hi"))
	})
	require.NoError(t, err)
	require.Equal(t, "ok", res.Response.Text)
	require.Equal(t, 2, res.Attempts)
	require.Equal(t, []time.Duration{3 * time.Second}, waits)
}

func writeCompletion(w http.ResponseWriter, r ai.Response) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(completion(r))
}

func BenchmarkStream(b *testing.B) {
	b.ReportAllocs()
	conv := aitest.ToolConversation(model)
	f := &fakeAPI{c: replyCase(conv.First, conv.ToolUse)}
	srv := httptest.NewServer(f)
	b.Cleanup(srv.Close)
	p := openai.New(openai.Options{APIKey: "k", BaseURL: srv.URL + "/v1/"})
	ctx := context.Background()
	for b.Loop() {
		if _, err := p.Stream(ctx, conv.First, func(ai.Delta) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
