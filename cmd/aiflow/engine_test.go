package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/awssfn"
	"github.com/aiflow/aiflow/internal/migrate"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/sfn"
)

// lockedBuffer is a buffer a command writes in one goroutine while the test
// reads it in another.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// engineProcess is `aiflow engine` running in a goroutine of the test.
type engineProcess struct {
	stdout, stderr lockedBuffer
	stop           context.CancelFunc
	code           chan int
	endpoint       string
}

var endpointLine = regexp.MustCompile(`use --endpoint-url (http://127\.0\.0\.1:\d+);`)

// startEngine runs `aiflow engine` with args and the variables in vars, and
// waits until it serves.
func startEngine(t *testing.T, vars map[string]string, args ...string) *engineProcess {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	p := &engineProcess{stop: stop, code: make(chan int, 1)}
	e := env{stdout: &p.stdout, stderr: &p.stderr, lookup: func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}}
	go func() { p.code <- run(ctx, append([]string{"engine", "--addr", "127.0.0.1:0"}, args...), e) }()
	t.Cleanup(func() {
		stop()
		<-p.code
	})
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if m := endpointLine.FindStringSubmatch(p.stdout.String()); m != nil {
			p.endpoint = m[1]
			return p
		}
		select {
		case code := <-p.code:
			p.code <- code
			t.Fatalf("aiflow engine exited with %d before serving:\n%s%s", code, p.stdout.String(), p.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("aiflow engine did not serve within a minute:\n%s%s", p.stdout.String(), p.stderr.String())
	return nil
}

// interrupt stops the command as Ctrl-C does and returns what it printed.
func (p *engineProcess) interrupt(t *testing.T) string {
	t.Helper()
	p.stop()
	code := <-p.code
	p.code <- code // for the cleanup
	require.Equal(t, 0, code, "a clean stop; stderr:\n%s", p.stderr.String())
	return p.stdout.String()
}

func (p *engineProcess) client(t *testing.T) *awssfn.Client {
	t.Helper()
	c, err := awssfn.NewClient(context.Background(), p.endpoint, "us-east-1")
	require.NoError(t, err)
	return awssfn.New(c)
}

// waitClosed polls an execution until it closes.
func waitClosed(t *testing.T, c *awssfn.Client, arn string) sfn.Execution {
	t.Helper()
	var d sfn.Execution
	require.Eventually(t, func() bool {
		var err error
		d, err = c.DescribeExecution(context.Background(), arn)
		require.NoError(t, err)
		return d.Status.Closed()
	}, 30*time.Second, 20*time.Millisecond)
	return d
}

func historyTypes(t *testing.T, c *awssfn.Client, arn string) []string {
	t.Helper()
	h, err := c.GetExecutionHistory(context.Background(), sfn.GetExecutionHistoryInput{ExecutionARN: arn, MaxResults: 1000})
	require.NoError(t, err)
	types := make([]string, len(h.Events))
	for i, ev := range h.Events {
		types[i] = ev.Type
	}
	return types
}

const passChoiceWait = `{
  "StartAt": "Greet",
  "States": {
    "Greet": {"Type": "Pass", "Parameters": {"greeting.$": "States.Format('hello {}', $.name)", "n.$": "$.n"}, "Next": "IsBig"},
    "IsBig": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Pause"}], "Default": "Small"},
    "Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.size", "End": true},
    "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
    "Done": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "End": true}
  }
}`

// TestEngineServesTheStepFunctionsAPI drives `aiflow engine --in-memory`
// with the aws-sdk-go-v2 Step Functions client, as any SDK would.
func TestEngineServesTheStepFunctionsAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := startEngine(t, nil, "--in-memory", "--queue", "ai-steps", "--queue", "approvals=https://sqs.us-east-1.amazonaws.com/123456789012/approvals")
	out := p.stdout.String()
	documented := markedBlock(t, "docs/local-engine.md", "engine-output")
	port := regexp.MustCompile(`127\.0\.0\.1:\d+`)
	for line := range strings.Lines(port.ReplaceAllString(documented, "ADDR")) {
		require.Contains(t, port.ReplaceAllString(out, "ADDR"), line, "docs/local-engine.md shows what the engine prints when it is ready")
	}
	require.Contains(t, out, "queue ai-steps: http://sqs.us-east-1.localhost/123456789012/ai-steps\n")
	require.Contains(t, out, "queue approvals: https://sqs.us-east-1.amazonaws.com/123456789012/approvals\n")
	require.Contains(t, out, "store: in memory")
	c := p.client(t)

	sm, err := c.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "greeter", Definition: passChoiceWait, RoleARN: "arn:aws:iam::123456789012:role/sfn"})
	require.NoError(t, err)
	require.Equal(t, "arn:aws:states:us-east-1:123456789012:stateMachine:greeter", sm.StateMachineARN)

	big, err := c.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "big", Input: `{"name": "Ada", "n": 42}`})
	require.NoError(t, err)
	small, err := c.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Input: `{"name": "Bob", "n": 1}`})
	require.NoError(t, err)

	d := waitClosed(t, c, big.ExecutionARN)
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
	require.JSONEq(t, `{"greeting": "hello Ada", "n": 42, "size": "big"}`, d.Output)
	require.GreaterOrEqual(t, d.StopDate.Sub(d.StartDate), time.Second, "the Wait state waited")
	require.Equal(t, []string{
		"ExecutionStarted",
		"PassStateEntered", "PassStateExited",
		"ChoiceStateEntered", "ChoiceStateExited",
		"WaitStateEntered", "WaitStateExited",
		"PassStateEntered", "PassStateExited",
		"ExecutionSucceeded",
	}, historyTypes(t, c, big.ExecutionARN))

	d = waitClosed(t, c, small.ExecutionARN)
	require.Equal(t, sfn.StatusSucceeded, d.Status)
	require.JSONEq(t, `{"greeting": "hello Bob", "n": 1, "size": "small"}`, d.Output)

	// A task that sends a message to a queue made with --queue.
	send, err := c.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "send", Definition: `{"StartAt": "Send", "States": {"Send": {
		"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
		"Parameters": {"QueueUrl": "http://sqs.us-east-1.localhost/123456789012/ai-steps", "MessageBody.$": "$"},
		"ResultSelector": {"id.$": "$.MessageId"}, "End": true}}}`})
	require.NoError(t, err)
	st, err := c.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: send.StateMachineARN, Input: `{"hello": "queue"}`})
	require.NoError(t, err)
	d = waitClosed(t, c, st.ExecutionARN)
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
	require.Regexp(t, `^\{"id":"[0-9a-f-]{36}"\}$`, d.Output, "SendMessage's result names the message")

	// Without --lambda-endpoint a function has nowhere to run; a queue not
	// made with --queue does not exist.
	for _, tc := range []struct{ resource, wantErr string }{
		{`"arn:aws:lambda:us-east-1:123456789012:function:Echo"`, "Lambda.ResourceNotFoundException"},
		{`"arn:aws:states:::sqs:sendMessage",
			"Parameters": {"QueueUrl": "http://sqs.us-east-1.localhost/123456789012/nope", "MessageBody": "x"}`, "SQS.QueueDoesNotExistException"},
	} {
		resource, wantErr := tc.resource, tc.wantErr
		name := strings.Split(wantErr, ".")[0]
		sm, err := c.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: name, Definition: `{"StartAt": "T", "States": {"T": {
			"Type": "Task", "Resource": ` + resource + `, "End": true}}}`})
		require.NoError(t, err)
		st, err := c.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN})
		require.NoError(t, err)
		d := waitClosed(t, c, st.ExecutionARN)
		require.Equal(t, sfn.StatusFailed, d.Status)
		require.Equal(t, wantErr, d.Error, d.Cause)
	}
	requireEngineMetrics(t, p.endpoint)

	out = p.interrupt(t)
	require.True(t, strings.HasSuffix(out, "shutting down\naiflow engine stopped\n"), out)
}

