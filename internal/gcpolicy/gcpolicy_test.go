package gcpolicy_test

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/gcpolicy"
)

// TestLimit: the floor for small live heaps, three times the live heap
// above it, and no overflow.
func TestLimit(t *testing.T) {
	t.Parallel()
	require.EqualValues(t, gcpolicy.Floor, gcpolicy.Limit(0))
	require.EqualValues(t, gcpolicy.Floor, gcpolicy.Limit(100<<20))
	require.EqualValues(t, int64(3)<<30, gcpolicy.Limit(1<<30))
	require.EqualValues(t, int64(math.MaxInt64), gcpolicy.Limit(math.MaxUint64))
}

func gogc(t *testing.T) uint64 {
	t.Helper()
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestStartAndStop: the policy sets GOGC and a limit of at least the
// floor, and stop puts back what was there. Not parallel: it changes the
// process's collector.
func TestStartAndStop(t *testing.T) {
	before, beforeLimit := gogc(t), debug.SetMemoryLimit(-1)
	stop, applied := gcpolicy.Start(func(string) (string, bool) { return "", false })
	require.True(t, applied)
	require.EqualValues(t, gcpolicy.Percent, gogc(t))
	require.GreaterOrEqual(t, debug.SetMemoryLimit(-1), int64(gcpolicy.Floor))
	stop()
	stop() // a second stop does nothing
	require.Equal(t, before, gogc(t))
	require.Equal(t, beforeLimit, debug.SetMemoryLimit(-1))
}

// TestTheUsersChoiceStands: with GOGC or GOMEMLIMIT set, nothing changes.
func TestTheUsersChoiceStands(t *testing.T) {
	for _, name := range []string{"GOGC", "GOMEMLIMIT"} {
		before := gogc(t)
		stop, applied := gcpolicy.Start(func(k string) (string, bool) { return "100", k == name })
		require.False(t, applied, name)
		require.Equal(t, before, gogc(t), name)
		stop()
	}
}

// TestTheLimitFollowsTheLiveHeap: after a collection with a live heap
// above the floor's share, the limit is three times it.
func TestTheLimitFollowsTheLiveHeap(t *testing.T) {
	stop, applied := gcpolicy.Start(func(string) (string, bool) { return "", false })
	require.True(t, applied)
	defer stop()
	big := make([]byte, 256<<20) // live: the limit must pass 768 MiB
	for i := range big {
		big[i] = byte(i)
	}
	require.Eventually(t, func() bool {
		runtime.GC()
		return debug.SetMemoryLimit(-1) >= 3*int64(len(big))
	}, 10*time.Second, 10*time.Millisecond)
	runtime.KeepAlive(big)
}
