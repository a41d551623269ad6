// Package httpapi holds aiflow's HTTP handlers. The same http.Handler is
// served by net/http in `aiflow dev` and behind API Gateway on Lambda
// (functions/api), so both answer alike.
//
// Today it serves the health endpoints; the workflow and execution API is
// built on the same Server.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/aiflow/aiflow/internal/telemetry"
)

// Pinger reports whether a dependency answers. *pgxpool.Pool is one.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Options configure New.
type Options struct {
	// DB is checked by /readyz.
	DB Pinger
	// Version is reported by /healthz.
	Version string
	// Logger receives one line per request and the causes of failed checks.
	Logger *slog.Logger
	// ReadyTimeout bounds each readiness check. Zero means two seconds.
	ReadyTimeout time.Duration
	// NowFunc and IDFunc are the clock and request-id source; nil means the
	// real clock and random ids.
	NowFunc func() time.Time
	IDFunc  func() string
}

// Server is aiflow's HTTP API.
type Server struct {
	opts Options
	mux  *http.ServeMux
}

// New returns the API with every route registered.
func New(opts Options) *Server {
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.NowFunc == nil {
		opts.NowFunc = time.Now
	}
	if opts.IDFunc == nil {
		opts.IDFunc = randomID
	}
	s := &Server{opts: opts, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	return s
}

// ServeHTTP gives every request a request id (the caller's X-Request-Id when
// it sends a sane one), carries it in the context for logging, echoes it in
// the response, and logs the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.opts.NowFunc()
	id := r.Header.Get("X-Request-Id")
	if !saneID(id) {
		id = s.opts.IDFunc()
	}
	ctx := telemetry.WithRequestID(r.Context(), id)
	if c := r.Header.Get("X-Correlation-Id"); saneID(c) {
		ctx = telemetry.WithCorrelationID(ctx, c)
	}
	w.Header().Set("X-Request-Id", id)
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	r = r.WithContext(ctx)
	if h, pattern := s.mux.Handler(r); pattern == "" {
		s.noRoute(rec, r, h)
	} else {
		s.mux.ServeHTTP(rec, r)
	}
	s.opts.Logger.LogAttrs(ctx, slog.LevelInfo, "request",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", rec.status), slog.Duration("took", s.opts.NowFunc().Sub(start)))
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.opts.Version})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	checks := map[string]string{}
	ready := true
	if s.opts.DB != nil {
		ctx, cancel := context.WithTimeout(r.Context(), s.opts.ReadyTimeout)
		err := s.opts.DB.Ping(ctx)
		cancel()
		if err != nil {
			ready = false
			checks["database"] = "unreachable"
			s.opts.Logger.ErrorContext(r.Context(), "readiness check failed", "check", "database", "error", err)
		} else {
			checks["database"] = "ok"
		}
	}
	if !ready {
		writeProblem(w, r, Problem{
			Status: http.StatusServiceUnavailable,
			Title:  "Not ready",
			Detail: "a dependency is not available; see checks",
			Extra:  map[string]any{"checks": checks},
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "checks": checks})
}

// noRoute answers a request no route takes with a problem: 404 for an
// unknown path, 405 with Allow for a known path and another method. The
// mux's own handler decides which; its plain-text body is dropped.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request, muxHandler http.Handler) {
	probe := &headerOnlyWriter{header: http.Header{}, status: http.StatusNotFound}
	muxHandler.ServeHTTP(probe, r)
	detail := "no route for " + r.Method + " " + r.URL.Path
	if allow := probe.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
		detail = r.URL.Path + " does not accept " + r.Method + "; it accepts " + allow
	}
	writeProblem(w, r, Problem{Status: probe.status, Title: http.StatusText(probe.status), Detail: detail})
}

type headerOnlyWriter struct {
	header http.Header
	status int
}

func (h *headerOnlyWriter) Header() http.Header         { return h.header }
func (h *headerOnlyWriter) Write(p []byte) (int, error) { return len(p), nil }
func (h *headerOnlyWriter) WriteHeader(code int)        { h.status = code }

// Problem is an RFC 9457 problem detail.
type Problem struct {
	Type   string // a URI; empty means about:blank
	Title  string
	Status int
	Detail string
	// Extra members are added to the object as they are.
	Extra map[string]any
}

func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	body := map[string]any{}
	for k, v := range p.Extra {
		body[k] = v
	}
	if p.Type == "" {
		p.Type = "about:blank"
	}
	body["type"], body["title"], body["status"], body["detail"] = p.Type, p.Title, p.Status, p.Detail
	body["instance"] = r.URL.Path
	if id := telemetry.RequestID(r.Context()); id != "" {
		body["request_id"] = id
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// saneID accepts ids of 1 to 128 printable ASCII characters without spaces,
// so a caller cannot smuggle log lines or huge values through a header.
func saneID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
