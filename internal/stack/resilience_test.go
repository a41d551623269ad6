package stack_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdksfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/samtemplate"
	"github.com/aiflow/aiflow/internal/stack"
)

// slowScript is the examples' script with every chunk summary answered
// after a pause, long enough to kill the ai step's instance mid-task.
func slowScript(t *testing.T, root string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "examples", "scripts", "scripted.yaml"))
	require.NoError(t, err)
	slow := strings.Replace(string(raw), "turns:\n", `turns:
  - repeat: true
    delay: 4s
    match:
      system: You summarize one part of a longer document.
    reply:
      text: A summary that took its time.
`, 1)
	require.NotEqual(t, string(raw), slow)
	path := filepath.Join(t.TempDir(), "slow.yaml")
	require.NoError(t, os.WriteFile(path, []byte(slow), 0o600))
	return path
}

// shorten sets a resource's property in the parsed template: the tests
// shorten visibility timeouts so that a retry comes in seconds.
func shorten(t *testing.T, tmpl *samtemplate.Template, resource, property string, seconds int) {
	t.Helper()
	r, ok := tmpl.Resources[resource]
	require.True(t, ok, "the template has %s", resource)
	r.Properties[property] = seconds
}

// bootstrapPIDs returns the processes running the bootstrap at path.
func bootstrapPIDs(path string) []int {
	var pids []int
	procs, _ := filepath.Glob("/proc/[0-9]*/exe")
	for _, exe := range procs {
		if target, err := os.Readlink(exe); err == nil && target == path {
			if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(exe))); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// TestStackRetriesAKilledInstanceAndDeadLettersPoison: an ai step's
// instance killed in the middle of its batch is replaced, and the batch
// comes back from the queue after its visibility timeout, so the execution
// still succeeds; a message no worker can read ends in the dead-letter
// queue after maxReceiveCount receives. The AWS CLI, when installed,
// drives the stack's SQS and Step Functions APIs.
func TestStackRetriesAKilledInstanceAndDeadLettersPoison(t *testing.T) {
	t.Parallel()
	var dataDir string
	b := setup(t, func(p *stack.Params) {
		dataDir = p.DataDir
		p.Parameters["AiScript"] = slowScript(t, p.Dir)
		p.Adjust = func(tmpl *samtemplate.Template) error {
			shorten(t, tmpl, "AiStepFunction", "Timeout", 15)
			shorten(t, tmpl, "AiStepQueue", "VisibilityTimeout", 15)
			shorten(t, tmpl, "McpStepFunction", "Timeout", 3)
			shorten(t, tmpl, "McpStepQueue", "VisibilityTimeout", 3)
			return nil
		}
	})
	ctx := context.Background()

	// Poison first: it dead-letters while the execution below runs.
	sq := b.sqs()
	mcpQueue, err := sq.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("aiflow-McpStepQueue")})
	require.NoError(t, err)
	dlq, err := sq.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("aiflow-McpStepDeadLetterQueue")})
	require.NoError(t, err)
	_, err = sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: mcpQueue.QueueUrl, MessageBody: aws.String(`{"not": "a task"}`)})
	require.NoError(t, err)

	client := b.sfn()
	input, err := os.ReadFile(filepath.Join(b.root, "examples", "mocks", "document-summary.input.json"))
	require.NoError(t, err)
	out, err := client.StartExecution(ctx, &sdksfn.StartExecutionInput{
		StateMachineArn: aws.String(b.exampleARN(t, "document-summary")),
		Input:           aws.String(string(input)),
	})
	require.NoError(t, err)

	// Kill the ai step's instance while it waits on the slow model.
	bootstrap := filepath.Join(dataDir, "functions", "AiStepFunction", "bootstrap")
	var killed []int
	require.Eventually(t, func() bool {
		killed = bootstrapPIDs(bootstrap)
		return len(killed) > 0
	}, time.Minute, 20*time.Millisecond, "no instance of the ai step function started")
	time.Sleep(time.Second) // inside the 4 s the model takes: the batch is in flight
	for _, pid := range killed {
		require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	}

	var desc *sdksfn.DescribeExecutionOutput
	require.Eventually(t, func() bool {
		desc, err = client.DescribeExecution(ctx, &sdksfn.DescribeExecutionInput{ExecutionArn: out.ExecutionArn})
		require.NoError(t, err)
		return desc.Status != sfntypes.ExecutionStatusRunning
	}, 3*time.Minute, 200*time.Millisecond)
	require.Equal(t, sfntypes.ExecutionStatusSucceeded, desc.Status, "error %s: %s", aws.ToString(desc.Error), aws.ToString(desc.Cause))
	for _, pid := range bootstrapPIDs(bootstrap) {
		require.NotContains(t, killed, pid, "a new instance ran the retried batch")
	}

	// The poison message, received three times, is in the dead-letter queue.
	var got []string
	require.Eventually(t, func() bool {
		msgs, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: dlq.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		require.NoError(t, err)
		for _, m := range msgs.Messages {
			got = append(got, aws.ToString(m.Body))
		}
		return len(got) > 0
	}, time.Minute, 10*time.Millisecond, "the poison message never reached the dead-letter queue")
	require.Equal(t, []string{`{"not": "a task"}`}, got)

	// A Lambda task invokes the emulated function: the migrate function,
	// sent a custom resource's Delete without a response URL, answers
	// with its response.
	sm, err := client.CreateStateMachine(ctx, &sdksfn.CreateStateMachineInput{
		Name:    aws.String("lambda-task"),
		RoleArn: aws.String("arn:aws:iam::123456789012:role/aiflow-StateMachineRole"),
		Definition: aws.String(`{"StartAt": "Invoke", "States": {"Invoke": {
			"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload", "End": true,
			"Parameters": {"FunctionName": "aiflow-migrate", "Payload": {
				"RequestType": "Delete", "RequestId": "r-1", "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/aiflow/x",
				"LogicalResourceId": "DatabaseMigrations", "ResourceType": "Custom::Migrations",
				"PhysicalResourceId": "aiflow-database-migrations", "ResourceProperties": {}}}}}}`),
	})
	require.NoError(t, err)
	run, err := client.StartExecution(ctx, &sdksfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		desc, err = client.DescribeExecution(ctx, &sdksfn.DescribeExecutionInput{ExecutionArn: run.ExecutionArn})
		require.NoError(t, err)
		return desc.Status != sfntypes.ExecutionStatusRunning
	}, time.Minute, 50*time.Millisecond)
	require.Equal(t, sfntypes.ExecutionStatusSucceeded, desc.Status, "error %s: %s", aws.ToString(desc.Error), aws.ToString(desc.Cause))
	require.Contains(t, aws.ToString(desc.Output), `"Status":"SUCCESS"`)

	// The AWS CLI drives the stack's APIs as it drives AWS.
	awsCLI, err := exec.LookPath("aws")
	if err != nil {
		t.Log("the AWS CLI is not installed (Debian: apt-get install awscli); its part of the test is skipped")
		return
	}
	cli := func(endpoint string, args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(awsCLI, append([]string{"--endpoint-url", endpoint, "--region", "us-east-1", "--output", "json"}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		raw, err := cmd.CombinedOutput()
		require.NoError(t, err, "aws %s: %s", strings.Join(args, " "), raw)
		var v map[string]any
		if len(strings.TrimSpace(string(raw))) > 0 {
			require.NoError(t, json.Unmarshal(raw, &v), "aws %s: %s", strings.Join(args, " "), raw)
		}
		return v
	}
	ep := b.stack.Endpoints()
	queues := cli(ep.SQS, "sqs", "list-queues")
	require.Contains(t, queues["QueueUrls"], aws.ToString(mcpQueue.QueueUrl))
	cli(ep.SQS, "sqs", "send-message", "--queue-url", aws.ToString(dlq.QueueUrl), "--message-body", "from the CLI")
	received := cli(ep.SQS, "sqs", "receive-message", "--queue-url", aws.ToString(dlq.QueueUrl), "--wait-time-seconds", "1")
	require.Contains(t, received["Messages"].([]any)[0].(map[string]any)["Body"], "from the CLI")
	machines := cli(ep.StepFunctions, "stepfunctions", "list-state-machines")
	require.NotEmpty(t, machines["stateMachines"])
	history := cli(ep.StepFunctions, "stepfunctions", "get-execution-history", "--execution-arn", aws.ToString(out.ExecutionArn))
	require.NotEmpty(t, history["events"])
}
