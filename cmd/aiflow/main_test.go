package main

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

func TestMain(m *testing.M) { pgclustertest.Main(m) }

// testEnv gives a command the variables in vars and nothing else from the
// process environment.
type testEnv struct {
	stdout, stderr bytes.Buffer
	vars           map[string]string
}

func newTestEnv(vars map[string]string) *testEnv {
	if vars == nil {
		vars = map[string]string{}
	}
	return &testEnv{vars: vars}
}

func (te *testEnv) env() env {
	return env{stdout: &te.stdout, stderr: &te.stderr, lookup: func(k string) (string, bool) {
		v, ok := te.vars[k]
		return v, ok
	}}
}

func TestUnknownCommandAndUsage(t *testing.T) {
	t.Parallel()
	te := newTestEnv(nil)
	require.Equal(t, 2, run(context.Background(), []string{"frobnicate"}, te.env()))
	require.Contains(t, te.stderr.String(), `unknown command "frobnicate"`)
	require.Contains(t, te.stderr.String(), "aiflow migrate up|down|status")

	te = newTestEnv(nil)
	require.Equal(t, 2, run(context.Background(), nil, te.env()))
	require.Contains(t, te.stderr.String(), "Usage:")

	te = newTestEnv(nil)
	require.Equal(t, 0, run(context.Background(), []string{"version"}, te.env()))
	require.Regexp(t, `^aiflow \S+\n$`, te.stdout.String())
}

func TestDevReportsEveryConfigurationProblem(t *testing.T) {
	t.Parallel()
	te := newTestEnv(map[string]string{
		"AIFLOW_HTTP_ADDR": "abc",
		"AIFLOW_LOG_LEVEL": "loud",
		"DATABASE_URL":     "mysql://root:topsecret@localhost/x",
	})
	require.Equal(t, 2, run(context.Background(), []string{"dev"}, te.env()))
	out := te.stderr.String()
	require.Contains(t, out, "aiflow dev: 3 configuration problems")
	require.Contains(t, out, "AIFLOW_HTTP_ADDR")
	require.Contains(t, out, "example: AIFLOW_HTTP_ADDR=127.0.0.1:8080")
	require.Contains(t, out, "AIFLOW_LOG_LEVEL")
	require.Contains(t, out, "DATABASE_URL")
	require.NotContains(t, out, "topsecret")
}

func TestDevTakesNoArguments(t *testing.T) {
	t.Parallel()
	te := newTestEnv(nil)
	require.Equal(t, 2, run(context.Background(), []string{"dev", "--port", "9"}, te.env()))
	require.Contains(t, te.stderr.String(), "takes no arguments")
}

// TestHelpListsEveryCommand: aiflow --help names every command and every
// subcommand the commands' own tables know.
func TestHelpListsEveryCommand(t *testing.T) {
	t.Parallel()
	te := newTestEnv(nil)
	require.Equal(t, 0, run(context.Background(), []string{"--help"}, te.env()))
	help := te.stdout.String()
	for _, c := range commands {
		require.Contains(t, help, "\n  aiflow "+c.name, "the help names aiflow %s", c.name)
	}
	for name, subs := range helpCommands {
		for _, sub := range subs() {
			require.Regexp(t, `aiflow `+name+` [a-z|]*\b`+sub+`\b`, help, "the help names aiflow %s %s", name, sub)
		}
	}
	te = newTestEnv(nil)
	require.Equal(t, 2, run(context.Background(), []string{"frobnicate"}, te.env()))
	require.Contains(t, te.stderr.String(), `aiflow: unknown command "frobnicate"`)
	require.Contains(t, te.stderr.String(), "aiflow service ")
}

// TestPacedCommandsAreCommands: the commands whose collector gcpolicy
// paces are the long-running ones docs/configuration.md names, each one of
// aiflow's.
func TestPacedCommandsAreCommands(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"bench", "dev", "engine", "run", "stack"}, slices.Sorted(maps.Keys(pacedCommands)))
	for name := range pacedCommands {
		require.True(t, slices.ContainsFunc(commands, func(c command) bool { return c.name == name }), name)
	}
}
