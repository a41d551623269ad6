package sfnapi_test

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/awssfn"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/enginetest"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/sfnapi"
)

// TestConformanceOverHTTP runs the Step Functions conformance suite
// through the sfn adapter against the engine served by the handler: the
// same cases the engine passes in process must pass over the wire.
func TestConformanceOverHTTP(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("the conformance suite waits for timers and timeouts in real time")
	}
	enginetest.RunConformance(t, "../engine/testdata/conformance", func(t *testing.T) enginetest.Harness {
		fns := &engine.FunctionRegistry{}
		qs := queue.New(queue.Config{})
		t.Cleanup(func() { require.NoError(t, qs.Close()) })
		e, err := engine.New(engine.Config{Store: engine.NewMemoryStore(), Queues: qs, Functions: fns, Clock: milliClock{}})
		require.NoError(t, err)
		require.NoError(t, e.Start(t.Context()))
		t.Cleanup(func() { _ = e.Close() })
		srv := httptest.NewServer(sfnapi.NewHandler(e, sfnapi.Options{}))
		t.Cleanup(srv.Close)
		c, err := awssfn.NewClient(t.Context(), srv.URL, "")
		require.NoError(t, err)
		return enginetest.Harness{Service: awssfn.New(c), Functions: fns, Queues: qs}
	})
}
