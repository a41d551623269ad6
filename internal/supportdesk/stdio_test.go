package supportdesk_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/supportdesk"
)

// rawClient speaks newline-delimited JSON-RPC to a stdio server, line by
// line, as a hostile or careless client would.
type rawClient struct {
	t     *testing.T
	in    io.Writer
	lines chan string
}

func newRawClient(t *testing.T, in io.Writer, out io.Reader) *rawClient {
	t.Helper()
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return &rawClient{t: t, in: in, lines: lines}
}

func (c *rawClient) send(line string) {
	c.t.Helper()
	_, err := io.WriteString(c.in, line+"\n")
	require.NoError(c.t, err)
}

// next returns the server's next line, failing the test when none comes
// within 20 seconds or the server closed its output.
func (c *rawClient) next() string {
	c.t.Helper()
	select {
	case line, ok := <-c.lines:
		require.True(c.t, ok, "the server closed its output")
		return line
	case <-time.After(20 * time.Second):
		require.FailNow(c.t, "no answer from the server within 20 s")
		return ""
	}
}

// handshake initializes the session.
func (c *rawClient) handshake() {
	c.t.Helper()
	c.send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	require.Contains(c.t, c.next(), `"protocolVersion"`)
	c.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
}

// pingWorks proves the session still serves: a ping with id gets its
// result.
func (c *rawClient) pingWorks(id int) {
	c.t.Helper()
	c.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"ping"}`, id))
	require.JSONEq(c.t, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"result":{}}`, id), c.next())
}

func refusal(id string, code int) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"error":{"code":%d}}`, id, code)
}

// requireAnswer compares an answer (one error or an array of them) with
// want, ignoring the errors' messages, which are for people.
func requireAnswer(t *testing.T, want, got string) {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(got), &v), "answer %s", got)
	stripMessages(t, v)
	norm, err := json.Marshal(v)
	require.NoError(t, err)
	require.JSONEq(t, want, string(norm), "answer %s", got)
}

func stripMessages(t *testing.T, v any) {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			stripMessages(t, e)
		}
	case map[string]any:
		if e, ok := v["error"].(map[string]any); ok {
			require.NotEmpty(t, e["message"])
			delete(e, "message")
		}
	}
}

func TestStdioTransportAnswersWhatWouldEndTheSession(t *testing.T) {
	t.Parallel()
	server := mcp.NewServer(&mcp.Implementation{Name: "gate-test", Version: "1"}, nil)
	clientIn, serverIn := io.Pipe()
	serverOut, clientOut := io.Pipe()
	ss, err := server.Connect(context.Background(), supportdesk.NewStdioTransport(supportdesk.StdioParams{
		In: clientIn, Out: clientOut, MaxMessageBytes: 1024,
	}), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ss.Close() })
	c := newRawClient(t, serverIn, serverOut)
	t.Cleanup(func() {
		_ = serverIn.Close()
		_ = clientOut.Close() // ends the client's reading goroutine
	})
	c.handshake()

	cases := []struct {
		name, line, want string // want "" means no answer
	}{
		{"batch of requests and a notification",
			`[{"jsonrpc":"2.0","id":7,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/progress"},{"jsonrpc":"2.0","id":"a","method":"tools/list"}]`,
			"[" + refusal("7", -32600) + "," + refusal(`"a"`, -32600) + "]"},
		{"empty batch", `[]`, refusal("null", -32600)},
		{"batch of non-messages", `[1, "x"]`, "[" + refusal("null", -32600) + "," + refusal("null", -32600) + "]"},
		{"batch of notifications only", `[{"jsonrpc":"2.0","method":"notifications/progress"}]`, ""},
		{"not JSON", `{"jsonrpc":"2.0","id":1,`, refusal("null", -32700)},
		{"two values on one line", `{"jsonrpc":"2.0","id":1,"method":"ping"} {}`, refusal("null", -32700)},
		{"no version tag", `{"id":3,"method":"ping"}`, refusal("3", -32600)},
		{"a string", `"ping"`, refusal("null", -32600)},
		{"an id that is an object", `{"jsonrpc":"2.0","id":{},"method":"ping"}`, refusal("null", -32600)},
		{"longer than the limit", `{"jsonrpc":"2.0","id":9,"method":"ping","params":{"x":"` + strings.Repeat("a", 2048) + `"}}`, refusal("null", -32600)},
		{"blank line", `   `, ""},
	}
	// One session, in order: each refusal is followed by a ping that must
	// still be answered, so none of them ended the session.
	for i, tc := range cases {
		c.send(tc.line)
		if tc.want != "" {
			requireAnswer(t, tc.want, c.next())
		}
		c.pingWorks(100 + i)
	}
}

// TestStdioServerAnswersABatchAndKeepsServing runs the support server as a
// child process on its stdin and stdout, as aiflow mcp serve --stdio does.
func TestStdioServerAnswersABatchAndKeepsServing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childDatabaseEnv+"="+b.dsn, childNowEnv+"="+now.Format(time.RFC3339), childCustomerEnv+"=0")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = stdin.Close() // EOF: the server returns and the child exits
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	c := newRawClient(t, stdin, stdout)
	c.handshake()

	c.send(`[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":2,"method":"ping"}]`)
	requireAnswer(t, "["+refusal("1", -32600)+","+refusal("2", -32600)+"]", c.next())

	c.send(`{"jsonrpc":"2.0","id":3,"method":"tools/list"}`)
	var list struct {
		ID     int `json:"id"`
		Result struct {
			Tools []struct {
				Name string `json:"name"`
			} `json:"tools"`
		} `json:"result"`
	}
	require.NoError(t, json.Unmarshal([]byte(c.next()), &list))
	require.Equal(t, 3, list.ID)
	require.NotEmpty(t, list.Result.Tools)
	c.pingWorks(4)
	select {
	case err := <-exited:
		require.FailNow(t, "the server exited", "%v", err)
	default:
	}
}
