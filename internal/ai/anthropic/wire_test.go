package anthropic_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/ai/aitest"
	"github.com/aiflow/aiflow/internal/ai/anthropic"
)

// piecesReply answers with stream written in pieces of size bytes, each
// flushed on its own, so the client reads events and lines split across
// reads.
func piecesReply(stream []byte, size int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for len(stream) > 0 {
			n := min(size, len(stream))
			_, _ = w.Write(stream[:n])
			w.(http.Flusher).Flush()
			stream = stream[n:]
		}
	}
}

func TestStreamSplitAcrossReads(t *testing.T) {
	t.Parallel()
	stream := fixture(t, "stream_tool_use.sse")
	for _, size := range []int{1, 3, 7, 100} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			t.Parallel()
			b := setup(t, piecesReply(stream, size))
			var deltas []string
			resp, err := b.provider.Stream(context.Background(), weatherRequest(), func(d ai.Delta) error {
				deltas = append(deltas, d.Text)
				return nil
			})
			require.NoError(t, err)
			require.Equal(t, []string{"I'll look up", " the weather in San Francisco."}, deltas)
			aitest.RequireResponse(t, wantWeatherResponse(), resp)
		})
	}
}

const messageStart = "event: message_start\n" +
	`data: {"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}}` + "\n\n"

const textStart = "event: content_block_start\n" +
	`data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}` + "\n\n"

const helDelta = "event: content_block_delta\n" +
	`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}` + "\n\n"

func TestMalformedStreams(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		stream  string
		message string
	}{
		"data that is not JSON": {
			messageStart + textStart + helDelta + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\n\n",
			`reading the answer stream (after 4 events): the data of a "content_block_delta" event is not a JSON event object`,
		},
		"a delta for a block that has not started": {
			messageStart + textStart + helDelta + "event: content_block_delta\n" +
				`data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"lo"}}` + "\n\n",
			"content_block_delta for content block 1, but 1 blocks have started",
		},
		"a block started out of order": {
			messageStart + textStart + helDelta + "event: content_block_start\n" +
				`data: {"type":"content_block_start","index":5,"content_block":{"type":"text","text":""}}` + "\n\n",
			"content_block_start for index 5, expected index 1",
		},
		"a block event before message_start": {
			textStart,
			"a content_block_start event arrived before message_start",
		},
		"a tool call whose input is not JSON": {
			messageStart + textStart + helDelta +
				"event: content_block_start\n" + `data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{}}}` + "\n\n" +
				"event: content_block_delta\n" + `data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"location\": \"Par"}}` + "\n\n" +
				"event: content_block_stop\n" + `data: {"type":"content_block_stop","index":1}` + "\n\n",
			"the input of tool call toolu_01 is not valid JSON",
		},
		"an error event that is not JSON": {
			messageStart + textStart + helDelta + "event: error\ndata: upstream connect error\n\n",
			`the data of a "error" event is not a JSON event object`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, piecesReply([]byte(tc.stream), 9))
			_, err := b.provider.Stream(context.Background(), weatherRequest(), func(ai.Delta) error { return nil })
			e := requireCode(t, err, ai.CodeUnavailable)
			require.Contains(t, e.Message, tc.message)
			require.Contains(t, e.Error(), "anthropic")
		})
	}
}

