package telemetry

import (
	"testing"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TestMayRecord: a no-op provider and the global one while none is set,
// or a no-op one is, record nothing; an SDK's may, and so may the global
// one once an SDK is set (read through a stand-in for the global, which
// setting would reach the package's other tests).
func TestMayRecord(t *testing.T) {
	t.Parallel()
	require.False(t, MayRecord(noop.NewTracerProvider()))
	np := noop.NewTracerProvider()
	require.False(t, MayRecord(&np))
	require.False(t, MayRecord(unsetTracerProvider), "the global provider before any is set")
	sdk := sdktrace.NewTracerProvider()
	t.Cleanup(func() { require.NoError(t, sdk.Shutdown(t.Context())) })
	require.True(t, MayRecord(sdk))

	global := func(tp trace.TracerProvider) func() trace.TracerProvider {
		return func() trace.TracerProvider { return tp }
	}
	require.False(t, mayRecord(unsetTracerProvider, global(unsetTracerProvider)))
	require.False(t, mayRecord(unsetTracerProvider, global(noop.NewTracerProvider())))
	require.True(t, mayRecord(unsetTracerProvider, global(sdk)))
}
