package lambdaemu_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/lambdaemu"
)

// TestTheMCPServerFunctionAnswersItsSampleEvent runs functions/mcpserver's
// real bootstrap under the emulator with events/mcpserver-tools-list.json,
// a tools/list call through its Function URL. Listing tools needs no
// database (the pool connects lazily), and the sample's token is signed
// with the key docs/support-desk.md gives for it. The other functions
// need services before they answer (the API's database, the workers' Step
// Functions endpoint): the stack runs them.
func TestTheMCPServerFunctionAnswersItsSampleEvent(t *testing.T) {
	t.Parallel()
	require.NoError(t, buildErr)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bootstrap := filepath.Join(buildsDir, "McpServerFunction", "bootstrap")
	require.NoError(t, builder.Bootstrap(ctx, "./functions/mcpserver", bootstrap))
	fi, err := os.Stat(bootstrap)
	require.NoError(t, err)
	t.Logf("functions/mcpserver bootstrap: %.1f MB", float64(fi.Size())/(1<<20))

	b := setup(t, lambdaemu.Params{
		Name:      "McpServerFunction",
		Bootstrap: bootstrap,
		Timeout:   30 * time.Second,
		MemoryMB:  512,
		Env: map[string]string{
			"DATABASE_URL":                "postgres://aiflow_support@127.0.0.1:1/aiflow?sslmode=disable",
			"AIFLOW_SUPPORT_TOKEN_SECRET": "sample-event-secret-do-not-deploy-0123456789",
		},
	})
	event, err := os.ReadFile("../../events/mcpserver-tools-list.json")
	require.NoError(t, err)
	res, err := b.inst.Invoke(ctx, event)
	require.NoError(t, err)
	require.Nil(t, res.FunctionError, string(res.Payload))
	var resp struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	require.NoError(t, json.Unmarshal(res.Payload, &resp), string(res.Payload))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	require.Contains(t, resp.Body, `"issue_refund"`)
	require.Positive(t, res.InitDuration)
	t.Logf("cold start of functions/mcpserver: init %s, first invocation %s", res.InitDuration, res.Duration)

	warm, err := b.inst.Invoke(ctx, event)
	require.NoError(t, err)
	require.Zero(t, warm.InitDuration)
	t.Logf("warm invocation of functions/mcpserver: %s", warm.Duration)
}
