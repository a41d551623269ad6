package config

import (
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/telemetry"
)

// Support is the configuration of the customer-support MCP server
// (internal/supportdesk), read by `aiflow mcp serve`, `aiflow mcp token`
// and functions/mcpserver.
type Support struct {
	// TokenSecret is AIFLOW_SUPPORT_TOKEN_SECRET: the key that signs and
	// checks bearer tokens (HS256), at least MinSupportSecretBytes bytes.
	// Required for HTTP.
	TokenSecret telemetry.Secret
	// AllowedOrigins is AIFLOW_SUPPORT_ALLOWED_ORIGINS, comma-separated
	// origins (scheme://host[:port]) whose browsers may call the server.
	AllowedOrigins []string
	// RefundWindow is AIFLOW_SUPPORT_REFUND_WINDOW, a positive duration;
	// 0 (unset) means the desk's default (720h).
	RefundWindow time.Duration
	// ApprovalThresholdCents is AIFLOW_SUPPORT_APPROVAL_THRESHOLD, a
	// positive amount with at most two decimals, in cents; 0 (unset) means
	// the desk's default (500.00).
	ApprovalThresholdCents int64
	// TicketURL is AIFLOW_SUPPORT_TICKET_URL, the base of tickets' links.
	TicketURL string
	// KBURL is AIFLOW_SUPPORT_KB_URL, the base of articles' links.
	KBURL string
}

// MinSupportSecretBytes is the shortest AIFLOW_SUPPORT_TOKEN_SECRET
// accepted: HS256 wants a key at least as long as its hash.
const MinSupportSecretBytes = 32

// LoadSupport reads Support from the environment through lookup. binary
// names the program in the error, an *Error that lists every problem;
// secretRequired says whether AIFLOW_SUPPORT_TOKEN_SECRET must be set (it
// must for HTTP).
func LoadSupport(lookup LookupFunc, binary string, secretRequired bool) (Support, error) {
	r := newReader(lookup)
	c := readSupport(r, secretRequired)
	return c, r.err(binary)
}

// readSupport reads the variables of Support.
func readSupport(r *reader, secretRequired bool) Support {
	c := Support{TicketURL: r.string("AIFLOW_SUPPORT_TICKET_URL", ""), KBURL: r.string("AIFLOW_SUPPORT_KB_URL", "")}
	const exampleSecret = "$(openssl rand -hex 32)"
	switch s, _ := r.get("AIFLOW_SUPPORT_TOKEN_SECRET"); {
	case s == "" && secretRequired:
		r.problem("AIFLOW_SUPPORT_TOKEN_SECRET", exampleSecret, "is required to serve over HTTP")
	case s != "" && len(s) < MinSupportSecretBytes:
		r.problem("AIFLOW_SUPPORT_TOKEN_SECRET", exampleSecret, "is shorter than %d bytes", MinSupportSecretBytes)
	case s != "":
		c.TokenSecret = telemetry.Secret(s)
	}
	origins, _ := r.get("AIFLOW_SUPPORT_ALLOWED_ORIGINS")
	for o := range strings.SplitSeq(origins, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") || strings.Count(o, "/") != 2 {
			r.problem("AIFLOW_SUPPORT_ALLOWED_ORIGINS", "https://console.example.com,http://localhost:3000", "origin %s is not scheme://host[:port]", strconv.Quote(o))
			continue
		}
		c.AllowedOrigins = append(c.AllowedOrigins, o)
	}
	if v, ok := r.get("AIFLOW_SUPPORT_REFUND_WINDOW"); ok {
		if d, err := time.ParseDuration(v); err != nil || d <= 0 {
			r.problem("AIFLOW_SUPPORT_REFUND_WINDOW", "720h", "%s is not a positive duration", strconv.Quote(v))
		} else {
			c.RefundWindow = d
		}
	}
	if v, ok := r.get("AIFLOW_SUPPORT_APPROVAL_THRESHOLD"); ok {
		if cents, ok := parseCents(v); !ok {
			r.problem("AIFLOW_SUPPORT_APPROVAL_THRESHOLD", "500.00", "%s is not a positive amount with at most two decimals", strconv.Quote(v))
		} else {
			c.ApprovalThresholdCents = cents
		}
	}
	for _, k := range []string{"AIFLOW_SUPPORT_TICKET_URL", "AIFLOW_SUPPORT_KB_URL"} {
		if v, _ := r.get(k); v != "" && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
			r.problem(k, "https://support.example.com/tickets/", "%s is not an http(s) URL", strconv.Quote(v))
		}
	}
	return c
}

