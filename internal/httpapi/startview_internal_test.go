package httpapi

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestStartedViewIsTheMapItReplaced: the answer to a start is byte for
// byte what the map it replaced encoded to, names that need escapes
// included.
func TestStartedViewIsTheMapItReplaced(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		workflow, name string
		version        int
		at             time.Time
	}{
		{"reply", "6c1b3a1e-8f0a-4a53-9a3c-2f1f1e9d9b10", 1, time.Date(2026, 12, 6, 19, 9, 7, 123456789, time.UTC)},
		{"a<b>&c", "idem-\"quoted\"\\\u2028é", 12, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"", "", 0, time.Time{}},
	} {
		arn := "arn:aws:states:us-east-1:123456789012:execution:aiflow-" + tc.workflow + ":" + tc.name
		id := ExecutionID(arn)
		encode := func(v any) string {
			var buf bytes.Buffer
			require.NoError(t, json.NewEncoder(&buf).Encode(v))
			return buf.String()
		}
		was := encode(map[string]any{
			"id": id, "arn": arn, "name": executionName(arn), "workflow": tc.workflow,
			"version": tc.version, "started_at": tc.at.UTC(), "href": "/v1/executions/" + id,
		})
		is := encode(startedView{
			ID: id, ARN: arn, Name: executionName(arn), Workflow: tc.workflow,
			Version: tc.version, StartedAt: tc.at.UTC(), Href: "/v1/executions/" + id,
		})
		require.Equal(t, was, is)
	}
}
