package anthropic_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/ai/aitest"
	"github.com/aiflow/aiflow/internal/ai/anthropic"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	aitest.Suite{
		Model: "claude-sonnet-4-5-20250929",
		NewProvider: func(t *testing.T, c aitest.Case) ai.Provider {
			srv := httptest.NewServer(fakeAPI(t, c))
			t.Cleanup(srv.Close)
			return anthropic.New(anthropic.Options{APIKey: "sk-ant-test", BaseURL: srv.URL})
		},
		RetryAfter: true,
	}.Run(t)
}

// fakeAPI answers POST /v1/messages with c, in the Messages API's wire
// format: the message object, or the SSE stream when the body asks for
// "stream", or the error object.
func fakeAPI(t *testing.T, c aitest.Case) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Model  string `json:"model"`
			Stream bool   `json:"stream"`
		}
		raw, err := io.ReadAll(r.Body)
		if err != nil || json.Unmarshal(raw, &body) != nil || r.URL.Path != "/v1/messages" {
			http.Error(w, "bad request to the fake", http.StatusTeapot)
			return
		}
		if body.Model != c.Request.Model {
			http.Error(w, "the fake was asked for another model", http.StatusTeapot)
			return
		}
		switch {
		case c.Failure != nil && c.Failure.Hang:
			<-r.Context().Done()
		case c.Failure != nil:
			if c.Failure.RetryAfter > 0 {
				w.Header().Set("retry-after", strconv.Itoa(int(c.Failure.RetryAfter.Seconds())))
			}
			errorReply(c.Failure.Status, errorType(c.Failure.Status), c.Failure.Message, nil)(w, r)
		case body.Stream:
			sseReply(encodeStream(t, *c.Reply))(w, r)
		default:
			jsonReply(encodeMessage(t, *c.Reply))(w, r)
		}
	}
}

// errorType is the error type the API documents for a status.
func errorType(status int) string {
	switch status {
	case 400:
		return "invalid_request_error"
	case 401:
		return "authentication_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 413:
		return "request_too_large"
	case 429:
		return "rate_limit_error"
	case 529:
		return "overloaded_error"
	default:
		return "api_error"
	}
}

func wireStopReason(r ai.StopReason) string {
	if r == ai.StopContentFiltered {
		return "refusal"
	}
	return string(r)
}

func contentBlocks(resp ai.Response) []map[string]any {
	var blocks []map[string]any
	if resp.Text != "" {
		blocks = append(blocks, map[string]any{"type": "text", "text": resp.Text})
	}
	for _, call := range resp.ToolCalls {
		blocks = append(blocks, map[string]any{"type": "tool_use", "id": call.ID, "name": call.Name, "input": call.Arguments})
	}
	return blocks
}

func encodeMessage(t *testing.T, resp ai.Response) []byte {
	t.Helper()
	blocks := contentBlocks(resp)
	if blocks == nil {
		blocks = []map[string]any{}
	}
	b, err := json.Marshal(map[string]any{
		"id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant",
		"model":         resp.Model,
		"content":       blocks,
		"stop_reason":   wireStopReason(resp.StopReason),
		"stop_sequence": nil,
		"usage":         map[string]any{"input_tokens": resp.Usage.InputTokens, "output_tokens": resp.Usage.OutputTokens},
	})
	require.NoError(t, err)
	return b
}

// encodeStream writes resp as the event stream the API sends: message_start
// with the input tokens, each block started, its text or input JSON in
// pieces, stopped, pings in between, then message_delta with the stop reason
// and the output tokens, and message_stop.
func encodeStream(t *testing.T, resp ai.Response) []byte {
	t.Helper()
	var out []byte
	event := func(name string, data any) {
		b, err := json.Marshal(data)
		require.NoError(t, err)
		out = fmt.Appendf(out, "event: %s\ndata: %s\n\n", name, b)
	}
	event("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "model": resp.Model,
		"content": []any{}, "stop_reason": nil, "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": resp.Usage.InputTokens, "output_tokens": 1},
	}})
	event("ping", map[string]any{"type": "ping"})
	index := 0
	if resp.Text != "" {
		event("content_block_start", map[string]any{"type": "content_block_start", "index": index, "content_block": map[string]any{"type": "text", "text": ""}})
		for _, piece := range aitest.Chunks(resp.Text, 16) {
			event("content_block_delta", map[string]any{"type": "content_block_delta", "index": index, "delta": map[string]any{"type": "text_delta", "text": piece}})
		}
		event("content_block_stop", map[string]any{"type": "content_block_stop", "index": index})
		index++
	}
	for _, call := range resp.ToolCalls {
		event("content_block_start", map[string]any{"type": "content_block_start", "index": index, "content_block": map[string]any{"type": "tool_use", "id": call.ID, "name": call.Name, "input": map[string]any{}}})
		event("content_block_delta", map[string]any{"type": "content_block_delta", "index": index, "delta": map[string]any{"type": "input_json_delta", "partial_json": ""}})
		for _, piece := range aitest.Chunks(string(call.Arguments), 8) {
			event("content_block_delta", map[string]any{"type": "content_block_delta", "index": index, "delta": map[string]any{"type": "input_json_delta", "partial_json": piece}})
		}
		event("ping", map[string]any{"type": "ping"})
		event("content_block_stop", map[string]any{"type": "content_block_stop", "index": index})
		index++
	}
	event("message_delta", map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": wireStopReason(resp.StopReason), "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": resp.Usage.OutputTokens}})
	event("message_stop", map[string]any{"type": "message_stop"})
	return out
}
