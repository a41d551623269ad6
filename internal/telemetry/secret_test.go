package telemetry

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSecret(t *testing.T) {
	t.Parallel()

	s := Secret("sk-live-123")
	require.Equal(t, "sk-live-123", s.Reveal())

	for _, format := range []string{"%v", "%s", "%q", "%+v", "%#v", "%x", "%X", "%10s", "%d"} {
		require.Equal(t, redacted, fmt.Sprintf(format, s), "verb %s", format)
	}
	require.Equal(t, redacted, fmt.Sprint(s))
	require.Equal(t, redacted+"\n", fmt.Sprintln(s))
	require.Equal(t, redacted, s.String())
	require.Equal(t, redacted, s.GoString())
	require.Equal(t, redacted, s.LogValue().String())

	text, err := s.MarshalText()
	require.NoError(t, err)
	require.Equal(t, redacted, string(text))

	b, err := json.Marshal(s)
	require.NoError(t, err)
	require.JSONEq(t, `"[REDACTED]"`, string(b))

	type config struct {
		APIKey  Secret
		Pointer *Secret
		Keys    map[string]Secret
	}
	cfg := config{APIKey: s, Pointer: &s, Keys: map[string]Secret{"openai": s}}
	b, err = json.Marshal(cfg)
	require.NoError(t, err)
	require.NotContains(t, string(b), "sk-live-123")
	for _, format := range []string{"%v", "%+v", "%#v"} {
		require.NotContains(t, fmt.Sprintf(format, cfg), "sk-live-123", "verb %s", format)
	}
}
