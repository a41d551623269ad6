package ai

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SystemWithOutput returns the system prompt of a request to a provider
// without structured output that every model accepts: system, followed by
// the instruction to answer with one JSON value valid against out's
// schema. It returns system alone when out is nil. The caller validates
// the answer either way.
func SystemWithOutput(system string, out *OutputSchema) string {
	if out == nil || len(out.Schema) == 0 {
		return system
	}
	var b strings.Builder
	if system != "" {
		b.WriteString(system)
		b.WriteString("\n\n")
	}
	b.WriteString("Answer with one JSON value and nothing else: no prose, no code fence. ")
	b.WriteString("It must be valid against this JSON Schema")
	if out.Name != "" {
		fmt.Fprintf(&b, " (%q)", out.Name)
	}
	b.WriteString(":\n")
	b.Write(out.Schema)
	return b.String()
}

// RetryAfter reads the wait a model API asks for in its response headers:
// retry-after-ms (milliseconds, as OpenAI and Anthropic send it) first,
// then Retry-After in seconds or as an HTTP date after now. Zero when none
// is named or the date has passed.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
