package engine_test

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// TestManyWaitsEachEndAtTheirTime: a thousand executions waiting at once,
// each for its own number of seconds, on the engine's own clock (its
// timers in a clock.Heap), each end when their wait is over, to the
// nanosecond of the bubble's clock; the ones stopped while they wait
// stay stopped, their timers with them.
func TestManyWaitsEachEndAtTheirTime(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := startEngine(t, engine.Config{Store: engine.NewMemoryStore()})
		arn := createMachine(t, e, sfn.TypeStandard, `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}`)
		const n = 1000
		seconds := func(i int) int { return 1 + (i*7919)%600 }
		arns := make([]string, n)
		for i := range arns {
			x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn, Input: fmt.Sprintf(`{"s":%d}`, seconds(i))})
			require.NoError(t, err)
			arns[i] = x.ExecutionARN
		}
		time.Sleep(100 * time.Second)
		synctest.Wait()
		stopped := map[int]bool{}
		for i := 0; i < n; i += 3 {
			d, err := e.DescribeExecution(t.Context(), arns[i])
			require.NoError(t, err)
			if d.Status == sfn.StatusRunning {
				_, err := e.StopExecution(t.Context(), sfn.StopExecutionInput{ExecutionARN: arns[i]})
				require.NoError(t, err)
				stopped[i] = true
			}
		}
		require.NotEmpty(t, stopped)
		time.Sleep(600 * time.Second)
		synctest.Wait()
		for i, a := range arns {
			d, err := e.DescribeExecution(t.Context(), a)
			require.NoError(t, err)
			if stopped[i] {
				require.Equal(t, sfn.StatusAborted, d.Status, "execution %d", i)
				continue
			}
			require.Equal(t, sfn.StatusSucceeded, d.Status, "execution %d", i)
			require.False(t, d.StopDate.IsZero())
			require.Equal(t, time.Duration(seconds(i))*time.Second, d.StopDate.Sub(d.StartDate), "execution %d waits its %d s", i, seconds(i))
		}
	})
}
