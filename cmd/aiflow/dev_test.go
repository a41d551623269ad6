package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/migrate"
	"github.com/aiflow/aiflow/internal/pgcluster"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

// buildAiflow compiles this command once per test into a temporary folder.
func buildAiflow(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "aiflow")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

type devProcess struct {
	cmd    *exec.Cmd
	lines  chan string
	stdout strings.Builder
}

func startDev(t testing.TB, bin, dataDir string, extraEnv ...string) (*devProcess, string) {
	t.Helper()
	cmd := exec.Command(bin, "dev")
	cmd.Dir = repoRoot // as make dev runs it, so the example script is found
	cmd.Env = append(withoutVar(withoutVar(os.Environ(), "DATABASE_URL"), "AIFLOW_AI_SCRIPT"),
		"AIFLOW_DATA_DIR="+dataDir, "AIFLOW_HTTP_ADDR=127.0.0.1:0", "AIFLOW_ENGINE_ADDR=127.0.0.1:0", "AIFLOW_LOG_FORMAT=text")
	cmd.Env = append(cmd.Env, extraEnv...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = io.Discard
	require.NoError(t, cmd.Start())
	p := &devProcess{cmd: cmd, lines: make(chan string, 100)}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	serving := regexp.MustCompile(`serving (http://127\.0\.0\.1:\d+)`)
	timeout := time.After(2 * time.Minute)
	for {
		select {
		case line, ok := <-p.lines:
			require.True(t, ok, "aiflow dev exited before serving; it printed:\n%s", p.stdout.String())
			p.stdout.WriteString(line + "\n")
			if m := serving.FindStringSubmatch(line); m != nil {
				return p, m[1]
			}
		case <-timeout:
			t.Fatalf("aiflow dev did not start serving within 2 minutes; it printed:\n%s", p.stdout.String())
		}
	}
}

// interrupt sends Ctrl-C's signal and waits for a clean exit.
func (p *devProcess) interrupt(t *testing.T) string {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGINT))
	for line := range p.lines {
		p.stdout.WriteString(line + "\n")
	}
	require.NoError(t, p.cmd.Wait(), "aiflow dev exits with status 0 after Ctrl-C; it printed:\n%s", p.stdout.String())
	return p.stdout.String()
}

func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

