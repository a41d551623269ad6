package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/console"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

func serve(t *testing.T, opts console.Options) *httptest.Server {
	t.Helper()
	h, err := console.New(opts)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func fetch(t *testing.T, method, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

// TestServesTheFiles: every embedded file is served with its content
// type, the CSP and revalidation; the index is served at the prefix.
func TestServesTheFiles(t *testing.T) {
	t.Parallel()
	srv := serve(t, console.Options{})
	types := map[string]string{
		"":                "text/html; charset=utf-8",
		"index.html":      "text/html; charset=utf-8",
		"console.css":     "text/css; charset=utf-8",
		"favicon.svg":     "image/svg+xml",
		"config.json":     "application/json",
		"js/app.js":       "text/javascript; charset=utf-8",
		"js/api.js":       "text/javascript; charset=utf-8",
		"js/graph.js":     "text/javascript; charset=utf-8",
		"js/execution.js": "text/javascript; charset=utf-8",
	}
	for name, want := range types {
		resp, body := fetch(t, http.MethodGet, srv.URL+console.Prefix+name)
		require.Equal(t, http.StatusOK, resp.StatusCode, name)
		require.Equal(t, want, resp.Header.Get("Content-Type"), name)
		require.Equal(t, console.ContentSecurityPolicy, resp.Header.Get("Content-Security-Policy"), name)
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), name)
		require.Equal(t, "no-cache", resp.Header.Get("Cache-Control"), name)
		require.NotEmpty(t, resp.Header.Get("ETag"), name)
		require.NotEmpty(t, body, name)
	}
	resp, body := fetch(t, http.MethodGet, srv.URL+console.Prefix+"config.json")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.JSONEq(t, `{"trace_url": ""}`, body)
}

// TestEveryModuleIsEmbedded: each module the pages import is served,
// so a file left out of the embed (or misnamed) fails here, not in a
// browser.
func TestEveryModuleIsEmbedded(t *testing.T) {
	t.Parallel()
	srv := serve(t, console.Options{})
	h, err := console.New(console.Options{})
	require.NoError(t, err)
	imports := regexp.MustCompile(`from "\./([a-z]+\.js)"`)
	refs := regexp.MustCompile(`(?:src|href)="([a-z/]+\.[a-z]+)"`)
	seen := 0
	for _, name := range h.Files() {
		_, body := fetch(t, http.MethodGet, srv.URL+console.Prefix+name)
		var wanted []string
		switch {
		case strings.HasSuffix(name, ".js"):
			for _, m := range imports.FindAllStringSubmatch(body, -1) {
				wanted = append(wanted, "js/"+m[1])
			}
		case strings.HasSuffix(name, ".html"):
			for _, m := range refs.FindAllStringSubmatch(body, -1) {
				wanted = append(wanted, m[1])
			}
		}
		for _, w := range wanted {
			seen++
			resp, _ := fetch(t, http.MethodGet, srv.URL+console.Prefix+w)
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s refers to %s", name, w)
		}
	}
	require.Greater(t, seen, 10)
}

// TestNoInlineScriptOrStyle: the pages hold no inline script, handler
// or style, which the CSP would refuse.
func TestNoInlineScriptOrStyle(t *testing.T) {
	t.Parallel()
	srv := serve(t, console.Options{})
	_, body := fetch(t, http.MethodGet, srv.URL+console.Prefix)
	require.NotRegexp(t, `<script(?:\s[^>]*)?>\s*[^<\s]`, body, "no inline script")
	require.NotRegexp(t, `\son[a-z]+=`, body, "no inline event handler")
	require.NotContains(t, body, "style=")
	require.NotContains(t, body, "<style")
	require.NotContains(t, console.ContentSecurityPolicy, "unsafe-inline")
	require.Contains(t, console.ContentSecurityPolicy, "script-src 'self'")
}

// TestNotFoundAndMethods: unknown files are 404s with the CSP, other
// methods 405, an unchanged file 304.
func TestNotFoundAndMethods(t *testing.T) {
	t.Parallel()
	srv := serve(t, console.Options{})
	for _, path := range []string{console.Prefix + "nothing.js", console.Prefix + "js/", "/elsewhere", console.Prefix + "../go.mod"} {
		resp, _ := fetch(t, http.MethodGet, srv.URL+path)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		require.Equal(t, console.ContentSecurityPolicy, resp.Header.Get("Content-Security-Policy"), path)
	}
	resp, _ := fetch(t, http.MethodPost, srv.URL+console.Prefix)
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	require.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
	resp, _ = fetch(t, http.MethodGet, srv.URL+console.Prefix+"console.css")
	etag := resp.Header.Get("ETag")
	resp, body := fetch(t, http.MethodGet, srv.URL+console.Prefix+"console.css", "If-None-Match", etag)
	require.Equal(t, http.StatusNotModified, resp.StatusCode)
	require.Empty(t, body)
	resp, body = fetch(t, http.MethodHead, srv.URL+console.Prefix+"console.css")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Empty(t, body)
}

// TestTraceURL: the trace viewer's address reaches the page's settings,
// and one without {trace_id} or not http(s) is refused.
func TestTraceURL(t *testing.T) {
	t.Parallel()
	srv := serve(t, console.Options{TraceURL: "http://localhost:16686/trace/{trace_id}"})
	_, body := fetch(t, http.MethodGet, srv.URL+console.Prefix+"config.json")
	require.JSONEq(t, `{"trace_url": "http://localhost:16686/trace/{trace_id}"}`, body)
	for _, bad := range []string{"http://localhost:16686/trace/", "javascript:alert(1)//{trace_id}"} {
		_, err := console.New(console.Options{TraceURL: bad})
		require.ErrorContains(t, err, "{trace_id}", bad)
	}
}

func TestMain(m *testing.M) { pgclustertest.Main(m) }
