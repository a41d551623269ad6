package bedrock_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/ai/aitest"
	"github.com/aiflow/aiflow/internal/ai/bedrock"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	aitest.Suite{
		Model: "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
		NewProvider: func(t *testing.T, c aitest.Case) ai.Provider {
			f := &fake{respond: caseReply(t, c)}
			srv := httptest.NewServer(f)
			t.Cleanup(srv.Close)
			return bedrock.NewFromConfig(testConfig(), bedrock.Options{Endpoint: srv.URL})
		},
		// Bedrock names no wait with its throttling.
		RetryAfter: false,
	}.Run(t)
}

// caseReply answers Converse and ConverseStream with c in Bedrock's wire
// format.
func caseReply(t *testing.T, c aitest.Case) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Messages []json.RawMessage `json:"messages"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Messages) != len(c.Request.Messages) {
			exception(w, http.StatusBadRequest, "ValidationException", "the fake did not get the case's messages")
			return
		}
		switch {
		case c.Failure != nil && c.Failure.Hang:
			<-r.Context().Done()
		case c.Failure != nil:
			exception(w, c.Failure.Status, exceptionName(c.Failure.Status), c.Failure.Message)
		case r.URL.Path[len(r.URL.Path)-len("converse-stream"):] == "converse-stream":
			streamReply(t, replyFrames(*c.Reply), false)(w, r)
		default:
			b, err := json.Marshal(converseBody(*c.Reply))
			require.NoError(t, err)
			converseReply(string(b))(w, r)
		}
	}
}

// exceptionName is the exception Bedrock documents for a status.
func exceptionName(status int) string {
	switch status {
	case 400:
		return "ValidationException"
	case 401:
		return "UnrecognizedClientException"
	case 403:
		return "AccessDeniedException"
	case 404:
		return "ResourceNotFoundException"
	case 408:
		return "ModelTimeoutException"
	case 429:
		return "ThrottlingException"
	case 503:
		return "ServiceUnavailableException"
	default:
		return "InternalServerException"
	}
}

func wireStopReason(r ai.StopReason) string {
	if r == ai.StopContentFiltered {
		return "content_filtered"
	}
	return string(r)
}

func wireUsage(u ai.Usage) map[string]any {
	return map[string]any{"inputTokens": u.InputTokens, "outputTokens": u.OutputTokens, "totalTokens": u.InputTokens + u.OutputTokens}
}

func converseBody(resp ai.Response) map[string]any {
	content := []any{}
	if resp.Text != "" {
		content = append(content, map[string]any{"text": resp.Text})
	}
	for _, call := range resp.ToolCalls {
		content = append(content, map[string]any{"toolUse": map[string]any{"toolUseId": call.ID, "name": call.Name, "input": call.Arguments}})
	}
	return map[string]any{
		"output":     map[string]any{"message": map[string]any{"role": "assistant", "content": content}},
		"stopReason": wireStopReason(resp.StopReason),
		"usage":      wireUsage(resp.Usage),
		"metrics":    map[string]any{"latencyMs": 412},
	}
}

// replyFrames is resp as ConverseStream sends it: messageStart, the text
// block's deltas (a text block has no start event), each tool call started,
// its input in pieces and stopped, messageStop, and metadata with the usage.
func replyFrames(resp ai.Response) []frame {
	frames := []frame{event("messageStart", map[string]any{"role": "assistant"})}
	index := 0
	if resp.Text != "" {
		for _, piece := range aitest.Chunks(resp.Text, 16) {
			frames = append(frames, event("contentBlockDelta", map[string]any{"contentBlockIndex": index, "delta": map[string]any{"text": piece}}))
		}
		frames = append(frames, event("contentBlockStop", map[string]any{"contentBlockIndex": index}))
		index++
	}
	for _, call := range resp.ToolCalls {
		frames = append(frames, event("contentBlockStart", map[string]any{"contentBlockIndex": index,
			"start": map[string]any{"toolUse": map[string]any{"toolUseId": call.ID, "name": call.Name}}}))
		for _, piece := range aitest.Chunks(string(call.Arguments), 8) {
			frames = append(frames, event("contentBlockDelta", map[string]any{"contentBlockIndex": index,
				"delta": map[string]any{"toolUse": map[string]any{"input": piece}}}))
		}
		frames = append(frames, event("contentBlockStop", map[string]any{"contentBlockIndex": index}))
		index++
	}
	return append(frames,
		event("messageStop", map[string]any{"stopReason": wireStopReason(resp.StopReason)}),
		event("metadata", map[string]any{"usage": wireUsage(resp.Usage), "metrics": map[string]any{"latencyMs": 412}}),
	)
}
