//go:build linux

package procstat_test

import (
	"math"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/procstat"
)

// TestTreeCPUCountsWaitedForChildren: a child that worked and was waited
// for is in its parent's tree's time, which the kernel keeps in clock
// ticks (10 ms).
func TestTreeCPUCountsWaitedForChildren(t *testing.T) {
	t.Parallel()
	before, err := procstat.TreeCPU(os.Getpid())
	require.NoError(t, err)
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done")
	require.NoError(t, cmd.Run())
	child := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	after, err := procstat.TreeCPU(os.Getpid())
	require.NoError(t, err)
	require.Greater(t, child, 10*time.Millisecond, "the child worked for more than a tick")
	require.GreaterOrEqual(t, after-before, child-10*time.Millisecond)
}

// TestTreeCPUCountsLiveChildren: a child that works and has not exited is
// in the tree's time as it goes.
func TestTreeCPUCountsLiveChildren(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("sh", "-c", "while :; do :; done")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	alone, err := procstat.TreeCPU(cmd.Process.Pid)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		self, err := procstat.TreeCPU(os.Getpid())
		require.NoError(t, err)
		child, err := procstat.TreeCPU(cmd.Process.Pid)
		require.NoError(t, err)
		// The child's time grows, and the parent's tree holds it.
		return child > alone && self > child
	}, 10*time.Second, 10*time.Millisecond)
}

func TestTreeCPUOfNoProcess(t *testing.T) {
	t.Parallel()
	_, err := procstat.TreeCPU(math.MaxInt32) // above any pid_max
	require.ErrorContains(t, err, "no such process")
	require.ErrorIs(t, err, os.ErrNotExist)
}
