package mcpclient_test

import (
	"context"
	"encoding/json"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/mcpclient"
)

// TestStepDeadlineDoesNotOpenTheCircuit: calls that end because the
// step's own deadline passed, or because the step was cancelled, are not
// the server's failures: the circuit stays closed and the next call goes
// through.
func TestStepDeadlineDoesNotOpenTheCircuit(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setup(t, mcpclient.ServerConfig{CallTimeoutSeconds: 60, BreakerFailures: 2, BreakerOpenSeconds: 30, HealthIntervalSeconds: -1}, mcpclient.Options{})
		for range 3 {
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			_, err := b.pool.Call(ctx, mcpclient.CallParams{Server: "test", Tool: "hang", Arguments: json.RawMessage(`{}`)})
			cancel()
			require.Equal(t, mcpclient.CodeTimeout, mcpclient.CodeOf(err), err)
		}
		for range 3 {
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(time.Second, cancel)
			_, err := b.pool.Call(ctx, mcpclient.CallParams{Server: "test", Tool: "hang", Arguments: json.RawMessage(`{}`)})
			cancel()
			require.Error(t, err)
		}
		require.Equal(t, "closed", b.pool.Stats().Servers["test"].Endpoints[0].Breaker)
		_, err := call(t, b.pool, "test", "lookup", `{"id": 1}`)
		require.NoError(t, err)
		require.Zero(t, b.pool.Stats().Servers["test"].CircuitRejections)
	})
}
