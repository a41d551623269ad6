package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/console"
)

const consoleUsage = `usage: aiflow console [--api URL] [--listen ADDR] [--trace-url URL]

Serve the web console for an aiflow API at http://ADDR/console/. The console
calls the API through this server, which passes its requests (/v1/...,
/healthz, /readyz, /openapi.json) on to --api unchanged, bearer token
included: the browser sees one origin, so the API needs no CORS, and the
console does what the token it is given may do, as curl would.

  --api URL        the API (default AIFLOW_API_URL, else aiflow dev's on AIFLOW_HTTP_ADDR)
  --listen ADDR    where to listen (default AIFLOW_CONSOLE_ADDR, else 127.0.0.1:8090)
  --trace-url URL  a trace viewer's address with {trace_id} (default AIFLOW_CONSOLE_TRACE_URL)

aiflow dev serves the console itself, at /console/ on its API's address.
See docs/console.md.
`

// cmdConsole serves the console and proxies the API until ctx ends.
func cmdConsole(ctx context.Context, args []string, e env) int {
	cfg, err := config.LoadConsole(e.lookup)
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return 2
	}
	fs := flag.NewFlagSet("aiflow console", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, consoleUsage) }
	api := fs.String("api", cfg.APIURL, "the API's base URL")
	listen := fs.String("listen", cfg.Addr, "host:port to listen on")
	traceURL := fs.String("trace-url", cfg.TraceURL, "a trace viewer's address with {trace_id}")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "aiflow console: unexpected arguments %q\n\n%s", fs.Args(), consoleUsage)
		return 2
	}
	target, err := url.Parse(*api)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		fmt.Fprintf(e.stderr, "aiflow console: --api %q is not an http or https URL (example: --api http://127.0.0.1:8080)\n", *api)
		return 2
	}
	files, err := console.New(console.Options{TraceURL: *traceURL})
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow console: %v\n", err)
		return 2
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow console: listening on %s: %v (pick a free host:port with --listen)\n", *listen, err)
		return 1
	}
	srv := &http.Server{Handler: withConsole(apiProxy(target), files, true), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(e.stdout, "console: http://%s%s for the API at %s (proxied); press Ctrl-C to stop\n", ln.Addr(), console.Prefix, target.Redacted())
	if err := serveUntilSignal(ctx, serveParams{server: srv, listener: ln, timeout: 5 * time.Second, notice: e.stdout}); err != nil {
		fmt.Fprintf(e.stderr, "aiflow console: %v\n", err)
		return 1
	}
	return 0
}

// apiProxy passes requests on to the API at target (its path prefixed),
// headers and all; server-sent events are flushed as they come.
func apiProxy(target *url.URL) http.Handler {
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
		},
		FlushInterval: -1,
	}
}

// apiPath reports whether a path is one of the API's, which aiflow
// console passes on.
func apiPath(p string) bool {
	return strings.HasPrefix(p, "/v1/") || p == "/healthz" || p == "/readyz" || p == "/openapi.json"
}

// withConsole serves the console's files under console.Prefix, redirects
// / and /console there, and hands every other request to next. With
// onlyAPI (aiflow console, in front of a proxy), requests for paths that
// are not the API's are 404s instead of being passed on.
func withConsole(next http.Handler, files *console.Handler, onlyAPI bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case strings.HasPrefix(p, console.Prefix):
			files.ServeHTTP(w, r)
		case (p == "/" || p == strings.TrimSuffix(console.Prefix, "/")) && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			http.Redirect(w, r, console.Prefix, http.StatusFound)
		case onlyAPI && !apiPath(p):
			http.NotFound(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// devConsole is aiflow dev's console in front of its API (and metrics),
// and the line dev prints about it: the console's address with the
// development token in the URL's fragment, which browsers never send to
// a server; the console keeps it in the tab's sessionStorage and takes
// it out of the address bar.
func devConsole(next http.Handler, base, token string, e env) (http.Handler, string, error) {
	cfg, err := config.LoadDevConsole(e.lookup)
	if err != nil {
		return nil, "", err
	}
	files, err := console.New(console.Options{TraceURL: cfg.TraceURL})
	if err != nil {
		return nil, "", err
	}
	line := fmt.Sprintf("console: open %s%s#token=%s to watch and steer workflows in a browser (see docs/console.md)", base, console.Prefix, url.QueryEscape(token))
	return withConsole(next, files, false), line, nil
}