func withoutVar(environ []string, name string) []string {
	out := environ[:0:0]
	for _, kv := range environ {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// TestDevServesAndStopsOnCtrlC is what README's `make dev` promises: a local
// PostgreSQL under .aiflow, migrations, /healthz and /readyz, a clean stop on
// Ctrl-C, and data that survives a restart.
func TestDevServesAndStopsOnCtrlC(t *testing.T) {
	t.Parallel()
	bin := buildAiflow(t)
	dataDir := filepath.Join(pgclustertest.ReachableTempDir(t), ".aiflow")

	p, base := startDev(t, bin, dataDir)
	code, body := getJSON(t, base+"/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok", body["status"])
	code, body = getJSON(t, base+"/readyz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, map[string]any{"database": "ok"}, body["checks"])
	// docs/operations.md: connect with the files the cluster keeps.
	password, err := os.ReadFile(filepath.Join(dataDir, "pg", "superuser-password"))
	require.NoError(t, err)
	port, err := os.ReadFile(filepath.Join(dataDir, "pg", "port"))
	require.NoError(t, err)
	url := "postgres://postgres:" + strings.TrimSpace(string(password)) + "@127.0.0.1:" + strings.TrimSpace(string(port)) + "/aiflow"
	require.NoError(t, pgcluster.Ping(context.Background(), url))
	// Another command that needs the database while aiflow dev runs uses
	// its cluster: no second server, the port file as it was.
	portBefore, err := os.Stat(filepath.Join(dataDir, "pg", "port"))
	require.NoError(t, err)
	status := exec.Command(bin, "migrate", "status")
	status.Env = append(withoutVar(os.Environ(), "DATABASE_URL"), "AIFLOW_DATA_DIR="+dataDir)
	statusOut, err := status.CombinedOutput()
	require.NoError(t, err, "%s", statusOut)
	require.Contains(t, string(statusOut), "running already")
	portAfter, err := os.Stat(filepath.Join(dataDir, "pg", "port"))
	require.NoError(t, err)
	require.Equal(t, portBefore.ModTime(), portAfter.ModTime())
	code, _ = getJSON(t, base+"/readyz")
	require.Equal(t, http.StatusOK, code, "aiflow dev's database still serves")
	requireDevConsole(t, base, p.stdout.String())
	out := p.interrupt(t)
	requireREADMEShowsDevOutput(t, out)
	require.Contains(t, out, fmt.Sprintf("migrations: %d applied now", migrate.Latest()))
	require.Contains(t, out, "aiflow dev stopped")
	require.FileExists(t, filepath.Join(dataDir, "pg", "data", "PG_VERSION"), "the cluster stays under AIFLOW_DATA_DIR")
	require.NoFileExists(t, filepath.Join(dataDir, "pg", "data", "postmaster.pid"), "PostgreSQL was shut down")

	// The second start limits each principal's requests as it is told
	// (docs/configuration.md): two in a burst, the third refused.
	p, base = startDev(t, bin, dataDir, "AIFLOW_RATE_LIMIT=1", "AIFLOW_RATE_BURST=2")
	code, _ = getJSON(t, base+"/readyz")
	require.Equal(t, http.StatusOK, code)
	token, err := os.ReadFile(filepath.Join(dataDir, "dev-token"))
	require.NoError(t, err)
	for i, want := range []int{http.StatusOK, http.StatusOK, http.StatusTooManyRequests} {
		resp, body := send(t, http.MethodGet, base+"/v1/workflows", strings.TrimSpace(string(token)))
		require.Equal(t, want, resp.StatusCode, "request %d: %s", i+1, body)
		if want == http.StatusTooManyRequests {
			require.Contains(t, body, "the rate limit is 1 requests per second with bursts of 2")
		}
	}
	out = p.interrupt(t)
	require.Contains(t, out, "migrations: 0 applied now", "the second start finds the data of the first")
}

// shape blurs what differs between runs (versions, ports, folders) so the
// README's sample output can be compared with a real run.
func shape(s string) string {
	s = regexp.MustCompile(`data kept in [^)]+`).ReplaceAllString(s, "data kept in DIR")
	s = regexp.MustCompile(`\S*dev-token`).ReplaceAllString(s, "DIR/dev-token")
	s = regexp.MustCompile(`#token=\S+`).ReplaceAllString(s, "#token=TOKEN")
	return regexp.MustCompile(`\d+`).ReplaceAllString(s, "N")
}

// requireREADMEShowsDevOutput checks that README.md's sample of what
// `make dev` prints is what aiflow dev prints.
func requireREADMEShowsDevOutput(t *testing.T, out string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	require.NoError(t, err)
	m := regexp.MustCompile("(?s)<!-- dev-output -->\n```\n(.*?)```\n<!-- /dev-output -->").FindSubmatch(raw)
	require.NotNil(t, m, "README.md has the dev-output block")
	want := strings.Split(strings.TrimSpace(string(m[1])), "\n")
	got := strings.Split(strings.TrimSpace(out), "\n")
	require.GreaterOrEqual(t, len(got), len(want))
	for i, line := range want {
		require.Equal(t, shape(line), shape(got[i]), "README line %d", i+1)
	}
	require.Equal(t, []string{"shutting down", "aiflow dev stopped"}, got[len(got)-2:], "README: Ctrl-C prints these")
}

// TestREADMEWalkThrough runs README.md's walk through, command for
// command, against a running aiflow dev: publish, start, stream, approve,
// read the result; then runs it again against the same aiflow dev, as
// README says one may, where the refund it asks for was made already.
// Only the API's address and the token file's folder are those of this
// test's aiflow dev.
func TestREADMEWalkThrough(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("the walk through needs curl")
	}
	bin := buildAiflow(t)
	dataDir := filepath.Join(pgclustertest.ReachableTempDir(t), ".aiflow")
	p, base := startDev(t, bin, dataDir)

	raw, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	require.NoError(t, err)
	m := regexp.MustCompile("(?s)<!-- walkthrough -->\n```sh\n(.*?)```\n<!-- /walkthrough -->").FindSubmatch(raw)
	require.NotNil(t, m, "README.md has the walkthrough block")
	script := string(m[1])
	require.Contains(t, script, "http://127.0.0.1:8080")
	require.Contains(t, script, ".aiflow/dev-token")
	script = strings.ReplaceAll(script, "http://127.0.0.1:8080", base)
	script = strings.ReplaceAll(script, ".aiflow/dev-token", filepath.Join(dataDir, "dev-token"))

	walk := func(run int) map[string]any {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
		cmd.Dir = repoRoot
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "run %d of the walk through failed:\n%s", run, out)
		text := string(out)
		require.Contains(t, text, `"workflow":{"name":"support-triage"`, "publish answers with the workflow")
		require.Contains(t, text, `"created":false`, "README: publishing the text aiflow dev published stores nothing new")
		require.Regexp(t, `\d+ event: history`, text, "the stream shows history events")
		if run == 1 {
			require.Contains(t, text, `"status":"approved"`, "the approval was decided")
		}
		lines := strings.Split(strings.TrimSpace(text), "\n")
		var exec map[string]any
		require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &exec), "the last command prints the execution")
		require.Equal(t, "SUCCEEDED", exec["status"], "run %d: %s", run, lines[len(lines)-1])
		usage, _ := exec["usage"].(map[string]any)
		require.NotZero(t, usage["input_tokens"], "the tokens of the model calls are counted")
		return exec
	}
	first := walk(1)
	output, _ := first["output"].(map[string]any)
	require.Equal(t, "refund", output["category"])
	require.NotEmpty(t, output["suggested_reply"])

	second := walk(2)
	require.NotEqual(t, first["id"], second["id"], "the second run is an execution of its own")
	output, _ = second["output"].(map[string]any)
	require.Equal(t, "refund", output["category"])
	require.NotEqual(t, first["output"].(map[string]any)["ticket_id"], output["ticket_id"], "the second run opens a ticket of its own")
	// README: order 1114 is refunded already, so the second run asks for
	// no approval and refunds nothing.
	token, err := os.ReadFile(filepath.Join(dataDir, "dev-token"))
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodGet, base+"/v1/executions/"+second["id"].(string)+"/events?limit=100", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	history, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", history)
	require.Contains(t, string(history), `"get_order"`)
	require.Contains(t, string(history), `"draft_reply"`)
	require.NotContains(t, string(history), `"approve_refund"`)
	require.NotContains(t, string(history), `"issue_refund"`)
	requireMetricsMoved(t, base, "support-triage")
	p.interrupt(t)
}
