package enginebench_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/enginebench"
)

func TestRunInMemory(t *testing.T) {
	t.Parallel()
	res, err := enginebench.Run(context.Background(), enginebench.Params{Store: engine.NewMemoryStore(), Executions: 200, InFlight: 50})
	require.NoError(t, err)
	require.Equal(t, 200, res.Executions)
	require.Positive(t, res.ExecutionsPerSec)
	require.Positive(t, res.LatencyP99)
}

// BenchmarkEngineInMemory reports executions/s of the three-task echo
// workflow with the memory store, at 1,000 executions in flight.
func BenchmarkEngineInMemory(b *testing.B) {
	for _, inFlight := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("inflight=%d", inFlight), func(b *testing.B) {
			b.ReportAllocs()
			res, err := enginebench.Run(context.Background(), enginebench.Params{Store: engine.NewMemoryStore(), Executions: max(b.N, inFlight), InFlight: inFlight})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(res.ExecutionsPerSec, "executions/s")
			b.ReportMetric(res.TransitionsPerSec, "transitions/s")
			b.ReportMetric(float64(res.LatencyP50.Microseconds()), "p50-µs")
			b.ReportMetric(float64(res.LatencyP99.Microseconds()), "p99-µs")
		})
	}
}
