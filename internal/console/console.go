// Package console holds aiflow's web console: static HTML, CSS and
// JavaScript modules (no build step, no library) embedded in the binary,
// and the http.Handler that serves them. The console talks only to
// aiflow's HTTP API, with the bearer token its user gives it, so it can
// do exactly what that token may do through curl; it has no back end of
// its own. docs/console.md describes it.
package console

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var static embed.FS

// Prefix is the path the console is served under by aiflow dev and
// aiflow console.
const Prefix = "/console/"

// ContentSecurityPolicy is sent with every file: scripts, styles and
// requests only from the console's own origin (where the API is served
// too, or proxied), no inline script or style, no frames, no plugins.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Options configure New.
type Options struct {
	// TraceURL is the address of a trace in a trace viewer, with
	// {trace_id} where the trace's W3C hex id goes, such as Jaeger's
	// "http://localhost:16686/trace/{trace_id}"; empty shows trace ids
	// without a link.
	TraceURL string
}

// Handler serves the console's files under Prefix, and its settings at
// Prefix + "config.json".
type Handler struct {
	files map[string]file
}

// file is one embedded file, ready to serve.
type file struct {
	body        []byte
	contentType string
	etag        string
}

// New returns the console's handler. Its error names a TraceURL that is
// not an http(s) address holding {trace_id}.
func New(opts Options) (*Handler, error) {
	if t := opts.TraceURL; t != "" && (!strings.Contains(t, "{trace_id}") || !(strings.HasPrefix(t, "http://") || strings.HasPrefix(t, "https://"))) {
		return nil, fmt.Errorf("reading the trace viewer's URL %q: it is an http(s) address with {trace_id} where the trace id goes", t)
	}
	h := &Handler{files: map[string]file{}}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		h.files[strings.TrimPrefix(p, "static/")] = newFile(body, mime.TypeByExtension(path.Ext(p)))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the console's embedded files: %w", err)
	}
	cfg, err := json.Marshal(map[string]string{"trace_url": opts.TraceURL})
	if err != nil {
		return nil, fmt.Errorf("encoding the console's settings: %w", err)
	}
	h.files["config.json"] = newFile(cfg, "application/json")
	return h, nil
}

func newFile(body []byte, contentType string) file {
	if strings.HasSuffix(contentType, "javascript") {
		contentType = "text/javascript; charset=utf-8" // the same on every host's MIME table
	}
	sum := sha256.Sum256(body)
	return file{body: body, contentType: contentType, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// Files lists the files served, by their path under Prefix.
func (h *Handler) Files() []string {
	out := make([]string, 0, len(h.files))
	for name := range h.files {
		out = append(out, name)
	}
	return out
}

// ServeHTTP serves GET and HEAD of the console's files; Prefix itself is
// index.html. Every answer forbids framing and sniffing and carries the
// CSP. Files are revalidated on each load (no-cache with an ETag): they
// have no versioned names, and a new binary must not be served stale.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "the console's files are read with GET", http.StatusMethodNotAllowed)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if name == "" {
		name = "index.html"
	}
	f, ok := h.files[name]
	if !ok {
		http.Error(w, "the console has no file "+name, http.StatusNotFound)
		return
	}
	hd.Set("Content-Type", f.contentType)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", f.etag)
	if match := r.Header.Get("If-None-Match"); match != "" && match == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Length", fmt.Sprint(len(f.body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(f.body)
}
