package openai_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/ai/aitest"
	"github.com/aiflow/aiflow/internal/ai/openai"
)

// streamServer answers every request with body as an event stream, written
// in pieces of size bytes, each flushed on its own, so the client reads
// chunks, events and lines split across reads.
func streamServer(t *testing.T, body string, size int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for len(body) > 0 {
			n := min(size, len(body))
			_, _ = io.WriteString(w, body[:n])
			w.(http.Flusher).Flush()
			body = body[n:]
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// recordedStream is what the fake API streams for reply, as bytes.
func recordedStream(t *testing.T, reply ai.Response) string {
	t.Helper()
	rec := httptest.NewRecorder()
	writeStream(rec, reply)
	return rec.Body.String()
}

func TestStreamSplitAcrossReads(t *testing.T) {
	t.Parallel()
	conv := aitest.ToolConversation(model)
	reply := conv.ToolUse
	reply.Text = "Let me look that up — in Paris, Île-de-France."
	stream := recordedStream(t, reply)
	for _, size := range []int{1, 3, 7, 64} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			t.Parallel()
			p := openai.New(openai.Options{APIKey: "k", BaseURL: streamServer(t, stream, size)})
			var text strings.Builder
			resp, err := p.Stream(context.Background(), conv.First, func(d ai.Delta) error {
				text.WriteString(d.Text)
				return nil
			})
			require.NoError(t, err)
			aitest.RequireResponse(t, reply, resp)
			require.Equal(t, reply.Text, text.String())
		})
	}
}

func TestStreamFailures(t *testing.T) {
	t.Parallel()
	first := `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}` + "\n\n"
	for name, tc := range map[string]struct {
		stream  string
		code    ai.Code
		message []string
	}{
		"a rate limit in the middle": {
			stream:  first + `data: {"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}` + "\n\n",
			code:    ai.CodeThrottled,
			message: []string{"Rate limit reached for requests"},
		},
		"an invalid request in the middle": {
			stream:  first + `data: {"error":{"message":"Invalid tool schema","type":"invalid_request_error","param":null,"code":null}}` + "\n\n",
			code:    ai.CodeInvalidRequest,
			message: []string{"Invalid tool schema"},
		},
		"the content filter in the middle": {
			stream:  first + `data: {"error":{"message":"filtered","type":"invalid_request_error","param":"prompt","code":"content_filter"}}` + "\n\n",
			code:    ai.CodeContentFiltered,
			message: []string{"filtered"},
		},
		"an error object without a message": {
			stream:  first + `data: {"error":{"type":"server_error"}}` + "\n\n",
			code:    ai.CodeUnavailable,
			message: []string{"received error while streaming", "server_error"},
		},
		"an event that is not JSON": {
			stream:  first + "data: {\"id\":\"chatcmpl-1\",\"choices\":[\n\n",
			code:    ai.CodeUnavailable,
			message: []string{"reading the answer stream (after 2 events)", "event 2 is not a chat.completion.chunk object"},
		},
		"a chunk of another completion": {
			stream:  first + strings.Replace(first, "chatcmpl-1", "chatcmpl-2", 1),
			code:    ai.CodeUnavailable,
			message: []string{`a chunk of completion "chatcmpl-2" arrived in the stream of "chatcmpl-1"`},
		},
		"a tool call index far out of range": {
			stream:  first + `data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":100000,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null}]}` + "\n\n",
			code:    ai.CodeUnavailable,
			message: []string{"a tool call's index 100000 is out of range"},
		},
		"the stream ends before a finish reason": {
			stream:  first,
			code:    ai.CodeUnavailable,
			message: []string{"the stream ended before a finish_reason or data: [DONE]"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := openai.New(openai.Options{APIKey: "k", BaseURL: streamServer(t, tc.stream, 5)})
			var got string
			_, err := p.Stream(context.Background(), aitest.TextRequest("gpt-4o", "hi"), func(d ai.Delta) error {
				got += d.Text
				return nil
			})
			e := aitest.RequireCode(t, err, tc.code)
			require.Equal(t, openai.Name, e.Provider)
			require.Zero(t, e.StatusCode, "the stream's status was 200; the error has none of its own")
			for _, m := range tc.message {
				require.Contains(t, e.Message, m)
			}
			require.Equal(t, "Hel", got)
		})
	}
}

