package config

import (
	"log/slog"
	"net/url"
	"strings"
)

// Console is the configuration of the web console, served by aiflow dev
// and by `aiflow console` (whose flags win over it).
type Console struct {
	// TraceURL is AIFLOW_CONSOLE_TRACE_URL: a trace viewer's address with
	// {trace_id} where an execution's trace id goes (Jaeger:
	// http://localhost:16686/trace/{trace_id}); unset shows trace ids
	// without a link.
	TraceURL string
	// APIURL is the API `aiflow console` serves the console for:
	// AIFLOW_API_URL, else the one aiflow dev serves on AIFLOW_HTTP_ADDR.
	APIURL string
	// Addr is AIFLOW_CONSOLE_ADDR (default 127.0.0.1:8090), where
	// `aiflow console` listens.
	Addr string
}

// exampleTraceURL is the example shown for a bad AIFLOW_CONSOLE_TRACE_URL.
const exampleTraceURL = "http://localhost:16686/trace/{trace_id}"

// LoadConsole reads Console from the environment through lookup, for
// `aiflow console`. When variables are invalid it returns an *Error
// listing all of them, together with a Console that holds defaults in
// their place.
func LoadConsole(lookup LookupFunc) (Console, error) {
	r := newReader(lookup)
	cfg := Console{
		APIURL: DevAPIURL(r.hostPort("AIFLOW_HTTP_ADDR", "127.0.0.1:8080")),
		Addr:   r.hostPort("AIFLOW_CONSOLE_ADDR", "127.0.0.1:8090"),
	}
	if v, ok := r.get("AIFLOW_API_URL"); ok {
		if !httpURL(v) {
			r.problem("AIFLOW_API_URL", exampleAPIURL, "%s is not an http or https URL", show("AIFLOW_API_URL", v))
		} else {
			cfg.APIURL = v
		}
	}
	cfg.TraceURL = readTraceURL(r)
	return cfg, r.err("aiflow console")
}

// LoadDevConsole reads the console's TraceURL, the one variable of
// Console that aiflow dev, which serves the console on its API's
// address, reads.
func LoadDevConsole(lookup LookupFunc) (Console, error) {
	r := newReader(lookup)
	cfg := Console{TraceURL: readTraceURL(r)}
	return cfg, r.err("aiflow dev")
}

func readTraceURL(r *reader) string {
	v, ok := r.get("AIFLOW_CONSOLE_TRACE_URL")
	if !ok {
		return ""
	}
	if !httpURL(v) || !strings.Contains(v, "{trace_id}") {
		r.problem("AIFLOW_CONSOLE_TRACE_URL", exampleTraceURL, "%s is not an http or https URL with {trace_id}", show("AIFLOW_CONSOLE_TRACE_URL", v))
		return ""
	}
	return v
}

func httpURL(v string) bool {
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// LogValue shows the configuration in logs.
func (c Console) LogValue() slog.Value {
	return slog.GroupValue(slog.String("trace_url", c.TraceURL), slog.String("api_url", c.APIURL), slog.String("addr", c.Addr))
}
