// Package awsjsontest holds what the tests of the AWS JSON wire APIs
// (sfnapi, sqsapi, secretsapi) share: a log buffer their handlers may
// write from several goroutines, and the AWS CLI pointed at a test server.
package awsjsontest

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// Buffer is a bytes.Buffer that several goroutines may write while a test
// reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// CLI runs the AWS CLI's commands of one service against an endpoint, with
// made-up credentials, no configuration files of the user's, no pager and
// no retries.
type CLI struct {
	path, service, endpoint, home string
}

// NewCLI returns the CLI for service (sqs, secretsmanager, ...) at
// endpoint; it skips the test when the AWS CLI is not on PATH.
func NewCLI(t *testing.T, service, endpoint string) *CLI {
	t.Helper()
	path, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the AWS CLI (aws) is not on PATH; install it to run this test")
	}
	return NewCLIAt(t, path, service, endpoint)
}

// NewCLIAt returns the AWS CLI at path (another installation than the
// one on PATH, such as Debian's package's) for service at endpoint.
func NewCLIAt(t *testing.T, path, service, endpoint string) *CLI {
	t.Helper()
	return &CLI{path: path, service: service, endpoint: endpoint, home: t.TempDir()}
}

// Command returns the command `aws <service> <args>` against the endpoint,
// printing JSON.
func (c *CLI) Command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.path, append([]string{c.service, "--endpoint-url", c.endpoint, "--output", "json"}, args...)...)
	cmd.Env = []string{
		"PATH=" + filepath.Dir(c.path) + ":/usr/bin:/bin",
		"HOME=" + c.home,
		"AWS_CONFIG_FILE=" + filepath.Join(c.home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(c.home, "credentials"),
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY=secret",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_PAGER=",
		"AWS_MAX_ATTEMPTS=1",
	}
	return cmd
}

// Run runs a command that must succeed and returns its JSON output (an
// empty object when it prints nothing).
func (c *CLI) Run(t *testing.T, ctx context.Context, args ...string) map[string]any {
	t.Helper()
	out, err := c.Command(ctx, args...).CombinedOutput()
	require.NoError(t, err, "aws %s %v: %s", c.service, args, out)
	res := map[string]any{}
	if len(out) > 0 {
		require.NoError(t, json.Unmarshal(out, &res), "%s", out)
	}
	return res
}
