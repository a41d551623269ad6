package task

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCanonicalNumber(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"0": "0", "-0": "0", "-0.0": "0", "7": "7", "-7": "-7", "100": "100", "1e2": "100", "1E+2": "100",
		"100.0": "100", "1.50": "1.5", "15e-1": "1.5", "0.001": "0.001", "1e-3": "0.001", "-1.25e-2": "-0.0125",
		"123.456e1": "1234.56", "12345678901234567890123": "12345678901234567890123", "1e401": "1e401",
	} {
		require.Equal(t, want, canonicalNumber(in), in)
	}
}

func TestCanonical(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.True(t, canonical(&buf, []byte(` {"b": [1.0, "x\u003c\/"], "a": {"d": null, "c": false}} `)))
	require.Equal(t, `{"a":{"c":false,"d":null},"b":[1,"x</"]}`, buf.String())
	for _, bad := range []string{``, `{`, `{} {}`, `nope`} {
		buf.Reset()
		require.False(t, canonical(&buf, []byte(bad)), bad)
	}
}
