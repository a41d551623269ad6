//go:build unix

package procstat_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/procstat"
)

// TestCPUGrowsWithWork: the process's CPU time moves when it works.
func TestCPUGrowsWithWork(t *testing.T) {
	t.Parallel()
	before := procstat.CPU()
	require.Eventually(t, func() bool {
		x := 0
		for i := range 1_000_000 {
			x += i % 7
		}
		_ = x
		return procstat.CPU() > before
	}, 10*time.Second, time.Millisecond)
}
