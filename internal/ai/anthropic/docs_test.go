package anthropic_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/ai/aitest"
)

var backticked = regexp.MustCompile("`([^`]+)`")

func codeSpans(s string) []string {
	var out []string
	for _, m := range backticked.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestDocsStopReasons keeps the stop_reason table of the Anthropic section
// true.
func TestDocsStopReasons(t *testing.T) {
	t.Parallel()
	rows := aitest.TableRows(t, aitest.DocSection(t, "../../../docs/ai-providers.md", "## Anthropic"), "| `stop_reason` |")
	for _, row := range rows {
		want := ai.StopReason(codeSpans(row[1])[0])
		for _, wire := range codeSpans(row[0]) {
			body := fmt.Sprintf(`{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",`+
				`"content":[{"type":"text","text":"Hi."}],"stop_reason":%q,"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":2}}`, wire)
			b := setup(t, jsonReply([]byte(body)))
			resp, err := b.provider.Generate(context.Background(), weatherRequest())
			require.NoError(t, err, wire)
			require.Equal(t, want, resp.StopReason, wire)
		}
	}
}

// TestDocsStreamErrorTypes keeps the failure table's line on error events
// in the middle of a stream true.
func TestDocsStreamErrorTypes(t *testing.T) {
	t.Parallel()
	rows := aitest.TableRows(t, aitest.DocSection(t, "../../../docs/ai-providers.md", "## Anthropic"), "| failure | name |")
	var cell string
	for _, row := range rows {
		if strings.Contains(row[0], "`error` event") {
			cell = row[1]
		}
	}
	require.NotEmpty(t, cell)
	checked := 0
	for _, part := range strings.Split(cell, ";") {
		spans := codeSpans(part)
		require.GreaterOrEqual(t, len(spans), 2, part)
		code := ai.Code(spans[len(spans)-1])
		for _, errType := range spans[:len(spans)-1] {
			stream := "event: message_start\n" +
				`data: {"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}}` + "\n\n" +
				"event: error\n" +
				fmt.Sprintf(`data: {"type":"error","error":{"type":%q,"message":"Something went wrong"}}`, errType) + "\n\n"
			b := setup(t, sseReply([]byte(stream)))
			_, err := b.provider.Stream(context.Background(), weatherRequest(), func(ai.Delta) error { return nil })
			requireCode(t, err, code)
			checked++
		}
	}
	require.GreaterOrEqual(t, checked, 9)
}

// TestDocsStatusCodes keeps the failure table's line on HTTP statuses true.
func TestDocsStatusCodes(t *testing.T) {
	t.Parallel()
	rows := aitest.TableRows(t, aitest.DocSection(t, "../../../docs/ai-providers.md", "## Anthropic"), "| failure | name |")
	cell := rows[0][1]
	checked := 0
	for _, part := range strings.Split(cell, ";") {
		code := aiCode(part)
		if code == "" {
			continue
		}
		for _, status := range regexp.MustCompile(`\b[1-5]\d\d\b`).FindAllString(part, -1) {
			var n int
			_, err := fmt.Sscan(status, &n)
			require.NoError(t, err)
			b := setup(t, errorReply(n, "api_error", "Something went wrong", nil))
			_, err = b.provider.Generate(context.Background(), weatherRequest())
			e := requireCode(t, err, code)
			require.Equal(t, n, e.StatusCode)
			checked++
		}
	}
	require.GreaterOrEqual(t, checked, 6)
}

// aiCode is the first AI.* name in s, or "".
func aiCode(s string) ai.Code {
	for _, span := range codeSpans(s) {
		if strings.HasPrefix(span, "AI.") {
			return ai.Code(span)
		}
	}
	return ""
}
