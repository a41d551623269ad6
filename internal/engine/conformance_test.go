package engine_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/enginetest"
	"github.com/aiflow/aiflow/internal/engine/queue"
)

// TestConformance runs the ASL conformance suite against the engine in
// process, on the memory store. The same suite runs over HTTP in package
// sfnapi and on PostgreSQL in package enginestore.
func TestConformance(t *testing.T) {
	t.Parallel()
	enginetest.RunConformance(t, filepath.Join("testdata", "conformance"), func(t *testing.T) enginetest.Harness {
		fns := &engine.FunctionRegistry{}
		qs := queue.New(queue.Config{})
		e, err := engine.New(engine.Config{Store: engine.NewMemoryStore(), Queues: qs, Functions: fns})
		require.NoError(t, err)
		require.NoError(t, e.Start(t.Context()))
		t.Cleanup(func() {
			require.NoError(t, qs.Close())
			require.NoError(t, e.Close())
		})
		return enginetest.Harness{Service: e, Functions: fns, Queues: qs}
	})
}
