package supportdesk_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/supportdesk"
)

func lookup(m map[string]string) config.LookupFunc {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// load is config.LoadSupport made into the server's Config, as the
// commands and functions/mcpserver do.
func load(lookup config.LookupFunc, binary string, secretRequired bool) (supportdesk.Config, error) {
	s, err := config.LoadSupport(lookup, binary, secretRequired)
	return supportdesk.ConfigOf(s), err
}

func TestConfigOf(t *testing.T) {
	t.Parallel()
	cfg, err := load(lookup(map[string]string{
		"AIFLOW_SUPPORT_TOKEN_SECRET":       string(testSecret),
		"AIFLOW_SUPPORT_ALLOWED_ORIGINS":    "https://console.example.com, http://localhost:3000",
		"AIFLOW_SUPPORT_REFUND_WINDOW":      "336h",
		"AIFLOW_SUPPORT_APPROVAL_THRESHOLD": "250.50",
	}), "aiflow mcp serve", true)
	require.NoError(t, err)
	require.Equal(t, testSecret, cfg.TokenSecret)
	require.Equal(t, []string{"https://console.example.com", "http://localhost:3000"}, cfg.AllowedOrigins)
	require.Equal(t, supportdesk.Rules{RefundWindow: 14 * 24 * time.Hour, ApprovalThresholdCents: 250_50}, cfg.Rules)

	cfg, err = load(lookup(nil), "aiflow mcp serve", false)
	require.NoError(t, err, "stdio needs no secret")
	require.Equal(t, supportdesk.DefaultRules, cfg.Rules)

	_, err = load(lookup(map[string]string{
		"AIFLOW_SUPPORT_TOKEN_SECRET":       "tiny-secret",
		"AIFLOW_SUPPORT_ALLOWED_ORIGINS":    "console.example.com",
		"AIFLOW_SUPPORT_REFUND_WINDOW":      "forever",
		"AIFLOW_SUPPORT_APPROVAL_THRESHOLD": "1.234",
		"AIFLOW_SUPPORT_TICKET_URL":         "ftp://x",
	}), "aiflow mcp serve", true)
	var cerr *config.Error
	require.True(t, errors.As(err, &cerr))
	var vars []string
	for _, p := range cerr.Problems {
		vars = append(vars, p.Var)
	}
	require.Equal(t, []string{"AIFLOW_SUPPORT_TOKEN_SECRET", "AIFLOW_SUPPORT_ALLOWED_ORIGINS", "AIFLOW_SUPPORT_REFUND_WINDOW", "AIFLOW_SUPPORT_APPROVAL_THRESHOLD", "AIFLOW_SUPPORT_TICKET_URL"}, vars)
	require.NotContains(t, err.Error(), "tiny-secret", "a secret never appears in errors")

	_, err = load(lookup(nil), "aiflow mcp serve", true)
	require.ErrorContains(t, err, "AIFLOW_SUPPORT_TOKEN_SECRET: is required to serve over HTTP")
}