// TestEngineInvokesLambdaAtTheEndpoint points --lambda-endpoint at a
// loopback server speaking the Lambda Invoke API.
func TestEngineInvokesLambdaAtTheEndpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var invoked []string
	var mu sync.Mutex
	lambdaAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		invoked = append(invoked, r.Method+" "+r.URL.Path)
		mu.Unlock()
		w.Header().Set("X-Amz-Executed-Version", "$LATEST")
		_, _ = w.Write([]byte(`{"echo": ` + string(body) + `}`))
	}))
	t.Cleanup(lambdaAPI.Close)

	p := startEngine(t, map[string]string{"AIFLOW_ENGINE_IN_MEMORY": "true"}, "--lambda-endpoint", lambdaAPI.URL)
	require.Contains(t, p.stdout.String(), "Lambda functions: invoked at "+lambdaAPI.URL+"\n")
	c := p.client(t)
	sm, err := c.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "lambda", Definition: `{"StartAt": "Call", "States": {
		"Call": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Echo", "Next": "Invoke"},
		"Invoke": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "Echo", "Payload.$": "$"},
		  "OutputPath": "$.Payload", "End": true}}}`})
	require.NoError(t, err)
	st, err := c.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Input: `{"x": 1}`})
	require.NoError(t, err)
	d := waitClosed(t, c, st.ExecutionARN)
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
	require.JSONEq(t, `{"echo": {"echo": {"x": 1}}}`, d.Output)
	mu.Lock()
	require.Equal(t, []string{"POST /2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:Echo/invocations",
		"POST /2015-03-31/functions/Echo/invocations"}, invoked)
	mu.Unlock()
}