// TestStreamSkipsWhatItDoesNotUse: thinking blocks, signature and
// citation deltas, pings, and event types the API may add later are read
// past; message_delta's restated input counts replace message_start's.
func TestStreamSkipsWhatItDoesNotUse(t *testing.T) {
	t.Parallel()
	stream := messageStart +
		"event: content_block_start\n" + `data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}` + "\n\n" +
		"event: content_block_delta\n" + `data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"The user wants a greeting."}}` + "\n\n" +
		"event: content_block_delta\n" + `data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM"}}` + "\n\n" +
		"event: content_block_stop\n" + `data: {"type":"content_block_stop","index":0}` + "\n\n" +
		"event: ping\n" + `data: {"type": "ping"}` + "\n\n" +
		"event: content_block_start\n" + `data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}` + "\n\n" +
		"event: content_block_delta\n" + `data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hello."}}` + "\n\n" +
		"event: some_future_event\n" + `data: {"type":"some_future_event","detail":1}` + "\n\n" +
		"event: content_block_stop\n" + `data: {"type":"content_block_stop","index":1}` + "\n\n" +
		"event: message_delta\n" + `data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":20,"cache_read_input_tokens":100,"output_tokens":15}}` + "\n\n" +
		"event: message_stop\n" + `data: {"type":"message_stop"}` + "\n\n"
	b := setup(t, sseReply([]byte(stream)))
	var deltas []string
	resp, err := b.provider.Stream(context.Background(), weatherRequest(), func(d ai.Delta) error {
		deltas = append(deltas, d.Text)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{"Hello."}, deltas)
	aitest.RequireResponse(t, ai.Response{Text: "Hello.", StopReason: ai.StopEndTurn, Usage: ai.Usage{InputTokens: 120, OutputTokens: 15}, Model: "claude-sonnet-4-5-20250929"}, resp)
}

func TestThrottledStreamWithRetryAfter(t *testing.T) {
	t.Parallel()
	b := setup(t, errorReply(429, "rate_limit_error", "Number of requests has exceeded your rate limit", map[string]string{"retry-after": "12"}))
	_, err := b.provider.Stream(context.Background(), weatherRequest(), func(ai.Delta) error { return nil })
	e := requireCode(t, err, ai.CodeThrottled)
	require.Equal(t, 429, e.StatusCode)
	require.Equal(t, "429 rate_limit_error: Number of requests has exceeded your rate limit", e.Message)
	require.Equal(t, "12s", e.RetryAfter.String())
	require.ErrorContains(t, e.Err, "req_011CSHoEeqs5C35K2UUqR7Fy", "the request id stays in the wrapped error, for logs")
}

func TestErrorBodyThatIsNotJSON(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html>bad gateway</html>")
	})
	_, err := b.provider.Generate(context.Background(), weatherRequest())
	e := requireCode(t, err, ai.CodeUnavailable)
	require.Equal(t, "502 Bad Gateway", e.Message)
	require.Equal(t, 502, e.StatusCode)
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t, jsonReply(fixture(t, "message_tool_use.json")))
	_, err := b.provider.Generate(context.Background(), weatherRequest())
	require.NoError(t, err)
	got := b.server.only(t).header
	require.Equal(t, anthropic.APIVersion, got.Get("anthropic-version"))
	require.Equal(t, "2026-10-21", got.Get("anthropic-version"))
	require.Equal(t, "application/json", got.Get("Content-Type"))
	require.Equal(t, "application/json", got.Get("Accept"))
	require.Empty(t, got.Get("x-api-key"))
}

func TestStreamHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t, sseReply(fixture(t, "stream_tool_use.sse")))
	_, err := b.provider.Stream(context.Background(), weatherRequest(), func(ai.Delta) error { return nil })
	require.NoError(t, err)
	require.Equal(t, "text/event-stream", b.server.only(t).header.Get("Accept"))
}

// TestAuthTokenAndCustomHeaders cannot run in parallel: it sets the
// variables Anthropic's SDKs read.
func TestAuthTokenAndCustomHeaders(t *testing.T) {
	s := &server{respond: jsonReply(fixture(t, "message_tool_use.json"))}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	t.Setenv("ANTHROPIC_API_KEY", "")
	t.Setenv("ANTHROPIC_AUTH_TOKEN", "oauth-token")
	t.Setenv("ANTHROPIC_CUSTOM_HEADERS", "X-Gateway-Route: eu\nanthropic-beta: context-1m")
	p := anthropic.New(anthropic.Options{BaseURL: srv.URL + "/"})
	_, err := p.Generate(context.Background(), weatherRequest())
	require.NoError(t, err)
	got := s.only(t)
	require.Equal(t, "/v1/messages", got.path)
	require.Equal(t, "Bearer oauth-token", got.header.Get("Authorization"))
	require.Equal(t, "eu", got.header.Get("X-Gateway-Route"))
	require.Equal(t, "context-1m", got.header.Get("anthropic-beta"))
}

func TestGenerateThatWouldTakeTooLong(t *testing.T) {
	t.Parallel()
	b := setup(t, jsonReply(fixture(t, "message_tool_use.json")))
	req := weatherRequest()
	req.MaxTokens = 64000
	_, err := b.provider.Generate(context.Background(), req)
	e := requireCode(t, err, ai.CodeInvalidRequest)
	require.Contains(t, e.Message, "use a streamed call")
	require.Zero(t, b.server.count())

	// Streamed, the same request is sent.
	b = setup(t, sseReply(fixture(t, "stream_tool_use.sse")))
	_, err = b.provider.Stream(context.Background(), req, func(ai.Delta) error { return nil })
	require.NoError(t, err)
	require.EqualValues(t, 64000, b.server.only(t).body["max_tokens"])
}

func TestToolSchemaKeepsItsNumbers(t *testing.T) {
	t.Parallel()
	b := setup(t, jsonReply(fixture(t, "message_tool_use.json")))
	req := weatherRequest()
	req.Tools[0].InputSchema = json.RawMessage(`{"properties":{"n":{"type":"integer","maximum":12345678901234567890}}}`)
	_, err := b.provider.Generate(context.Background(), req)
	require.NoError(t, err)
	raw := string(b.server.only(t).rawBody)
	require.Contains(t, raw, `"maximum":12345678901234567890`)
	var body struct {
		Tools []struct {
			InputSchema map[string]any `json:"input_schema"`
		} `json:"tools"`
	}
	require.NoError(t, json.Unmarshal(b.server.only(t).rawBody, &body))
	require.Equal(t, "object", body.Tools[0].InputSchema["type"], "a schema without a type is sent as an object schema")
}