// TestStreamWithoutDone: a server that closes the stream after the usage
// chunk without "data: [DONE]" (some servers that speak the API do) still
// answers, since the finish reason came.
func TestStreamWithoutDone(t *testing.T) {
	t.Parallel()
	reply := ai.Response{Text: "Hello there.", StopReason: ai.StopMaxTokens, Usage: ai.Usage{InputTokens: 9, OutputTokens: 3}, Model: model}
	stream := strings.TrimSuffix(recordedStream(t, reply), "data: [DONE]\n\n")
	p := openai.New(openai.Options{APIKey: "k", BaseURL: streamServer(t, stream, 16)})
	resp, err := p.Stream(context.Background(), aitest.TextRequest(model, "hi"), func(ai.Delta) error { return nil })
	require.NoError(t, err)
	aitest.RequireResponse(t, reply, resp)
}

func TestThrottledStreamWithRetryAfter(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("retry-after-ms", "2500")
		w.Header().Set("Retry-After", "3")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"error":{"message":"Rate limit reached for gpt-4.1-mini on requests per min (RPM)","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
	}))
	t.Cleanup(srv.Close)
	p := openai.New(openai.Options{APIKey: "k", BaseURL: srv.URL})
	_, err := p.Stream(context.Background(), aitest.TextRequest(model, "hi"), func(ai.Delta) error { return nil })
	e := aitest.RequireCode(t, err, ai.CodeThrottled)
	require.Equal(t, 2500*time.Millisecond, e.RetryAfter)
	require.Equal(t, 429, e.StatusCode)
	require.Equal(t, "Rate limit reached for gpt-4.1-mini on requests per min (RPM)", e.Message)
}

func TestErrorBodyThatIsNotJSON(t *testing.T) {
	t.Parallel()
	for status, code := range map[int]ai.Code{502: ai.CodeUnavailable, 429: ai.CodeThrottled, 404: ai.CodeInvalidRequest} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, "<html><body>upstream failed</body></html>")
		}))
		t.Cleanup(srv.Close)
		p := openai.New(openai.Options{APIKey: "k", BaseURL: srv.URL})
		_, err := p.Generate(context.Background(), aitest.TextRequest(model, "hi"))
		e := aitest.RequireCode(t, err, code)
		require.Equal(t, status, e.StatusCode)
		require.Equal(t, http.StatusText(status), e.Message)
		require.ErrorContains(t, e.Err, "upstream failed", "the body stays in the wrapped error, for logs")
	}
}

