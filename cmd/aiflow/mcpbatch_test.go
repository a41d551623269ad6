package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMCPServeStdioAnswersABatch sends the built binary's stdio server a
// JSON-RPC batch and a line that is not JSON, as raw lines: each gets a
// JSON-RPC error, and the server keeps serving instead of exiting.
func TestMCPServeStdioAnswersABatch(t *testing.T) {
	t.Parallel()
	dsn := seededDatabase(t)
	cmd := exec.Command(buildAiflow(t), "mcp", "serve", "--stdio")
	cmd.Env = append(withoutVar(os.Environ(), "DATABASE_URL"), "DATABASE_URL="+dsn, "AIFLOW_LOG_FORMAT=text")
	cmd.Stderr = io.Discard // the refusals are logged there
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	lines := make(chan string, 8)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	send := func(line string) {
		t.Helper()
		_, err := io.WriteString(stdin, line+"\n")
		require.NoError(t, err)
	}
	next := func() map[string]any {
		t.Helper()
		select {
		case line, ok := <-lines:
			require.True(t, ok, "the server closed its stdout")
			var v map[string]any
			if line != "" && line[0] == '[' {
				var arr []map[string]any
				require.NoError(t, json.Unmarshal([]byte(line), &arr), line)
				return map[string]any{"batch": arr}
			}
			require.NoError(t, json.Unmarshal([]byte(line), &v), line)
			return v
		case <-time.After(30 * time.Second):
			require.FailNow(t, "no answer within 30 s")
			return nil
		}
	}

	send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	require.Contains(t, next(), "result")
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)

	send(`[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":2,"method":"ping"}]`)
	batch := next()["batch"].([]map[string]any)
	require.Len(t, batch, 2)
	for i, resp := range batch {
		require.Equal(t, float64(i+1), resp["id"])
		require.Equal(t, float64(-32600), resp["error"].(map[string]any)["code"])
	}
	send(`{"jsonrpc":"2.0","id":3,`)
	parse := next()
	require.Nil(t, parse["id"])
	require.Equal(t, float64(-32700), parse["error"].(map[string]any)["code"])

	send(`{"jsonrpc":"2.0","id":4,"method":"tools/list"}`)
	list := next()
	require.Equal(t, float64(4), list["id"])
	require.NotEmpty(t, list["result"].(map[string]any)["tools"])

	require.NoError(t, stdin.Close())
	select {
	case err := <-exited:
		require.NoError(t, err, "the server exits cleanly when its stdin closes")
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		require.FailNow(t, "the server did not exit after its stdin closed")
	}
}
