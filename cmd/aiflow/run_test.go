package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
)

// runCmd runs `aiflow run` with args inside a synctest bubble, so that the
// workflows' waits and retry intervals pass in fake time, and returns the
// exit status, stdout and stderr.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var code int
	te := newTestEnv(nil)
	synctest.Test(t, func(t *testing.T) {
		code = run(context.Background(), append([]string{"run"}, args...), te.env())
	})
	return code, te.stdout.String(), te.stderr.String()
}

// writeFile writes a file in a fresh temporary folder and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

// TestRunExamples runs every example end to end with the mock file and the
// input beside it in examples/mocks, as docs/local-engine.md shows.
func TestRunExamples(t *testing.T) {
	t.Parallel()
	want := map[string]struct {
		output   string // a JSON object the output must hold
		progress []string
	}{
		"support-triage": {
			output: `{"ticket_id": 311, "category": "order_status", "urgency": "normal"}`,
			progress: []string{"▶ classify (ai)", "✖ classify AI.Throttled: rate limit reached, retry in 2s", "▶ classify (ai) attempt 2",
				"▶ route (choice)", "✔ post_draft ", "✔ support-triage succeeded in "},
		},
		"research-agent": {
			output:   `{"confidence": "high", "question": "How long does AWS Step Functions keep the history of a Standard workflow execution?"}`,
			progress: []string{"▶ research (ai)", "✔ research ", "▶ report (set)", "✔ research-agent succeeded in "},
		},
		"document-summary": {
			output: `{"title": "A short document", "incomplete": false, "parts": [
				{"part": 0, "summary": "The part explains one idea of the document."},
				{"part": 1, "summary": "The part explains one idea of the document."},
				{"part": 2, "summary": "The part explains one idea of the document."}]}`,
			progress: []string{"▶ summarize_chunks (map)", "▶ summarize_chunk[0] (ai)", "✔ summarize_chunk[2] ", "✔ chunk_result[1] ", "▶ reduce (ai)"},
		},
		"incident-enrichment": {
			output: `{"incident_id": "INC-2041", "verdict": "malicious", "country_code": "NL", "cve_severity": "critical", "known_exploited": true,
				"status_after_grace_period": "firing", "escalated": true}`,
			progress: []string{"▶ settle (wait)", "✔ settle 2m0s", "▶ gather (parallel)", "✔ reputation ", "✔ location ", "✔ vulnerability ",
				"▶ notify (service)", "▶ grace_period (wait)", "✔ grace_period 15m0s", "▶ still_firing (choice)", "▶ escalate (service)", "✔ escalate ",
				"▶ closing_state (service)", "✔ incident-enrichment succeeded in 17m0s"},
		},
	}
	examples, err := filepath.Glob("../../examples/*.yaml")
	require.NoError(t, err)
	require.Len(t, examples, len(want), "every example has a mock file and an expected output here")
	for _, file := range examples {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w, ok := want[name]
			require.True(t, ok, "examples/%s.yaml has an expected output in this test", name)
			code, stdout, stderr := runCmd(t, file,
				"--input-file", "../../examples/mocks/"+name+".input.json",
				"--mock", "../../examples/mocks/"+name+".yaml")
			require.Equal(t, 0, code, stderr)

			var got map[string]any
			require.NoError(t, json.Unmarshal([]byte(stdout), &got), "stdout holds the output and nothing else: %q", stdout)
			var sub map[string]any
			require.NoError(t, json.Unmarshal([]byte(w.output), &sub))
			for k, v := range sub {
				require.Equal(t, v, got[k], "output field %s", k)
			}
			for _, line := range w.progress {
				require.Contains(t, "\n"+stderr, "\n"+line, "progress on stderr")
			}
			require.NotContains(t, stderr, "{", "the output is not on stderr")
			require.NotContains(t, stderr, "\x1b[", "stderr is not a terminal: no live view")
		})
	}
}