func TestAnswerThatIsNotJSON(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"chatcmpl-1","choices":[`)
	}))
	t.Cleanup(srv.Close)
	p := openai.New(openai.Options{APIKey: "k", BaseURL: srv.URL})
	_, err := p.Generate(context.Background(), aitest.TextRequest(model, "hi"))
	e := aitest.RequireCode(t, err, ai.CodeUnavailable)
	require.Contains(t, e.Message, "decoding the chat.completion answer")
}

func TestBadBaseURLIsInvalidRequest(t *testing.T) {
	t.Parallel()
	p := openai.New(openai.Options{APIKey: "k", BaseURL: "api.openai.com/v1"})
	_, err := p.Generate(context.Background(), aitest.TextRequest(model, "hi"))
	e := aitest.RequireCode(t, err, ai.CodeInvalidRequest)
	require.Contains(t, e.Message, "has no scheme or host")
}

// headerServer records the headers of every request and answers with a
// completion.
type headerServer struct {
	mu      sync.Mutex
	headers []http.Header
	url     string
}

func newHeaderServer(t *testing.T) *headerServer {
	t.Helper()
	h := &headerServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.headers = append(h.headers, r.Header.Clone())
		h.mu.Unlock()
		if bytes.Contains([]byte(r.Header.Get("Accept")), []byte("event-stream")) {
			writeStream(w, ai.Response{Text: "ok", StopReason: ai.StopEndTurn, Model: model})
			return
		}
		writeCompletion(w, ai.Response{Text: "ok", StopReason: ai.StopEndTurn, Model: model})
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

func (h *headerServer) last(t *testing.T) http.Header {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	require.NotEmpty(t, h.headers)
	return h.headers[len(h.headers)-1]
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	h := newHeaderServer(t)
	p := openai.New(openai.Options{APIKey: "sk-test", BaseURL: h.url})
	_, err := p.Generate(context.Background(), aitest.TextRequest(model, "hi"))
	require.NoError(t, err)
	got := h.last(t)
	require.Equal(t, "Bearer sk-test", got.Get("Authorization"))
	require.Equal(t, "application/json", got.Get("Content-Type"))
	require.Equal(t, "application/json", got.Get("Accept"))
	require.Empty(t, got.Get("OpenAI-Organization"))

	_, err = p.Stream(context.Background(), aitest.TextRequest(model, "hi"), func(ai.Delta) error { return nil })
	require.NoError(t, err)
	require.Equal(t, "text/event-stream", h.last(t).Get("Accept"))
}

// TestOrganizationProjectAndCustomHeaders cannot run in parallel: it sets
// the variables OpenAI's SDKs read.
func TestOrganizationProjectAndCustomHeaders(t *testing.T) {
	h := newHeaderServer(t)
	t.Setenv("OPENAI_ORG_ID", "org-123")
	t.Setenv("OPENAI_PROJECT_ID", "proj_456")
	t.Setenv("OPENAI_CUSTOM_HEADERS", "X-Gateway-Route: eu\nHelicone-Auth: Bearer h")
	p := openai.New(openai.Options{APIKey: "sk-test", BaseURL: h.url})
	_, err := p.Stream(context.Background(), aitest.TextRequest(model, "hi"), func(ai.Delta) error { return nil })
	require.NoError(t, err)
	got := h.last(t)
	require.Equal(t, "org-123", got.Get("OpenAI-Organization"))
	require.Equal(t, "proj_456", got.Get("OpenAI-Project"))
	require.Equal(t, "eu", got.Get("X-Gateway-Route"))
	require.Equal(t, "Bearer h", got.Get("Helicone-Auth"))
	require.Equal(t, "Bearer sk-test", got.Get("Authorization"))
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	c := aitest.Case{Request: aitest.TextRequest(model, "hi"), Failure: &aitest.Failure{Hang: true}}
	p, _ := setup(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := p.Stream(ctx, c.Request, func(ai.Delta) error { return nil })
	e := aitest.RequireCode(t, err, ai.CodeTimeout)
	require.ErrorIs(t, e, context.DeadlineExceeded)

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	_, err = p.Generate(ctx, c.Request)
	e = aitest.RequireCode(t, err, ai.CodeUnavailable)
	require.ErrorIs(t, e, context.Canceled)
}

func TestDeadlineMidStream(t *testing.T) {
	t.Parallel()
	stream := recordedStream(t, ai.Response{Text: "Hello there, friend.", StopReason: ai.StopEndTurn, Model: model})
	cut := stream[:strings.Index(stream, `"finish_reason":"stop"`)]
	cut = cut[:strings.LastIndex(cut, "data: ")]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, cut)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	p := openai.New(openai.Options{APIKey: "k", BaseURL: srv.URL})
	ctx := aitest.NewPassingDeadline()
	var text string
	_, err := p.Stream(ctx, aitest.TextRequest(model, "hi"), func(d ai.Delta) error {
		text += d.Text
		if text == "Hello there, friend." {
			ctx.Pass()
		}
		return nil
	})
	aitest.RequireCode(t, err, ai.CodeTimeout)
	require.Equal(t, "Hello there, friend.", text)
}
