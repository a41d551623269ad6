package openai_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/ai/aitest"
	"github.com/aiflow/aiflow/internal/ai/openai"
)

// fakeAPI speaks Chat Completions as the API reference shows it: POST
// /chat/completions answers a chat.completion object, or with "stream":
// true a text/event-stream of chat.completion.chunk objects (text in small
// pieces, each tool call's name first and its arguments split over
// several chunks, the finish_reason in its own chunk, the usage chunk with
// no choices, then "data: [DONE]"); failures are a status with the
// {"error":{"message","type","param","code"}} body.
type fakeAPI struct {
	t    *testing.T
	c    aitest.Case
	code string // the error body's code, when set

	mu       sync.Mutex
	bodies   []map[string]any
	headers  []http.Header
	requests int
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.bodies = append(f.bodies, body)
	f.headers = append(f.headers, r.Header.Clone())
	f.requests++
	f.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusNotFound)
		return
	}
	if fail := f.c.Failure; fail != nil {
		if fail.Hang {
			<-r.Context().Done()
			return
		}
		writeError(w, fail, f.code)
		return
	}
	if stream, _ := body["stream"].(bool); stream {
		writeStream(w, *f.c.Reply)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(completion(*f.c.Reply))
}

func (f *fakeAPI) lastBody(t *testing.T) map[string]any {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	require.NotEmpty(t, f.bodies)
	return f.bodies[len(f.bodies)-1]
}

// errorTypes are the error body's type and code for a status, as the API
// sends them.
func errorTypes(status int) (typ string, code any) {
	switch status {
	case 429:
		return "requests", "rate_limit_exceeded"
	case 401:
		return "invalid_request_error", "invalid_api_key"
	case 403:
		return "invalid_request_error", "model_not_found"
	case 400:
		return "invalid_request_error", nil
	default:
		return "server_error", nil
	}
}

func writeError(w http.ResponseWriter, fail *aitest.Failure, code string) {
	typ, c := errorTypes(fail.Status)
	if code != "" {
		c = code
	}
	if fail.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(fail.RetryAfter.Seconds())))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(fail.Status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": fail.Message, "type": typ, "param": nil, "code": c,
	}})
}

func finishReason(s ai.StopReason) string {
	switch s {
	case ai.StopToolUse:
		return "tool_calls"
	case ai.StopMaxTokens:
		return "length"
	case ai.StopContentFiltered:
		return "content_filter"
	default:
		return "stop"
	}
}

func usage(u ai.Usage) map[string]any {
	return map[string]any{
		"prompt_tokens":             u.InputTokens,
		"completion_tokens":         u.OutputTokens,
		"total_tokens":              u.InputTokens + u.OutputTokens,
		"prompt_tokens_details":     map[string]any{"cached_tokens": 0, "audio_tokens": 0},
		"completion_tokens_details": map[string]any{"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
	}
}

func completion(r ai.Response) []byte {
	msg := map[string]any{"role": "assistant", "content": nil, "refusal": nil, "annotations": []any{}}
	if r.Text != "" {
		msg["content"] = r.Text
	}
	if len(r.ToolCalls) > 0 {
		var calls []any
		for _, c := range r.ToolCalls {
			calls = append(calls, map[string]any{"id": c.ID, "type": "function", "function": map[string]any{"name": c.Name, "arguments": string(c.Arguments)}})
		}
		msg["tool_calls"] = calls
	}
	b, _ := json.Marshal(map[string]any{
		"id":      "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
		"object":  "chat.completion",
		"created": 1741569952,
		"model":   r.Model,
		"choices": []any{map[string]any{
			"index": 0, "message": msg, "logprobs": nil, "finish_reason": finishReason(r.StopReason),
		}},
		"usage":              usage(r.Usage),
		"service_tier":       "default",
		"system_fingerprint": "fp_44709d6fcb",
	})
	return b
}

func writeStream(w http.ResponseWriter, r ai.Response) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	chunk := func(choices []any, u any) {
		b, _ := json.Marshal(map[string]any{
			"id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1694268190,
			"model": r.Model, "system_fingerprint": "fp_44709d6fcb", "choices": choices, "usage": u,
		})
		_, _ = fmt.Fprintf(w, "data: %s\n\n", b)
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
	}
	delta := func(d map[string]any, finish any) []any {
		return []any{map[string]any{"index": 0, "delta": d, "logprobs": nil, "finish_reason": finish}}
	}
	chunk(delta(map[string]any{"role": "assistant", "content": "", "refusal": nil}, nil), nil)
	for _, piece := range aitest.Chunks(r.Text, 8) {
		chunk(delta(map[string]any{"content": piece}, nil), nil)
	}
	for i, c := range r.ToolCalls {
		chunk(delta(map[string]any{"tool_calls": []any{map[string]any{
			"index": i, "id": c.ID, "type": "function", "function": map[string]any{"name": c.Name, "arguments": ""},
		}}}, nil), nil)
		for _, piece := range aitest.Chunks(string(c.Arguments), 5) {
			chunk(delta(map[string]any{"tool_calls": []any{map[string]any{
				"index": i, "function": map[string]any{"arguments": piece},
			}}}, nil), nil)
		}
	}
	chunk(delta(map[string]any{}, finishReason(r.StopReason)), nil)
	chunk([]any{}, usage(r.Usage))
	_, _ = fmt.Fprint(w, "data: [DONE]\n\n")
}

// setup starts a fake API answering c and returns a provider for it.
func setup(t *testing.T, c aitest.Case) (*openai.Provider, *fakeAPI) {
	t.Helper()
	f := &fakeAPI{t: t, c: c}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return openai.New(openai.Options{APIKey: "sk-test", BaseURL: srv.URL + "/v1/"}), f
}