func TestRunFailingStep(t *testing.T) {
	t.Parallel()
	mocks := writeFile(t, "mocks.json", `{
		"classify": {"output": {"category": "refund", "urgency": "low", "summary": "Refund please"}},
		"find_customer": {"output": {"customer_id": 7, "name": "Ada", "tier": "plus"}},
		"get_order": {"error": "MCP.ToolError", "cause": "order 1042 does not exist"}
	}`)
	code, stdout, stderr := runCmd(t, "../../examples/support-triage.yaml",
		"--input-file", "../../examples/mocks/support-triage.input.json", "--mock", mocks)
	require.Equal(t, 1, code)
	require.Empty(t, stdout, "no output for a failed execution")
	require.Contains(t, stderr, "\n✔ find_customer ")
	require.Contains(t, stderr, "\n✖ get_order MCP.ToolError: order 1042 does not exist\n")
	require.Contains(t, stderr, "\n✖ support-triage FAILED in ")
	require.True(t, strings.HasSuffix(stderr, "aiflow run: the execution failed: MCP.ToolError: order 1042 does not exist\n"), stderr)
	require.NotContains(t, stderr, "open_ticket", "the execution stops at the failed step")
}

func TestRunStepWithoutMockFailsWithNoWorker(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runCmd(t, "../../examples/support-triage.yaml",
		"--input-file", "../../examples/mocks/support-triage.input.json", "--script", "../../examples/scripts/scripted.yaml")
	require.Equal(t, 1, code)
	require.Empty(t, stdout)
	require.Contains(t, stderr, "\n✔ classify ", "the ai step ran on the scripted provider")
	cause := `step "find_customer" (mcp) has no worker in aiflow run: pass --mock FILE with a reply for "find_customer"`
	require.Contains(t, stderr, "✖ find_customer aiflow.NoWorker: "+cause+"\n")
	require.Contains(t, stderr, "aiflow run: the execution failed: aiflow.NoWorker: "+cause+"\n")
}

