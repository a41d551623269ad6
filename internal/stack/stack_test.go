package stack_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdksfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/lambdaemu"
	"github.com/aiflow/aiflow/internal/pgcluster"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/stack"
)

// repoRoot is the repository's root: template.yaml, the Makefile, the
// functions.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	require.NoError(t, err)
	return dir
}

type bundle struct {
	stack *stack.Stack
	cfg   aws.Config
	root  string
	pgURL string
	// research counts the calls of the research MCP server's tools.
	research *researchCalls
	// dataDir is the stack's Params.DataDir.
	dataDir string
}

// setup starts a PostgreSQL cluster on loopback TCP (the functions connect
// to it as to Aurora) and the stack on the repository's template.
func setup(t testing.TB, adjust func(p *stack.Params)) *bundle {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the Lambda Runtime Interface Emulator runs on Linux only")
	}
	bins, err := pgcluster.FindBinaries(os.Getenv("AIFLOW_PG_BINDIR"))
	if err != nil {
		t.Skipf("no PostgreSQL binaries: %v", err)
	}
	ctx := context.Background()
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{Binaries: bins, Dir: filepath.Join(pgclustertest.ReachableTempDir(t), "pg")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cluster.Stop(context.Background()) })

	root := repoRoot(t)
	research := &researchCalls{}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	p := stack.Params{
		Dir:         root,
		DataDir:     t.TempDir(),
		DatabaseURL: cluster.URL("postgres"),
		// The models answer from the examples' script, as the template's
		// parameters allow (docs/deploy.md).
		Parameters: map[string]string{
			"AiProviders": "scripted", "AiDefaultProvider": "scripted",
			"AiScript": filepath.Join(root, "examples", "scripts", "scripted.yaml"),
		},
		Env: map[string]map[string]string{
			"AiStepFunction": {"AIFLOW_MCP_CONFIG": researchConfig(t, research)},
		},
		Builder:        &lambdaemu.Builder{ModuleDir: root},
		Logger:         logger,
		FunctionLogger: logger,
	}
	if adjust != nil {
		adjust(&p)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	s, err := stack.Start(ctx, p)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })

	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}
	return &bundle{stack: s, cfg: cfg, root: root, pgURL: cluster.URL("aiflow"), research: research, dataDir: p.DataDir}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (b *bundle) sfn() *sdksfn.Client {
	return sdksfn.NewFromConfig(b.cfg, func(o *sdksfn.Options) { o.BaseEndpoint = aws.String(b.stack.Endpoints().StepFunctions) })
}

func (b *bundle) sqs() *sqs.Client {
	return sqs.NewFromConfig(b.cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(b.stack.Endpoints().SQS) })
}

func TestStackRunsAnExampleStateMachineThroughTheFunctions(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()

	input, err := os.ReadFile(filepath.Join(b.root, "examples", "mocks", "document-summary.input.json"))
	require.NoError(t, err)
	client := b.sfn()
	out, err := client.StartExecution(ctx, &sdksfn.StartExecutionInput{
		StateMachineArn: aws.String(b.exampleARN(t, "document-summary")),
		Input:           aws.String(string(input)),
	})
	require.NoError(t, err)
	var desc *sdksfn.DescribeExecutionOutput
	require.Eventually(t, func() bool {
		desc, err = client.DescribeExecution(ctx, &sdksfn.DescribeExecutionInput{ExecutionArn: out.ExecutionArn})
		require.NoError(t, err)
		return desc.Status != sfntypes.ExecutionStatusRunning
	}, 3*time.Minute, 100*time.Millisecond)
	require.Equal(t, sfntypes.ExecutionStatusSucceeded, desc.Status, "error %s: %s", aws.ToString(desc.Error), aws.ToString(desc.Cause))
	var output map[string]any
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(desc.Output)), &output))

	// The recorder, sent the status change by the EventBridge rule, copied
	// the history into the stack's event store.
	b.requireRecorded(t, aws.ToString(out.ExecutionArn), "ExecutionSucceeded")
	requireBlobBucketServed(t, b)
}

// requireRecorded waits until the stack's event store holds the
// execution's history up to an event of type last, as the recorder writes
// it.
func (b *bundle) requireRecorded(t testing.TB, executionARN, last string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, b.pgURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM eventstore.events WHERE stream_id = $1 AND type = $2`,
			eventstore.ExecutionStreamID(executionARN), last).Scan(&n))
		return n == 1
	}, time.Minute, 100*time.Millisecond, "the recorder never wrote %s of %s", last, executionARN)
	var first string
	require.NoError(t, conn.QueryRow(ctx, `SELECT type FROM eventstore.events WHERE stream_id = $1 ORDER BY version LIMIT 1`,
		eventstore.ExecutionStreamID(executionARN)).Scan(&first))
	require.Equal(t, "ExecutionStarted", first)
}

// exampleARN returns the ARN of the example state machine whose name ends
// with name.
func (b *bundle) exampleARN(t testing.TB, name string) string {
	t.Helper()
	for _, sm := range b.stack.Model().StateMachines {
		if strings.HasSuffix(sm.Name, "-"+name) {
			return sm.ARN
		}
	}
	require.FailNow(t, "the template has no example state machine "+name)
	return ""
}
