package sfnapi_test

import (
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/awsjson/awsjsontest"
	"github.com/aiflow/aiflow/internal/sfn"
)

// guideBlock returns the code block of docs/local-engine.md between
// <!-- name --> and <!-- /name -->, without its fences.
func guideBlock(t *testing.T, name string) string {
	t.Helper()
	guide, err := os.ReadFile("../../docs/local-engine.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(guide), "<!-- "+name+" -->\n")
	require.True(t, ok, "docs/local-engine.md has no block %s", name)
	block, _, ok := strings.Cut(rest, "<!-- /"+name+" -->")
	require.True(t, ok, "block %s is not closed", name)
	block = strings.TrimSpace(block)
	_, block, _ = strings.Cut(block, "\n") // the opening fence
	block = strings.TrimSuffix(block, "```")
	return block
}

// shellWords splits a command line of the guide as sh does for its
// words: blanks separate them, single quotes keep what they hold.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case quoted && r == '\'':
			quoted = false
		case quoted:
			cur.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			require.NotContains(t, `"\$`+"`", string(r), "%q: the guide's commands quote with single quotes only", line)
			cur.WriteRune(r)
			inWord = true
		}
	}
	require.False(t, quoted, "%q: an unclosed quote", line)
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// guideCommand is the start of every command of the guide.
const guideCommand = "aws stepfunctions --endpoint-url http://127.0.0.1:8083 "

// runGuide runs, in order, the guide's commands whose subcommand only
// accepts, with the CLI against the bundle's engine, and returns each
// one's output by subcommand.
func runGuide(t *testing.T, b *testBundle, cli *awsjsontest.CLI, lines []string, only func(op string) bool) map[string][]byte {
	t.Helper()
	// Consecutive reads (describe-*, list-*) change nothing: they run at
	// once, which saves the CLI's start-up time.
	outputs := map[string][]byte{}
	var reads []string
	runReads := func() {
		t.Helper()
		outs := make([][]byte, len(reads))
		errs := make([]error, len(reads))
		var wg sync.WaitGroup
		for i, line := range reads {
			args := shellWords(t, strings.TrimPrefix(line, guideCommand))
			wg.Go(func() { outs[i], errs[i] = cli.Command(b.ctx, args...).CombinedOutput() })
		}
		wg.Wait()
		for i, line := range reads {
			require.NoError(t, errs[i], "%s: %s", line, outs[i])
			outputs[strings.Fields(line)[4]] = outs[i]
		}
		reads = nil
	}
	for _, line := range lines {
		require.True(t, strings.HasPrefix(line, guideCommand), "%q calls the engine's default address", line)
		args := shellWords(t, strings.TrimPrefix(line, guideCommand))
		if !only(args[0]) {
			continue
		}
		if strings.HasPrefix(args[0], "describe-") || strings.HasPrefix(args[0], "list-") {
			reads = append(reads, line)
			continue
		}
		runReads()
		out, err := cli.Command(b.ctx, args...).CombinedOutput()
		require.NoError(t, err, "%s: %s", line, out)
		if args[0] == "start-execution" {
			var st struct {
				ExecutionARN string `json:"executionArn"`
			}
			require.NoError(t, json.Unmarshal(out, &st), "%s", out)
			b.wait(t, st.ExecutionARN)
		}
		outputs[args[0]] = out
	}
	runReads()
	return outputs
}

// olderCLICommands are the guide's commands that AWS CLIs from before
// versions and aliases have.
var olderCLICommands = map[string]bool{
	"tag-resource": true, "list-tags-for-resource": true, "untag-resource": true, "describe-state-machine-for-execution": true,
}

// publishOrders makes through the SDK what the guide's commands before
// its first read of tags make: the state machine orders, tagged, with two
// versions, the alias PROD on the second, and the execution via-alias.
func publishOrders(t *testing.T, b *testBundle) {
	t.Helper()
	const role = "arn:aws:iam::123456789012:role/local"
	out, err := b.client.CreateStateMachine(b.ctx, sfn.CreateStateMachineInput{Name: "orders", RoleARN: role, Publish: true,
		Tags: []sfn.Tag{{Key: "team", Value: "core"}}, Definition: `{"StartAt": "Step", "States": {"Step": {"Type": "Pass", "Result": "v1", "End": true}}}`})
	require.NoError(t, err)
	upd, err := b.client.UpdateStateMachine(b.ctx, sfn.UpdateStateMachineInput{StateMachineARN: out.StateMachineARN, Publish: true,
		Definition: new(`{"StartAt": "Step", "States": {"Step": {"Type": "Pass", "Result": "v2", "End": true}}}`)})
	require.NoError(t, err)
	alias, err := b.client.CreateStateMachineAlias(b.ctx, sfn.CreateAliasInput{Name: "PROD",
		RoutingConfiguration: []sfn.RoutingConfig{{StateMachineVersionARN: upd.StateMachineVersionARN, Weight: 100}}})
	require.NoError(t, err)
	st, err := b.client.StartExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: alias.StateMachineAliasARN, Name: "via-alias"})
	require.NoError(t, err)
	b.wait(t, st.ExecutionARN)
}

