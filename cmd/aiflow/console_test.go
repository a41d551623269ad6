package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/console"
)

// lineWriter hands each line written to it to a channel.
type lineWriter struct {
	mu    sync.Mutex
	buf   strings.Builder
	lines chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		s := w.buf.String()
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.lines <- s[:i]
		w.buf.Reset()
		w.buf.WriteString(s[i+1:])
	}
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func send(t *testing.T, method, url, token string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

// TestConsoleCommand: aiflow console serves the console's files and
// passes the API's routes, bearer token and server-sent events included,
// on to --api; / goes to the console; other paths are not passed on.
func TestConsoleCommand(t *testing.T) {
	t.Parallel()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/workflows":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"auth": "`+r.Header.Get("Authorization")+`"}`)
		case "/v1/executions/x/stream":
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "id: 1\nevent: end\ndata: {}\n\n")
		default:
			http.Error(w, "reached the API: "+r.URL.Path, http.StatusTeapot)
		}
	}))
	t.Cleanup(api.Close)

	ctx, cancel := context.WithCancel(context.Background())
	out := &lineWriter{lines: make(chan string, 10)}
	var stderr strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- cmdConsole(ctx, []string{"--api", api.URL, "--listen", "127.0.0.1:0", "--trace-url", "http://jaeger.example/trace/{trace_id}"},
			env{stdout: out, stderr: &stderr, lookup: func(string) (string, bool) { return "", false }})
	}()
	var base string
	select {
	case line := <-out.lines:
		m := regexp.MustCompile(`^console: (http://127\.0\.0\.1:\d+)/console/ for the API at ` + regexp.QuoteMeta(api.URL)).FindStringSubmatch(line)
		require.NotNil(t, m, line)
		base = m[1]
	case code := <-done:
		t.Fatalf("aiflow console exited with %d: %s", code, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("aiflow console did not start within 30 s")
	}

	resp, body := send(t, http.MethodGet, base+"/console/", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `<script type="module" src="js/app.js">`)
	require.Equal(t, console.ContentSecurityPolicy, resp.Header.Get("Content-Security-Policy"))
	_, body = send(t, http.MethodGet, base+"/console/config.json", "")
	require.JSONEq(t, `{"trace_url": "http://jaeger.example/trace/{trace_id}"}`, body)
	resp, body = send(t, http.MethodGet, base+"/v1/workflows", "tok")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.JSONEq(t, `{"auth": "Bearer tok"}`, body, "the token goes through")
	resp, body = send(t, http.MethodGet, base+"/v1/executions/x/stream", "tok")
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	require.Contains(t, body, "event: end")
	resp, _ = send(t, http.MethodGet, base+"/", "")
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.Equal(t, "/console/", resp.Header.Get("Location"))
	resp, _ = send(t, http.MethodGet, base+"/etc/passwd", "")
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "only the API's routes are passed on")

	cancel()
	select {
	case code := <-done:
		require.Equal(t, 0, code, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("aiflow console did not stop within 30 s")
	}
}

// TestConsoleCommandRefuses: a bad --api or trace URL is a usage error.
func TestConsoleCommandRefuses(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--api", "ftp://x"}, {"--trace-url", "http://x/trace"}, {"extra"}} {
		te := newTestEnv(nil)
		require.Equal(t, 2, cmdConsole(context.Background(), args, te.env()), args)
		require.NotEmpty(t, te.stderr.String(), args)
	}
	te := newTestEnv(map[string]string{"AIFLOW_CONSOLE_TRACE_URL": "jaeger"})
	require.Equal(t, 2, cmdConsole(context.Background(), nil, te.env()))
	require.Contains(t, te.stderr.String(), "AIFLOW_CONSOLE_TRACE_URL")
}

// TestDevConsole: aiflow dev's handler serves the console beside the API
// (which gets every other path), and its line hands the token over in
// the URL's fragment.
func TestDevConsole(t *testing.T) {
	t.Parallel()
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "api "+r.URL.Path, http.StatusTeapot)
	})
	h, line, err := devConsole(api, "http://127.0.0.1:8080", "a.b-c_d", env{lookup: func(string) (string, bool) { return "", false }})
	require.NoError(t, err)
	require.Equal(t, "console: open http://127.0.0.1:8080/console/#token=a.b-c_d to watch and steer workflows in a browser (see docs/console.md)", line)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	resp, _ := send(t, http.MethodGet, srv.URL+"/console/js/app.js", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, body := send(t, http.MethodGet, srv.URL+"/v1/workflows", "")
	require.Equal(t, http.StatusTeapot, resp.StatusCode)
	require.Contains(t, body, "api /v1/workflows")
	resp, _ = send(t, http.MethodGet, srv.URL+"/", "")
	require.Equal(t, http.StatusFound, resp.StatusCode)
	resp, _ = send(t, http.MethodGet, srv.URL+"/console", "")
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.Equal(t, "/console/", resp.Header.Get("Location"))
	resp, body = send(t, http.MethodGet, srv.URL+"/metrics", "")
	require.Equal(t, http.StatusTeapot, resp.StatusCode, "the rest is the API's: %s", body)
}

// requireDevConsole checks the console of a running aiflow dev: the line
// it printed opens the console, whose token reads the MCP servers of the
// workers' pool.
func requireDevConsole(t *testing.T, base, stdout string) {
	t.Helper()
	m := regexp.MustCompile(`console: open (\S+)#token=(\S+) `).FindStringSubmatch(stdout)
	require.NotNil(t, m, "aiflow dev prints the console's address:\n%s", stdout)
	require.Equal(t, base+"/console/", m[1])
	resp, body := send(t, http.MethodGet, m[1], "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, "aiflow console")
	resp, body = send(t, http.MethodGet, base+"/v1/mcp/servers", m[2])
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	type server struct {
		Name  string            `json:"name"`
		Tools []json.RawMessage `json:"tools"`
	}
	var servers struct {
		Items []server `json:"items"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &servers))
	i := slices.IndexFunc(servers.Items, func(s server) bool { return s.Name == "support" })
	require.GreaterOrEqual(t, i, 0, "the support desk, served in process: %s", body)
	require.NotEmpty(t, servers.Items[i].Tools)
}