// parseCents reads a positive amount with at most two decimals as cents.
func parseCents(s string) (int64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	c := math.Round(f * 100)
	if math.Abs(f*100-c) > 1e-6 || c <= 0 {
		return 0, false
	}
	return int64(c), true
}

// LogValue shows the configuration in logs with the token secret reduced
// to whether it is set.
func (c Support) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("token_secret_set", c.TokenSecret != ""),
		slog.Any("allowed_origins", c.AllowedOrigins),
		slog.Duration("refund_window", c.RefundWindow),
		slog.Int64("approval_threshold_cents", c.ApprovalThresholdCents),
		slog.String("ticket_url", c.TicketURL),
		slog.String("kb_url", c.KBURL),
	)
}

// MCPServer is the configuration of functions/mcpserver (and `aiflow
// invoke mcpserver`), the support server behind a Lambda Function URL.
type MCPServer struct {
	// Support is the server's own settings; the token secret is required,
	// from AIFLOW_SUPPORT_TOKEN_SECRET or the secret TokenSecretARN names.
	Support Support
	// TokenSecretARN is AIFLOW_SUPPORT_TOKEN_SECRET_ARN: the Secrets
	// Manager secret (an ARN or a name) holding the token secret, read
	// when the function starts instead of AIFLOW_SUPPORT_TOKEN_SECRET, so
	// that the secret never sits in the function's environment.
	TokenSecretARN string
	// Database is DATABASE_URL, or AIFLOW_DATABASE_SECRET and its
	// companions. Required.
	Database Database
	// Log is AIFLOW_LOG_LEVEL and AIFLOW_LOG_FORMAT.
	Log Log
	// Version is AWS_LAMBDA_FUNCTION_VERSION, which the server reports.
	Version string
}

// LoadMCPServer reads MCPServer from the environment through lookup. Every
// problem is listed in one *Error naming functions/mcpserver.
func LoadMCPServer(lookup LookupFunc) (MCPServer, error) {
	r := newReader(lookup)
	arn := r.string("AIFLOW_SUPPORT_TOKEN_SECRET_ARN", "")
	c := MCPServer{Support: readSupport(r, arn == ""), TokenSecretARN: arn}
	if arn != "" && c.Support.TokenSecret != "" {
		r.problem("AIFLOW_SUPPORT_TOKEN_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:aiflow/mcp/support-token-AbCdEf",
			"give it or AIFLOW_SUPPORT_TOKEN_SECRET, not both")
	}
	c.Database = r.database(databaseParams{required: true, example: "postgres://aiflow_support@db.internal:5432/aiflow?sslmode=require"})
	c.Log = readLog(r)
	c.Version = r.string("AWS_LAMBDA_FUNCTION_VERSION", "")
	return c, r.err("functions/mcpserver")
}

// LogValue shows the configuration in logs without the database password
// and the token secret.
func (c MCPServer) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Attr{Key: "support", Value: c.Support.LogValue()},
		slog.String("token_secret_arn", c.TokenSecretARN),
		slog.Attr{Key: "database", Value: c.Database.LogValue()},
		slog.Any("log", c.Log),
		slog.String("version", c.Version),
	)
}

// MCPServe is the configuration of `aiflow mcp serve`: the support server's
// settings and its database, read as for `aiflow migrate`.
type MCPServe struct {
	// Support is the server's own settings.
	Support Support
	// Database is DATABASE_URL, AIFLOW_DATA_DIR, AIFLOW_PG_BINDIR and the
	// log settings.
	Database Migrate
}

// LoadMCPServe reads MCPServe from the environment through lookup;
// secretRequired says whether AIFLOW_SUPPORT_TOKEN_SECRET must be set (it
// must for HTTP). Every problem is listed in one *Error naming aiflow mcp
// serve, together with an MCPServe that holds defaults in their place.
func LoadMCPServe(lookup LookupFunc, secretRequired bool) (MCPServe, error) {
	r := newReader(lookup)
	c := MCPServe{Support: readSupport(r, secretRequired), Database: readMigrate(r)}
	return c, r.err("aiflow mcp serve")
}

// LogValue shows the configuration in logs without the database password
// and the token secret.
func (c MCPServe) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Attr{Key: "support", Value: c.Support.LogValue()},
		slog.Attr{Key: "database", Value: c.Database.LogValue()},
	)
}

// LoadMCPSeed reads the configuration of `aiflow mcp seed`, which needs the
// same variables as `aiflow migrate`; its errors name aiflow mcp seed.
func LoadMCPSeed(lookup LookupFunc) (Migrate, error) { return loadMigrate(lookup, "aiflow mcp seed") }