// TestEngineResumesAfterRestart is the durable mode: an execution waiting
// in a Wait state when the engine stops finishes after the next start.
func TestEngineResumesAfterRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vars := map[string]string{"DATABASE_URL": pgclustertest.Database(t), "AIFLOW_DATA_DIR": t.TempDir()}

	p := startEngine(t, vars)
	require.Contains(t, p.stdout.String(), "store: PostgreSQL (DATABASE_URL)")
	c := p.client(t)
	sm, err := c.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "patient", Definition: `{"StartAt": "Wait", "States": {
		"Wait": {"Type": "Wait", "Seconds": 2, "Next": "Done"},
		"Done": {"Type": "Pass", "Result": {"waited": true}, "End": true}}}`})
	require.NoError(t, err)
	st, err := c.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "across-restart"})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		types := historyTypes(t, c, st.ExecutionARN)
		return types[len(types)-1] == "WaitStateEntered"
	}, 10*time.Second, 10*time.Millisecond)
	p.interrupt(t)

	p = startEngine(t, vars)
	require.Contains(t, p.stdout.String(), "migrations: 0 applied now")
	c = p.client(t)
	d, err := c.DescribeExecution(ctx, st.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, "across-restart", d.Name, "the execution outlived the first engine")
	d = waitClosed(t, c, st.ExecutionARN)
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
	require.JSONEq(t, `{"waited": true}`, d.Output)
	// DescribeExecution may show the end before the history holds it.
	want := []string{"ExecutionStarted", "WaitStateEntered", "WaitStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}
	require.Eventually(t, func() bool { return len(historyTypes(t, c, st.ExecutionARN)) == len(want) }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, want, historyTypes(t, c, st.ExecutionARN))
	p.interrupt(t)
}

func TestEngineRejectsBadUse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		want []string
	}{
		{"Arguments", nil, []string{"serve"}, []string{`aiflow engine: takes no arguments, got ["serve"]`, "usage: aiflow engine"}},
		{"BadAddr", nil, []string{"--addr", "8083"}, []string{`aiflow engine: --addr "8083" is not host:port (example: --addr 127.0.0.1:8083)`}},
		{"BadQueue", nil, []string{"--queue", "a b"}, []string{`invalid value "a b" for flag -queue: "a b" does not start with a queue name`}},
		{"QueueTwice", nil, []string{"--queue", "a", "--queue", "a=http://h/a"}, []string{`the queue "a" is given twice`}},
		{"BadLambdaEndpoint", nil, []string{"--lambda-endpoint", "localhost:3001"}, []string{`--lambda-endpoint "localhost:3001" is not an http:// or https:// URL`}},
		{"BadEnvironment", map[string]string{"AIFLOW_ENGINE_ADDR": "x", "DATABASE_URL": "mysql://root:topsecret@db/x"}, nil,
			[]string{"aiflow engine: 2 configuration problems", "AIFLOW_ENGINE_ADDR", "DATABASE_URL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			te := newTestEnv(tc.vars)
			require.Equal(t, 2, run(context.Background(), append([]string{"engine"}, tc.args...), te.env()))
			for _, w := range tc.want {
				require.Contains(t, te.stderr.String(), w)
			}
			require.NotContains(t, te.stderr.String(), "topsecret")
		})
	}

	// A port in use is an error that says how to pick another.
	busy := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(busy.Close)
	te := newTestEnv(nil)
	require.Equal(t, 1, run(context.Background(), []string{"engine", "--in-memory", "--addr", strings.TrimPrefix(busy.URL, "http://")}, te.env()))
	require.Contains(t, te.stderr.String(), "pass --addr or set AIFLOW_ENGINE_ADDR to a free host:port")
}