// TestRunAIStepsWithScript: the ai steps run in the real step worker, on
// the scripted provider, and their outputs flow through the workflow.
func TestRunAIStepsWithScript(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runCmd(t, "../../examples/document-summary.yaml",
		"--input-file", "../../examples/mocks/document-summary.input.json", "--script", "../../examples/scripts/scripted.yaml")
	require.Equal(t, 0, code, stderr)
	var out struct {
		Title   string `json:"title"`
		Summary string `json:"summary"`
		Parts   []struct {
			Part    int    `json:"part"`
			Summary string `json:"summary"`
		} `json:"parts"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &out), stdout)
	require.NotEmpty(t, out.Title)
	require.NotEmpty(t, out.Summary)
	require.Len(t, out.Parts, 3, "one summary per chunk of the input")
	for i, p := range out.Parts {
		require.Equal(t, i, p.Part)
		require.NotEmpty(t, p.Summary)
	}
	require.Contains(t, stderr, "\n✔ reduce ")

	doc, err := os.ReadFile("../../docs/local-engine.md")
	require.NoError(t, err)
	require.Contains(t, string(doc), "\naiflow run examples/document-summary.yaml --input-file examples/mocks/document-summary.input.json --script examples/scripts/scripted.yaml\n",
		"docs/local-engine.md shows the command this test runs")
}

// TestRunAIStepsFromTheEnvironment: the script can come from
// AIFLOW_AI_SCRIPT; without a script, a model whose provider has no key
// fails at once with AI.Auth, saying what to set.
func TestRunAIStepsFromTheEnvironment(t *testing.T) {
	t.Parallel()
	run1 := func(vars map[string]string) (int, string, string) {
		var code int
		te := newTestEnv(vars)
		synctest.Test(t, func(t *testing.T) {
			code = run(context.Background(), []string{"run", "../../examples/support-triage.yaml",
				"--input-file", "../../examples/mocks/support-triage.input.json",
				"--mock", "../../examples/mocks/support-triage.yaml"}, te.env())
		})
		return code, te.stdout.String(), te.stderr.String()
	}
	// The mock file answers every step; a script changes nothing then.
	code, _, stderr := run1(map[string]string{"AIFLOW_AI_SCRIPT": "../../examples/scripts/scripted.yaml"})
	require.Equal(t, 0, code, stderr)

	code, stdout, stderr := runCmd(t, "../../examples/support-triage.yaml",
		"--input-file", "../../examples/mocks/support-triage.input.json")
	require.Equal(t, 1, code)
	require.Empty(t, stdout)
	require.Contains(t, stderr, "AI.Auth: openai: OPENAI_API_KEY is not set; set it, or answer the models from a script with --script FILE")
}

func TestRunRetriesWithAListOfReplies(t *testing.T) {
	t.Parallel()
	// classify retries AI.Throttled and AI.Unavailable 3 times: 4 attempts.
	mocks := writeFile(t, "mocks.yaml", `
classify:
  - {error: AI.Throttled, cause: slow down}
  - {error: AI.Unavailable}
  - output: {category: complaint, urgency: high, summary: Broken on arrival}
find_customer: {output: {customer_id: 7, name: Ada, tier: plus}}
get_order: {output: {status: delivered, total: 10, currency: EUR, refund_eligible: true, shipping: {status: delivered}}}
open_ticket: {output: {ticket_id: 5, url: "https://support.example.com/tickets/5"}}
escalate: {output: {escalated: true}}
draft_reply: {output: We are sorry; a colleague will call you today.}
post_draft: {output: {}}
`)
	code, stdout, stderr := runCmd(t, "../../examples/support-triage.yaml",
		"--input-file", "../../examples/mocks/support-triage.input.json", "--mock", mocks)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stderr, "\n✖ classify AI.Throttled: slow down\n▶ classify (ai) attempt 2\n✖ classify AI.Unavailable\n▶ classify (ai) attempt 3\n✔ classify ")
	require.NotContains(t, stderr, "attempt 4")
	require.Contains(t, stderr, "\n▶ escalate (mcp)\n✔ escalate ")
	require.JSONEq(t, `{"ticket_id": 5, "ticket_url": "https://support.example.com/tickets/5", "category": "complaint", "urgency": "high",
		"suggested_reply": "We are sorry; a colleague will call you today."}`, stdout)

	// The last reply stands for every later attempt: throttled until the
	// retries are used up.
	mocks = writeFile(t, "mocks.yaml", `classify: [{error: AI.Throttled, cause: slow down}]`)
	code, _, stderr = runCmd(t, "../../examples/support-triage.yaml",
		"--input-file", "../../examples/mocks/support-triage.input.json", "--mock", mocks)
	require.Equal(t, 1, code)
	require.Equal(t, 4, strings.Count(stderr, "✖ classify AI.Throttled: slow down\n"), stderr)
	require.Contains(t, stderr, "aiflow run: the execution failed: AI.Throttled: slow down\n")
}

func TestRunTimeout(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runCmd(t, "../../examples/incident-enrichment.yaml",
		"--input-file", "../../examples/mocks/incident-enrichment.input.json",
		"--mock", "../../examples/mocks/incident-enrichment.yaml", "--timeout", "1m")
	require.Equal(t, 1, code)
	require.Empty(t, stdout)
	require.Contains(t, stderr, "▶ settle (wait)\n")
	require.Contains(t, stderr, "aiflow run: the execution did not finish within 1m0s (--timeout); it was stopped\n")
}

func TestRunRejectsBadInput(t *testing.T) {
	t.Parallel()
	triageInput := "../../examples/mocks/support-triage.input.json"
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"NoFile", nil, 2, []string{"usage: aiflow run FILE"}},
		{"MissingWorkflow", []string{"missing.yaml"}, 1, []string{"reading missing.yaml: open missing.yaml: no such file or directory"}},
		{"InvalidWorkflow", []string{"../../examples/invalid/duplicate-ids.yaml"}, 1, []string{"../../examples/invalid/duplicate-ids.yaml:", "error:"}},
		{"BothInputs", []string{"../../examples/research-agent.yaml", "--input", "{}", "--input-file", triageInput}, 2,
			[]string{"give the input with --input or with --input-file, not both"}},
		{"InputNotJSON", []string{"../../examples/research-agent.yaml", "--input", "{\"question\":\n 'why'}"}, 1,
			[]string{"aiflow run: --input:2:2: the input is not JSON: invalid character '\\'' looking for beginning of value"}},
		{"InputTwoValues", []string{"../../examples/research-agent.yaml", "--input", "{} {}"}, 1,
			[]string{"aiflow run: --input: the input is not JSON: more than one JSON value"}},
		{"MissingInputFile", []string{"../../examples/research-agent.yaml", "--input-file", "nope.json"}, 1,
			[]string{"aiflow run: reading the input: open nope.json: no such file or directory"}},
		{"InputAgainstSchema", []string{"../../examples/support-triage.yaml", "--input", `{"message": "", "order_id": "7"}`}, 1, []string{
			"aiflow run: the input does not match the input schema of ../../examples/support-triage.yaml:27:1:",
			"at /: missing properties 'customer_email', 'channel'",
			"at /message: minLength: got 0, want 1",
			"at /order_id: got string, want integer",
		}},
		{"MissingMockFile", []string{"../../examples/research-agent.yaml", "--input-file", "../../examples/mocks/research-agent.input.json", "--mock", "nope.yaml"}, 1,
			[]string{"aiflow run: reading the mock file: open nope.yaml: no such file or directory"}},
		{"NegativeTimeout", []string{"../../examples/research-agent.yaml", "--timeout", "-1s"}, 2, []string{"--timeout -1s is negative"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			te := newTestEnv(nil)
			code := run(context.Background(), append([]string{"run"}, tc.args...), te.env())
			require.Equal(t, tc.code, code, te.stderr.String())
			require.Empty(t, te.stdout.String())
			for _, w := range tc.want {
				require.Contains(t, te.stderr.String(), w)
			}
		})
	}
}

// markedBlock returns the code block between <!-- name --> and
// <!-- /name --> in a file of the repository.
func markedBlock(t *testing.T, file, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, file))
	require.NoError(t, err)
	m := regexp.MustCompile("(?s)<!-- " + regexp.QuoteMeta(name) + " -->\n```[a-z]*\n(.*?)```\n<!-- /" + regexp.QuoteMeta(name) + " -->").FindSubmatch(raw)
	require.NotNil(t, m, "%s has the %s block", file, name)
	return string(m[1])
}

// commandArgs turns a documented command line (aiflow ... or go run
// ./cmd/aiflow ...) into the arguments of run, with the repository's paths
// made relative to this package.
func commandArgs(t *testing.T, line string) []string {
	t.Helper()
	line = strings.TrimSpace(line)
	rest, ok := strings.CutPrefix(line, "go run ./cmd/aiflow ")
	if !ok {
		rest, ok = strings.CutPrefix(line, "aiflow ")
	}
	require.True(t, ok, "%q runs aiflow", line)
	args := strings.Fields(rest)
	for i, a := range args {
		if strings.HasPrefix(a, "examples/") {
			args[i] = filepath.Join(repoRoot, a)
		}
	}
	return args
}

// durations blurs the durations of progress lines.
var durations = regexp.MustCompile(`\b\d+(\.\d+)?(ms|s)\b|\b\d+m\d+(\.\d+)?s\b`)

// TestDocumentedRunExample runs the `aiflow run` that docs/local-engine.md
// and README.md show and checks that it prints what the guide says.
func TestDocumentedRunExample(t *testing.T) {
	t.Parallel()
	command := markedBlock(t, "docs/local-engine.md", "run-command")
	readme := strings.Split(strings.TrimSpace(markedBlock(t, "README.md", "local-engine")), "\n")
	require.Equal(t, commandArgs(t, command), commandArgs(t, readme[0]), "README shows the guide's command")

	args := commandArgs(t, command)
	require.Equal(t, "run", args[0])
	code, stdout, stderr := runCmd(t, args[1:]...)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, markedBlock(t, "docs/local-engine.md", "run-output"), stdout)
	require.Equal(t, durations.ReplaceAllString(markedBlock(t, "docs/local-engine.md", "run-progress"), "D"),
		durations.ReplaceAllString(stderr, "D"))
}

// TestRunFailuresOutsideTasks: a mock that leaves out a field a later step
// reads fails that step at run time; a caught error goes on to the catch's
// step, here a fail step.
func TestRunFailuresOutsideTasks(t *testing.T) {
	t.Parallel()
	input := "../../examples/mocks/research-agent.input.json"
	mocks := writeFile(t, "mocks.json", `{"research": {"output": {"answer": "42"}}}`)
	code, stdout, stderr := runCmd(t, "../../examples/research-agent.yaml", "--input-file", input, "--mock", mocks)
	require.Equal(t, 1, code)
	require.Empty(t, stdout)
	require.Contains(t, stderr, "▶ report (set)\n✖ report States.Runtime\n✖ research-agent FAILED in ")
	require.Contains(t, stderr, `aiflow run: the execution failed: States.Runtime: States.ParameterPathFailure: `)
	require.Contains(t, stderr, `no member "confidence" at $.steps.research.output.confidence`)

	mocks = writeFile(t, "mocks.json", `{"research": {"error": "AI.BudgetExceeded"}}`)
	code, stdout, stderr = runCmd(t, "../../examples/research-agent.yaml", "--input-file", input, "--mock", mocks)
	require.Equal(t, 1, code)
	require.Empty(t, stdout)
	require.Contains(t, stderr, "✖ research AI.BudgetExceeded\n▶ over_budget (fail)\n✖ over_budget Research.OverBudget\n")
	require.Contains(t, stderr, "aiflow run: the execution failed: Research.OverBudget: The research used up its token budget before it found an answer.\n")
}

// TestRunCallsTheExampleServices runs incident-enrichment with no mock
// file, as docs/services.md shows: its service steps call the example
// services, which aiflow run serves in process and registers, and its ai
// step the scripted provider. Outside a synctest bubble (the services
// listen on real sockets), --skip-waits skips its 17 minutes of waits.
func TestRunCallsTheExampleServices(t *testing.T) {
	t.Parallel()
	command := strings.ReplaceAll(markedBlock(t, "docs/services.md", "services-run"), "\\\n", " ")
	args := commandArgs(t, command)
	require.Equal(t, "run", args[0])
	require.Contains(t, args, "--skip-waits")

	te := newTestEnv(nil)
	code := run(context.Background(), append(args, "--timeout", "2m"), te.env())
	require.Equal(t, 0, code, te.stderr.String())
	require.JSONEq(t, `{
		"incident_id": "INC-2041", "verdict": "malicious", "country_code": "US", "cve_severity": "critical", "known_exploited": true,
		"status_after_grace_period": "firing", "escalated": true,
		"summary": "An address that threat feeds rate malicious tried to exploit a critical, known-exploited vulnerability; block it and check whether the target is vulnerable."
	}`, te.stdout.String())
	for _, line := range []string{"✔ reputation ", "✔ location ", "✔ vulnerability ", "✔ notify ", "✔ recheck ", "✔ escalate ", "✔ incident-enrichment succeeded in 17m"} {
		require.Contains(t, te.stderr.String(), "\n"+line)
	}
	require.Regexp(t, `\n✔ settle 2m\d+s \((2m0s )?skipped\)\n`, te.stderr.String())
	require.Regexp(t, `\n✔ grace_period 15m\d+s \((15m0s )?skipped\)\n`, te.stderr.String())
}

// skipped blurs what a line says was skipped: "(skipped)" stands for
// "(D skipped)" too, which a slow machine may print.
var skipped = regexp.MustCompile(`\((D )?skipped\)`)

// TestDocumentedSkipWaits runs the `aiflow run --skip-waits` that
// docs/local-engine.md shows, on the real clock (no synctest bubble):
// the example's 17 minutes of waits pass at once, and the progress is the
// guide's.
func TestDocumentedSkipWaits(t *testing.T) {
	t.Parallel()
	args := commandArgs(t, markedBlock(t, "docs/local-engine.md", "skip-command"))
	require.Equal(t, []string{"run"}, args[:1])
	te := newTestEnv(nil)
	code := run(context.Background(), append(args, "--timeout", "1m"), te.env())
	require.Equal(t, 0, code, te.stderr.String())
	// The branches of gather run at once: their lines may come in any order.
	blur := func(s string) []string {
		lines := strings.Split(skipped.ReplaceAllString(durations.ReplaceAllString(s, "D"), "(skipped)"), "\n")
		from, to := slices.Index(lines, "▶ gather (parallel)"), slices.Index(lines, "✔ gather D")
		require.Less(t, from, to, "gather starts and ends: %q", s)
		slices.Sort(lines[from+1 : to])
		return lines
	}
	require.Equal(t, blur(markedBlock(t, "docs/local-engine.md", "skip-progress")), blur(te.stderr.String()))
	require.Contains(t, te.stderr.String(), "\n✔ incident-enrichment succeeded in 17m")
	require.JSONEq(t, `{"incident_id": "INC-2041", "verdict": "malicious", "country_code": "NL", "cve_severity": "critical", "known_exploited": true,
		"status_after_grace_period": "firing", "escalated": true,
		"summary": "A known malicious address exploited Log4Shell (CVE-2021-44228) against the payments API."}`, te.stdout.String())
}
