package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/pgcluster"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

var apiLine = regexp.MustCompile(`HTTP API HttpApi: (http://127\.0\.0\.1:\d+)`)

// TestStackCommand runs `aiflow stack` as a user does, on its own cluster
// under AIFLOW_DATA_DIR: it prints its endpoints and writes an admin
// token, its HTTP API answers through the API function (with the token,
// and without one on the open routes), and Ctrl-C stops it with status 0.
func TestStackCommand(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("the Lambda Runtime Interface Emulator runs on Linux only")
	}
	if _, err := pgcluster.FindBinaries(os.Getenv("AIFLOW_PG_BINDIR")); err != nil {
		t.Skipf("no PostgreSQL binaries: %v", err)
	}
	dataDir := filepath.Join(pgclustertest.ReachableTempDir(t), "data")
	script, err := filepath.Abs("../../examples/scripts/scripted.yaml")
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	p := &engineProcess{stop: stop, code: make(chan int, 1)}
	vars := map[string]string{"AIFLOW_DATA_DIR": dataDir, "AIFLOW_LOG_LEVEL": "warn"}
	e := env{stdout: &p.stdout, stderr: &p.stderr, lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
	go func() {
		// README's command, on a free port.
		p.code <- run(ctx, []string{"stack", "--dir", "../..", "--api-addr", "127.0.0.1:0", "--parameter-overrides",
			"AiProviders=scripted AiDefaultProvider=scripted AiScript=" + script}, e)
	}()
	t.Cleanup(func() {
		stop()
		<-p.code
	})
	require.Eventually(t, func() bool {
		select {
		case code := <-p.code:
			p.code <- code
			require.FailNow(t, "aiflow stack exited", "status %d:\n%s%s", code, p.stdout.String(), p.stderr.String())
		default:
		}
		return strings.Contains(p.stdout.String(), "aiflow stack is running template.yaml")
	}, 10*time.Minute, 50*time.Millisecond, "aiflow stack did not start:\n%s%s", p.stdout.String(), p.stderr.String())
	out := p.stdout.String()
	m := apiLine.FindStringSubmatch(out)
	require.NotNil(t, m, out)
	api := m[1]
	require.Contains(t, out, "PostgreSQL ")
	require.Contains(t, out, "Step Functions: http://127.0.0.1:")
	require.Contains(t, out, "not run here: ")

	resp, err := http.Get(api + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	token, err := os.ReadFile(filepath.Join(dataDir, "stack", "token"))
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodGet, api+"/v1/workflows", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	out = p.interrupt(t)
	require.Contains(t, out, "shutting down\n")
	require.Contains(t, out, "aiflow stack stopped\n")
}

func TestStackCommandUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--parameter-overrides", "NoEquals"}, `"NoEquals" is not KEY=VALUE`},
		{[]string{"--api-addr", "nowhere"}, `--api-addr "nowhere" is not host:port`},
		{[]string{"--max-instances", "0"}, "--max-instances 0 is not from 1 to 64"},
		{[]string{"--dir", "/nonexistent"}, "no template.yaml in /nonexistent"},
		{[]string{"extra"}, "takes no arguments"},
	} {
		te := newTestEnv(nil)
		require.Equal(t, 2, run(context.Background(), append([]string{"stack"}, tc.args...), te.env()), tc.args)
		require.Contains(t, te.stderr.String(), tc.want, tc.args)
	}
}