// shellFields splits a command line as a shell does, for the quoting the
// guides use: words, and single- or double-quoted text without escapes.
func shellFields(t *testing.T, line string) []string {
	t.Helper()
	require.NotContains(t, line, `\`, "no escapes in documented commands")
	var out []string
	var word strings.Builder
	inWord := false
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			word.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				out = append(out, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	require.Zero(t, quote, "quotes are closed in %q", line)
	if inWord {
		out = append(out, word.String())
	}
	return out
}

// awsCommand is one `aws stepfunctions` call of a guide.
type awsCommand struct {
	args []string          // after "aws", with the endpoint as documented
	op   string            // such as create-state-machine
	opts map[string]string // --name value
}

func documentedAWSCommands(t *testing.T) []awsCommand {
	t.Helper()
	var out []awsCommand
	for _, line := range strings.Split(strings.TrimSpace(markedBlock(t, "docs/local-engine.md", "engine-cli")), "\n") {
		f := shellFields(t, line)
		require.Equal(t, []string{"aws", "stepfunctions", "--endpoint-url", "http://127.0.0.1:8083"}, f[:4], "%q calls the engine's default address", line)
		c := awsCommand{args: f[1:], op: f[4], opts: map[string]string{}}
		for i := 5; i+1 < len(f); i += 2 {
			require.True(t, strings.HasPrefix(f[i], "--"), "%q: %q is an option", line, f[i])
			c.opts[strings.TrimPrefix(f[i], "--")] = f[i+1]
		}
		out = append(out, c)
	}
	return out
}

// TestDocumentedEngineCommands starts `aiflow engine` as README.md shows
// it and makes the calls of docs/local-engine.md's AWS CLI example: with
// the sfn client always, and with the AWS CLI too where it is installed.
func TestDocumentedEngineCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	readme := strings.Split(strings.TrimSpace(markedBlock(t, "README.md", "local-engine")), "\n")
	engineArgs := commandArgs(t, readme[1])
	require.Equal(t, "engine", engineArgs[0])
	want := markedBlock(t, "docs/local-engine.md", "engine-cli-output")
	cmds := documentedAWSCommands(t)
	require.Equal(t, []string{"create-state-machine", "start-execution", "describe-execution"},
		[]string{cmds[0].op, cmds[1].op, cmds[2].op})

	p := startEngine(t, nil, engineArgs[1:]...)
	c := p.client(t)
	sm, err := c.CreateStateMachine(ctx, sfn.CreateStateMachineInput{
		Name: cmds[0].opts["name"], Definition: cmds[0].opts["definition"], RoleARN: cmds[0].opts["role-arn"]})
	require.NoError(t, err)
	require.Equal(t, cmds[1].opts["state-machine-arn"], sm.StateMachineARN)
	st, err := c.StartExecution(ctx, sfn.StartExecutionInput{
		StateMachineARN: sm.StateMachineARN, Name: cmds[1].opts["name"], Input: cmds[1].opts["input"]})
	require.NoError(t, err)
	require.Equal(t, cmds[2].opts["execution-arn"], st.ExecutionARN)
	d := waitClosed(t, c, st.ExecutionARN)
	require.Equal(t, want, string(d.Status)+"\t"+d.Output+"\n")

	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Log("the AWS CLI is not installed: its commands were checked through the sfn client only")
		return
	}
	p = startEngine(t, nil, engineArgs[1:]...)
	var last []byte
	for _, cmd := range cmds {
		args := slices.Clone(cmd.args)
		args[2] = p.endpoint
		run := exec.Command(aws, args...)
		run.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AWS_") }),
			"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_DEFAULT_REGION=us-east-1",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
		last, err = run.CombinedOutput()
		require.NoError(t, err, "aws %s: %s", strings.Join(args, " "), last)
	}
	require.Equal(t, want, string(last))
}

// TestEngineUsesTheDevelopmentCluster: with no DATABASE_URL the engine
// starts (or reuses) the cluster of `aiflow dev` under AIFLOW_DATA_DIR.
func TestEngineUsesTheDevelopmentCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vars := map[string]string{"AIFLOW_DATA_DIR": filepath.Join(pgclustertest.ReachableTempDir(t), ".aiflow")}
	if dir, ok := os.LookupEnv("AIFLOW_PG_BINDIR"); ok {
		vars["AIFLOW_PG_BINDIR"] = dir
	}
	p := startEngine(t, vars)
	out := p.stdout.String()
	require.Regexp(t, `PostgreSQL \S+ ready: aiflow \(127\.0\.0\.1:\d+, data kept in .*\.aiflow/pg\)\n`, out)
	require.Contains(t, out, fmt.Sprintf("migrations: %d applied now", migrate.Latest()))
	require.Contains(t, out, "store: PostgreSQL ("+filepath.Join(vars["AIFLOW_DATA_DIR"], "pg")+")")
	c := p.client(t)
	sm, err := c.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "kept", Definition: `{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}`})
	require.NoError(t, err)
	p.interrupt(t)
	require.NoFileExists(t, filepath.Join(vars["AIFLOW_DATA_DIR"], "pg", "data", "postmaster.pid"), "PostgreSQL was shut down")

	p = startEngine(t, vars)
	d, err := p.client(t).DescribeStateMachine(ctx, sm.StateMachineARN)
	require.NoError(t, err)
	require.Equal(t, "kept", d.Name, "the state machine outlived the first engine")
	p.interrupt(t)
}
