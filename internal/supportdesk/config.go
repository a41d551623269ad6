package supportdesk

import (
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// Config is the support server's own configuration, from environment
// variables (the database comes from DATABASE_URL, read by the caller).
type Config struct {
	// TokenSecret is AIFLOW_SUPPORT_TOKEN_SECRET: the key that signs and
	// checks bearer tokens (HS256), at least 32 bytes. Required for HTTP.
	TokenSecret []byte
	// AllowedOrigins is AIFLOW_SUPPORT_ALLOWED_ORIGINS, comma-separated
	// origins (scheme://host[:port]) whose browsers may call the server.
	AllowedOrigins []string
	// Rules are AIFLOW_SUPPORT_REFUND_WINDOW (a duration, default 720h)
	// and AIFLOW_SUPPORT_APPROVAL_THRESHOLD (an amount, default 500.00).
	Rules Rules
	// TicketURL is AIFLOW_SUPPORT_TICKET_URL, the base of tickets' links.
	TicketURL string
	// KBURL is AIFLOW_SUPPORT_KB_URL, the base of articles' links.
	KBURL string
}

// MinSecretBytes is the shortest token secret accepted: HS256 wants a key
// at least as long as its hash.
const MinSecretBytes = 32

// LoadConfig reads Config through lookup. binary names the program in the
// error, an *config.Error that lists every problem; secretRequired says
// whether AIFLOW_SUPPORT_TOKEN_SECRET must be set (it must for HTTP).
func LoadConfig(lookup config.LookupFunc, binary string, secretRequired bool) (Config, error) {
	var problems []config.Problem
	get := func(k string) string {
		v, _ := lookup(k)
		return strings.TrimSpace(v)
	}
	cfg := Config{Rules: DefaultRules, TicketURL: get("AIFLOW_SUPPORT_TICKET_URL"), KBURL: get("AIFLOW_SUPPORT_KB_URL")}
	switch s := get("AIFLOW_SUPPORT_TOKEN_SECRET"); {
	case s == "" && secretRequired:
		problems = append(problems, config.Problem{Var: "AIFLOW_SUPPORT_TOKEN_SECRET", Problem: "is required to serve over HTTP", Example: "$(openssl rand -hex 32)"})
	case s != "" && len(s) < MinSecretBytes:
		problems = append(problems, config.Problem{Var: "AIFLOW_SUPPORT_TOKEN_SECRET", Problem: "is shorter than 32 bytes", Example: "$(openssl rand -hex 32)"})
	case s != "":
		cfg.TokenSecret = []byte(s)
	}
	for o := range strings.SplitSeq(get("AIFLOW_SUPPORT_ALLOWED_ORIGINS"), ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") || strings.Count(o, "/") != 2 {
			problems = append(problems, config.Problem{Var: "AIFLOW_SUPPORT_ALLOWED_ORIGINS", Problem: "origin " + strconv.Quote(o) + " is not scheme://host[:port]", Example: "https://console.example.com,http://localhost:3000"})
			continue
		}
		cfg.AllowedOrigins = append(cfg.AllowedOrigins, o)
	}
	if v := get("AIFLOW_SUPPORT_REFUND_WINDOW"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			problems = append(problems, config.Problem{Var: "AIFLOW_SUPPORT_REFUND_WINDOW", Problem: strconv.Quote(v) + " is not a positive duration", Example: "720h"})
		} else {
			cfg.Rules.RefundWindow = d
		}
	}
	if v := get("AIFLOW_SUPPORT_APPROVAL_THRESHOLD"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		c, cerr := toCents(f)
		if err != nil || cerr != nil || c <= 0 {
			problems = append(problems, config.Problem{Var: "AIFLOW_SUPPORT_APPROVAL_THRESHOLD", Problem: strconv.Quote(v) + " is not a positive amount with at most two decimals", Example: "500.00"})
		} else {
			cfg.Rules.ApprovalThresholdCents = c
		}
	}
	for _, k := range []string{"AIFLOW_SUPPORT_TICKET_URL", "AIFLOW_SUPPORT_KB_URL"} {
		if v := get(k); v != "" && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
			problems = append(problems, config.Problem{Var: k, Problem: strconv.Quote(v) + " is not an http(s) URL", Example: "https://support.example.com/tickets/"})
		}
	}
	if len(problems) > 0 {
		return cfg, &config.Error{Binary: binary, Problems: problems}
	}
	return cfg, nil
}

// DeskOptions returns the Options of a Desk with this configuration.
func (c Config) DeskOptions() Options {
	return Options{Rules: c.Rules, TicketURL: c.TicketURL, KBURL: c.KBURL}
}

// FunctionConfig is the configuration of functions/mcpserver, the support
// server behind a Lambda Function URL.
type FunctionConfig struct {
	Config
	// DatabaseURL is DATABASE_URL, a postgres:// URL. Required.
	DatabaseURL string
	// Log is AIFLOW_LOG_LEVEL (debug, info, warn, error) and
	// AIFLOW_LOG_FORMAT (auto, json, text).
	Log config.Log
}

// LoadFunctionConfig reads FunctionConfig through lookup; the token secret
// is required. Every problem is listed in one *config.Error.
func LoadFunctionConfig(lookup config.LookupFunc) (FunctionConfig, error) {
	const binary = "functions/mcpserver"
	cfg := FunctionConfig{Log: config.Log{Level: slog.LevelInfo, Format: telemetry.FormatAuto}}
	var problems []config.Problem
	c, err := LoadConfig(lookup, binary, true)
	cfg.Config = c
	var cerr *config.Error
	if errors.As(err, &cerr) {
		problems = append(problems, cerr.Problems...)
	}
	cfg.DatabaseURL, _ = lookup("DATABASE_URL")
	if u, err := url.Parse(cfg.DatabaseURL); cfg.DatabaseURL == "" || err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		problems = append(problems, config.Problem{Var: "DATABASE_URL", Problem: "is not a postgres:// URL", Example: "postgres://aiflow_support@db.internal:5432/aiflow?sslmode=require"})
	}
	if v, _ := lookup("AIFLOW_LOG_LEVEL"); v != "" {
		if err := cfg.Log.Level.UnmarshalText([]byte(v)); err != nil || !slices.Contains([]string{"debug", "info", "warn", "error"}, strings.ToLower(v)) {
			problems = append(problems, config.Problem{Var: "AIFLOW_LOG_LEVEL", Problem: strconv.Quote(v) + " is not one of debug, info, warn, error", Example: "info"})
		}
	}
	if v, _ := lookup("AIFLOW_LOG_FORMAT"); v != "" {
		f := telemetry.LogFormat(v)
		if f != telemetry.FormatAuto && f != telemetry.FormatJSON && f != telemetry.FormatText {
			problems = append(problems, config.Problem{Var: "AIFLOW_LOG_FORMAT", Problem: strconv.Quote(v) + " is not one of auto, json, text", Example: "json"})
		} else {
			cfg.Log.Format = f
		}
	}
	if len(problems) > 0 {
		return cfg, &config.Error{Binary: binary, Problems: problems}
	}
	return cfg, nil
}
