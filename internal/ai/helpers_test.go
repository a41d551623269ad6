package ai

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for name, tc := range map[string]struct {
		headers map[string]string
		want    time.Duration
	}{
		"none":              {nil, 0},
		"milliseconds win":  {map[string]string{"retry-after-ms": "1500", "Retry-After": "9"}, 1500 * time.Millisecond},
		"seconds":           {map[string]string{"Retry-After": "2"}, 2 * time.Second},
		"fractional":        {map[string]string{"Retry-After": "0.5"}, 500 * time.Millisecond},
		"an HTTP date":      {map[string]string{"Retry-After": now.Add(7 * time.Second).Format(http.TimeFormat)}, 7 * time.Second},
		"a date passed":     {map[string]string{"Retry-After": now.Add(-time.Minute).Format(http.TimeFormat)}, 0},
		"negative":          {map[string]string{"Retry-After": "-3"}, 0},
		"garbage":           {map[string]string{"Retry-After": "soon"}, 0},
		"bad ms, good secs": {map[string]string{"Retry-After-Ms": "x", "Retry-After": "1"}, time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for k, v := range tc.headers {
				h.Set(k, v)
			}
			require.Equal(t, tc.want, RetryAfter(h, now))
		})
	}
}

func TestSystemWithOutput(t *testing.T) {
	t.Parallel()
	require.Equal(t, "Be brief.", SystemWithOutput("Be brief.", nil))
	got := SystemWithOutput("Be brief.", &OutputSchema{Name: "step_x", Schema: json.RawMessage(`{"type":"object"}`)})
	require.Equal(t, "Be brief.\n\nAnswer with one JSON value and nothing else: no prose, no code fence. It must be valid against this JSON Schema (\"step_x\"):\n{\"type\":\"object\"}", got)
	require.Equal(t, "Answer with one JSON value and nothing else: no prose, no code fence. It must be valid against this JSON Schema:\n{}",
		SystemWithOutput("", &OutputSchema{Schema: json.RawMessage(`{}`)}))
}
