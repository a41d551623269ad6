package bedrock_test

import (
	"context"
	"fmt"
	"net/http"
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

// TestDocsStopReasons keeps the stopReason table of the Amazon Bedrock
// section true: a stop reason, or the AI.* error of a reason that gives no
// answer.
func TestDocsStopReasons(t *testing.T) {
	t.Parallel()
	rows := aitest.TableRows(t, aitest.DocSection(t, "../../../docs/ai-providers.md", "## Amazon Bedrock"), "| `stopReason` |")
	for _, row := range rows {
		spans := codeSpans(row[1])
		want := spans[len(spans)-1]
		for _, wire := range codeSpans(row[0]) {
			body := fmt.Sprintf(`{"output":{"message":{"role":"assistant","content":[{"text":"Hi."}]}},"stopReason":%q,`+
				`"usage":{"inputTokens":3,"outputTokens":2,"totalTokens":5},"metrics":{"latencyMs":80}}`, wire)
			b := setup(t, converseReply(body))
			resp, err := b.provider.Generate(context.Background(), radioRequest())
			if strings.HasPrefix(want, "AI.") {
				requireCode(t, err, ai.Code(want))
				continue
			}
			require.NoError(t, err, wire)
			require.Equal(t, ai.StopReason(want), resp.StopReason, wire)
		}
	}
}

// TestDocsExceptions keeps the exception rows of the failure table true,
// for error responses and for exception messages inside a stream.
func TestDocsExceptions(t *testing.T) {
	t.Parallel()
	rows := aitest.TableRows(t, aitest.DocSection(t, "../../../docs/ai-providers.md", "## Amazon Bedrock"), "| failure | name |")
	checked := 0
	for _, row := range rows {
		names := codeSpans(row[0])
		if len(names) == 0 || !strings.HasSuffix(names[0], "Exception") {
			continue
		}
		code := ai.Code(codeSpans(row[1])[0])
		for _, name := range names {
			b := setup(t, func(w http.ResponseWriter, _ *http.Request) {
				exception(w, http.StatusBadRequest, name, "Something went wrong.")
			})
			_, err := b.provider.Generate(context.Background(), radioRequest())
			requireCode(t, err, code)

			member := strings.ToLower(name[:1]) + name[1:]
			s := setup(t, streamReply(t, []frame{
				event("messageStart", map[string]any{"role": "assistant"}),
				exceptionFrame(member, "Something went wrong."),
			}, false))
			_, err = s.provider.Stream(context.Background(), radioRequest(), func(ai.Delta) error { return nil })
			e := requireCode(t, err, code)
			require.Contains(t, e.Message, "Something went wrong.")
			checked++
		}
	}
	require.GreaterOrEqual(t, checked, 14)
}
