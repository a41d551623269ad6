package enginebench_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/enginebench"
)

func TestRunPeersInMemory(t *testing.T) {
	t.Parallel()
	res, err := enginebench.RunPeers(context.Background(), enginebench.PeersParams{Store: engine.NewMemoryStore(), Executions: 300, InFlight: 40})
	require.NoError(t, err)
	require.Equal(t, 300, res.Executions)
	require.Equal(t, 40, res.InFlight)
	require.Positive(t, res.ExecutionsPerSec)
	require.InDelta(t, 3*res.ExecutionsPerSec, res.TransitionsPerSec, 1e-6)
	require.Positive(t, res.StoreCommits)
	if runtime.GOOS != "windows" && runtime.GOOS != "plan9" {
		require.Positive(t, res.CPUPerExecution())
	}
}

func TestRunPeersDurable(t *testing.T) {
	t.Parallel()
	res, err := enginebench.RunPeers(context.Background(), enginebench.PeersParams{Store: postgresStore(t), Executions: 40, InFlight: 10})
	require.NoError(t, err)
	require.Equal(t, 40, res.Executions)
	require.Positive(t, res.StoreCommits)
}

func TestRunPeersNeedsExecutions(t *testing.T) {
	t.Parallel()
	_, err := enginebench.RunPeers(context.Background(), enginebench.PeersParams{Store: engine.NewMemoryStore()})
	require.ErrorContains(t, err, "Executions must be positive")
}

func TestParseNodeResult(t *testing.T) {
	t.Parallel()
	r, err := enginebench.ParseNodeResult([]byte("a warning\n" + `{"interpreter":"aws-local-stepfunctions 3.0.0","node":"v22.23.3","executions":10000,"inFlight":1000,"elapsedMicros":250000,"cpuMicros":300000}` + "\n\n"))
	require.NoError(t, err)
	require.Equal(t, enginebench.NodeResult{Interpreter: "aws-local-stepfunctions 3.0.0", Node: "v22.23.3", Executions: 10000, InFlight: 1000, ElapsedMicros: 250000, CPUMicros: 300000}, r)
	require.Equal(t, enginebench.ComparisonRow{System: "aws-local-stepfunctions 3.0.0 (Node.js v22.23.3)", Store: "memory", Executions: 10000, InFlight: 1000,
		Elapsed: 250 * time.Millisecond, CPU: 300 * time.Millisecond}, r.Row())

	for _, bad := range []string{"", "\n \n", "not json", `{"executions":0,"elapsedMicros":5}`, `{"executions":5}`} {
		_, err := enginebench.ParseNodeResult([]byte(bad))
		require.Error(t, err, "%q", bad)
		require.ErrorContains(t, err, "reading the Node.js script's result")
	}
}

func TestComparisonWrite(t *testing.T) {
	t.Parallel()
	c := enginebench.Comparison{
		Machine: enginebench.Machine{Cores: 2, OS: "linux", Arch: "amd64", CPU: "AMD EPYC", GoVersion: "go1.26.8"},
		Commit:  "abc1234",
		Notes:   []string{"PostgreSQL 15.18 (fsync=on, synchronous_commit=on)"},
		Rows: []enginebench.ComparisonRow{
			{System: "aws-local-stepfunctions 3.0.0 (Node.js v22.23.3)", Store: "memory", Executions: 10000, InFlight: 1000, Elapsed: 250 * time.Millisecond, CPU: 300 * time.Millisecond},
			enginebench.PeersRow("PostgreSQL", enginebench.Result{Executions: 10000, InFlight: 1000, Elapsed: 4 * time.Second}),
		},
	}
	var b strings.Builder
	require.NoError(t, c.Write(&b))
	out := b.String()
	require.Contains(t, out, "machine   2 cores, linux/amd64, AMD EPYC, go1.26.8\n")
	require.Contains(t, out, "commit    abc1234\n")
	lines := strings.Split(out, "\n")
	var node, pg string
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "aws-local-stepfunctions"):
			node = l
		case strings.HasPrefix(l, "aiflow engine"):
			pg = l
		}
	}
	require.Equal(t, []string{"aws-local-stepfunctions", "3.0.0", "(Node.js", "v22.23.3)", "memory", "10000", "1000", "0.25", "40000", "30.0", "µs"}, strings.Fields(node))
	require.Equal(t, []string{"aiflow", "engine", "PostgreSQL", "10000", "1000", "4.00", "2500", "-"}, strings.Fields(pg))
	require.True(t, strings.HasSuffix(out, "PostgreSQL 15.18 (fsync=on, synchronous_commit=on)\n"))
}
