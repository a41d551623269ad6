package httpapi

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTraceIDOf: an execution's trace id is its trace header's root in
// W3C hex, shown only for a sampled trace.
func TestTraceIDOf(t *testing.T) {
	t.Parallel()
	require.Equal(t, "5759e988bd862e3fe1be46a994272793",
		traceIDOf("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"))
	require.Empty(t, traceIDOf("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"))
	require.Empty(t, traceIDOf(""))
	require.Empty(t, traceIDOf("not a header"))
}
