package supportdesk

import (
	"github.com/aiflow/aiflow/internal/config"
)

// Config is the support server's own configuration, made from the
// environment's config.Support by ConfigOf (the database comes from
// DATABASE_URL, read by the caller).
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
const MinSecretBytes = config.MinSupportSecretBytes

// ConfigOf returns the server's configuration for s, with DefaultRules in
// place of the rules s leaves unset.
func ConfigOf(s config.Support) Config {
	c := Config{
		AllowedOrigins: s.AllowedOrigins,
		Rules:          DefaultRules,
		TicketURL:      s.TicketURL,
		KBURL:          s.KBURL,
	}
	if s.TokenSecret != "" {
		c.TokenSecret = []byte(s.TokenSecret.Reveal())
	}
	if s.RefundWindow > 0 {
		c.Rules.RefundWindow = s.RefundWindow
	}
	if s.ApprovalThresholdCents > 0 {
		c.Rules.ApprovalThresholdCents = s.ApprovalThresholdCents
	}
	return c
}

// DeskOptions returns the Options of a Desk with this configuration.
func (c Config) DeskOptions() Options {
	return Options{Rules: c.Rules, TicketURL: c.TicketURL, KBURL: c.KBURL}
}