// requireTagsAndMachine checks the outputs of list-tags-for-resource and
// describe-state-machine-for-execution in the guide.
func requireTagsAndMachine(t *testing.T, outputs map[string][]byte) {
	t.Helper()
	require.JSONEq(t, `{"StartAt": "Step", "States": {"Step": {"Type": "Pass", "Result": "v2", "End": true}}}`,
		string(outputs["describe-state-machine-for-execution"]))
	var tags struct {
		Tags []struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		} `json:"tags"`
	}
	require.NoError(t, json.Unmarshal(outputs["list-tags-for-resource"], &tags))
	require.Len(t, tags.Tags, 2, "team from create-state-machine, env from tag-resource")
}

// TestAWSCLIVersionsAliasesTags runs the AWS CLI commands of
// docs/local-engine.md's "Versions, aliases and tags" against the engine:
// versions published on create and on their own, an alias with routing
// weights, an execution started on it, the state machine it ran, tags,
// and the deletions; the describe-execution line must print what the
// guide shows.
func TestAWSCLIVersionsAliasesTags(t *testing.T) {
	t.Parallel()
	lines := strings.Split(strings.TrimSpace(guideBlock(t, "engine-versions-cli")), "\n")
	want := strings.TrimSpace(guideBlock(t, "engine-versions-output")) + "\n"
	for label, path := range awsCLIs(t) {
		t.Run(label, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			cli := awsjsontest.NewCLIAt(t, path, "stepfunctions", b.srv.URL)
			if out, err := cli.Command(b.ctx, "publish-state-machine-version", "help").CombinedOutput(); err != nil && strings.Contains(string(out), "Invalid choice") {
				t.Log("this AWS CLI predates state machine versions and aliases (June 2023): it runs the guide's tags and describe-state-machine-for-execution commands on what the SDK publishes")
				publishOrders(t, b)
				requireTagsAndMachine(t, runGuide(t, b, cli, lines, func(op string) bool { return olderCLICommands[op] }))
				return
			}
			outputs := runGuide(t, b, cli, lines, func(string) bool { return true })
			sm := "arn:aws:states:us-east-1:123456789012:stateMachine:orders"
			var created struct {
				Version string `json:"stateMachineVersionArn"`
			}
			require.NoError(t, json.Unmarshal(outputs["create-state-machine"], &created))
			require.Equal(t, sm+":1", created.Version)
			var versions struct {
				Versions []struct {
					ARN string `json:"stateMachineVersionArn"`
				} `json:"stateMachineVersions"`
			}
			require.NoError(t, json.Unmarshal(outputs["list-state-machine-versions"], &versions))
			require.Len(t, versions.Versions, 2)
			require.Equal(t, sm+":2", versions.Versions[0].ARN, "newest first")
			var alias struct {
				Routing []struct {
					ARN    string `json:"stateMachineVersionArn"`
					Weight int    `json:"weight"`
				} `json:"routingConfiguration"`
			}
			require.NoError(t, json.Unmarshal(outputs["describe-state-machine-alias"], &alias))
			require.Len(t, alias.Routing, 2)
			require.Equal(t, 90, alias.Routing[0].Weight)
			require.Equal(t, sm+":2", alias.Routing[1].ARN)
			require.Equal(t, want, string(outputs["describe-execution"]))
			requireTagsAndMachine(t, outputs)

			// What is left: version 2, the tag team.
			left, err := b.client.ListStateMachineVersions(b.ctx, sfn.ListVersionsInput{StateMachineARN: sm})
			require.NoError(t, err)
			require.Equal(t, []sfn.VersionListItem{{StateMachineVersionARN: sm + ":2", CreationDate: left.StateMachineVersions[0].CreationDate}}, left.StateMachineVersions)
			kept, err := b.client.ListTagsForResource(b.ctx, sm)
			require.NoError(t, err)
			require.Equal(t, []sfn.Tag{{Key: "team", Value: "core"}}, kept)

			out, err := cli.Command(b.ctx, "delete-state-machine-version", "--state-machine-version-arn", sm+":2").CombinedOutput()
			require.NoError(t, err, "%s", out)
		})
	}
}
