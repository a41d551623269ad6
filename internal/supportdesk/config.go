package supportdesk

import (
	"strconv"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/config"
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
