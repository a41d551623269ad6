package config

import (
	"log/slog"
	"net"
	"net/url"
	"path/filepath"

	"github.com/aiflow/aiflow/internal/telemetry"
)

// ServiceClient is the configuration of `aiflow service`, which talks to
// aiflow's HTTP API: its flags --api and --token win over it.
type ServiceClient struct {
	// APIURL is AIFLOW_API_URL, an http or https URL; unset means the API
	// aiflow dev serves: http:// and AIFLOW_HTTP_ADDR (default
	// 127.0.0.1:8080; an empty or unspecified host is 127.0.0.1).
	APIURL string
	// Token is AIFLOW_TOKEN, a bearer token; unset means the development
	// token aiflow dev writes (TokenFile), when it exists.
	Token telemetry.Secret
	// TokenFile is AIFLOW_DATA_DIR/dev-token (default .aiflow/dev-token).
	TokenFile string
	// Log is AIFLOW_LOG_LEVEL and AIFLOW_LOG_FORMAT.
	Log Log
}

// exampleAPIURL is the example shown for a bad AIFLOW_API_URL.
const exampleAPIURL = "http://127.0.0.1:8080"

// LoadServiceClient reads ServiceClient from the environment through
// lookup. When variables are invalid it returns an *Error listing all of
// them, together with a ServiceClient that holds defaults in their place.
func LoadServiceClient(lookup LookupFunc) (ServiceClient, error) {
	r := newReader(lookup)
	var cfg ServiceClient
	addr := r.hostPort("AIFLOW_HTTP_ADDR", "127.0.0.1:8080")
	cfg.APIURL = DevAPIURL(addr)
	if v, ok := r.get("AIFLOW_API_URL"); ok {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			r.problem("AIFLOW_API_URL", exampleAPIURL, "%s is not an http or https URL", show("AIFLOW_API_URL", v))
		} else {
			cfg.APIURL = v
		}
	}
	cfg.Token = r.secret("AIFLOW_TOKEN")
	cfg.TokenFile = filepath.Join(r.string("AIFLOW_DATA_DIR", defaultDataDir), "dev-token")
	cfg.Log = readLog(r)
	return cfg, r.err("aiflow service")
}

// DevAPIURL is the URL of the API aiflow dev serves on addr (host:port):
// an empty or unspecified host (all interfaces) is reached on 127.0.0.1.
func DevAPIURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// LogValue shows the configuration in logs without the token.
func (c ServiceClient) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("api_url", c.APIURL),
		slog.Bool("token", c.Token.Reveal() != ""),
		slog.String("token_file", c.TokenFile),
	)
}
