package lambdaemu_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/lambdaemu"
)

func TestPoolScalesUpToItsSize(t *testing.T) {
	t.Parallel()
	require.NoError(t, buildErr)
	pool, err := lambdaemu.NewPool(lambdaemu.Params{Name: "echo", Emulator: emulator, Bootstrap: echo}, 2)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, pool.Close()) })
	require.Zero(t, pool.Size(), "instances start on demand")

	const n = 6
	results := make([]*lambdaemu.Result, n)
	var wg sync.WaitGroup
	for k := range n {
		wg.Go(func() {
			res, err := pool.Invoke(context.Background(), []byte(`{"sleepMs":100}`))
			if assertNoError(t, err) {
				results[k] = res
			}
		})
	}
	wg.Wait()
	pids := map[int]bool{}
	cold := 0
	for _, res := range results {
		require.NotNil(t, res)
		var out echoResponse
		require.NoError(t, json.Unmarshal(res.Payload, &out))
		pids[out.PID] = true
		if res.InitDuration > 0 {
			cold++
		}
	}
	require.LessOrEqual(t, len(pids), 2, "no more instances than the pool's size")
	require.Equal(t, len(pids), cold, "one cold start per instance")
	require.Equal(t, len(pids), pool.Size())

	require.NoError(t, pool.Close())
	_, err = pool.Invoke(context.Background(), []byte(`{}`))
	require.ErrorIs(t, err, lambdaemu.ErrDead)
}

func TestPoolReplacesADeadInstance(t *testing.T) {
	t.Parallel()
	require.NoError(t, buildErr)
	pool, err := lambdaemu.NewPool(lambdaemu.Params{Name: "echo", Emulator: emulator, Bootstrap: echo}, 1)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, pool.Close()) })
	_, err = lambdaemu.NewPool(lambdaemu.Params{Name: "echo", Emulator: emulator, Bootstrap: echo}, 0)
	require.ErrorContains(t, err, "size 0 is not positive")

	res, err := pool.Invoke(context.Background(), []byte(`{"echo":1}`))
	require.NoError(t, err)
	require.Nil(t, res.FunctionError)

	// An instance that exits at init dies; it is dropped, and the next
	// invocation starts another.
	dying, err := lambdaemu.NewPool(lambdaemu.Params{Name: "echo", Emulator: emulator, Bootstrap: echo,
		Env: map[string]string{"ECHO_EXIT_AT_INIT": "1"}}, 1)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, dying.Close()) })
	for range 2 {
		_, err = dying.Invoke(context.Background(), []byte(`{}`))
		require.ErrorIs(t, err, lambdaemu.ErrDead)
		require.Zero(t, dying.Size(), "the dead instance was dropped")
	}
}
