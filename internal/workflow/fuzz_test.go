package workflow

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aiflow/aiflow/internal/asl"
)

// FuzzCheckCompile holds the checker to its promise: every definition it
// accepts compiles, through Build (the one pipeline publishing uses), to
// a state machine that internal/asl validates, also once the queue URLs
// are substituted and the text parsed back, as the engine reads it; and
// every definition it refuses gets Diagnostics, each located. Nothing
// panics, a partly read definition included. Each input runs as a
// definition, and as the choices of generate, which builds one of steps
// of every kind nested and linked; both without a tool catalog (mcp steps
// untyped) and with the examples' catalog.
//
// The seeds are the examples, the invalid examples, and definitions that
// vary one field at a time around its limits (fieldSeeds); go test runs
// them and the inputs the fuzzer found under testdata/fuzz/FuzzCheckCompile.
// Run it longer with
//
//	go test -run '^$' -fuzz FuzzCheckCompile -fuzztime 5m ./internal/workflow
func FuzzCheckCompile(f *testing.F) {
	for _, pattern := range []string{"testdata/*.yaml", filepath.Join(examplesDir, "*.yaml"), filepath.Join(examplesDir, "invalid", "*.yaml")} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			src, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	for _, seed := range fieldSeeds() {
		f.Add([]byte(seed))
	}
	raw, err := os.ReadFile(filepath.Join(examplesDir, "mcp-catalog.json"))
	if err != nil {
		f.Fatal(err)
	}
	catalog, err := ParseCatalog(raw)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		_, _ = Load("fuzz.yaml", src, nil) // checks a partly read workflow too: must not panic
		generated := []byte(generate(src))
		for _, c := range []*Catalog{nil, catalog} {
			checkCompile(t, src, c)
			checkCompile(t, generated, c)
		}
	})
}

// checkCompile builds src and fails t unless Build refuses it with located
// Diagnostics or makes a state machine that validates.
func checkCompile(t *testing.T, src []byte, catalog *Catalog) {
	t.Helper()
	built, err := Build("fuzz.yaml", src, catalog)
	if err != nil {
		var diags Diagnostics
		if !errors.As(err, &diags) {
			t.Fatalf("the checker accepted a definition that Build then refused (%T): %v\n--- definition:\n%s", err, err, src)
		}
		for _, d := range diags {
			if d.File != "fuzz.yaml" || d.Pos.Line < 1 || d.Pos.Col < 1 || d.Msg == "" {
				t.Fatalf("a diagnostic without a place or a message: %#v\n--- definition:\n%s", d, src)
			}
		}
		return
	}
	if problems := asl.Validate(built.Machine); len(problems) > 0 {
		t.Fatalf("Build returned a state machine that is not valid: %v\n--- definition:\n%s", problems, src)
	}
	if strings.Contains(built.ASL, `\u0000`) {
		t.Fatalf("the state machine holds a NUL, which PostgreSQL cannot store in an execution's values\n--- definition:\n%s", src)
	}
	// What publishing deploys: the queue URLs in, the text parsed back.
	urls := map[string]string{}
	for _, sub := range QueueSubstitutions {
		urls[sub] = "https://sqs.eu-west-1.amazonaws.com/123456789012/" + strings.Trim(sub, "${}")
		if got, want := strings.Count(built.ASL, sub), countQueue(built.Machine.States, sub); got != want {
			t.Fatalf("%s is in the state machine %d times, but %d task states send to it\n--- definition:\n%s", sub, got, want, src)
		}
	}
	def, err := SubstituteQueues(built.ASL, urls)
	if err != nil {
		t.Fatalf("substituting the queues: %v", err)
	}
	m, err := asl.Parse([]byte(def))
	if err != nil {
		t.Fatalf("the deployed state machine does not parse: %v\n--- definition:\n%s", err, src)
	}
	if problems := asl.Validate(m); len(problems) > 0 {
		t.Fatalf("the deployed state machine is not valid: %v\n--- definition:\n%s", problems, src)
	}
	if !strings.HasPrefix(built.Graph, "flowchart TD\n") {
		t.Fatalf("the graph is %q", built.Graph)
	}
}

// countQueue counts the task states, at any depth, that send to the queue
// of substitution sub.
func countQueue(states map[string]*asl.State, sub string) int {
	n := 0
	for _, st := range states {
		if st.Type == asl.TypeTask && strings.Contains(string(st.Parameters), `"QueueUrl":"`+sub+`"`) {
			n++
		}
		for _, b := range st.Branches {
			n += countQueue(b.States, sub)
		}
		if st.ItemProcessor != nil {
			n += countQueue(st.ItemProcessor.States, sub)
		}
	}
	return n
}

// fieldSeeds are small definitions that each vary one field of the
// language around what the checker and Step Functions allow.
func fieldSeeds() []string {
	const head = "name: seed\ninput:\n  type: object\n  required: [s, n, i, b, t, xs]\n  properties:\n" +
		"    s: {type: string}\n    n: {type: number}\n    i: {type: integer}\n    b: {type: boolean}\n" +
		"    t: {type: string, format: date-time}\n    xs: {type: array, items: {type: object, required: [v], properties: {v: {type: string}}}}\n" +
		"steps:\n"
	task := "  - id: call\n    mcp: {server: support, tool: find_customer, arguments: {email: \"{{ input.s }}\"}}\n"
	end := "  - id: done\n    succeed: {}\n"
	var seeds []string
	add := func(format string, values ...string) {
		for _, v := range values {
			seeds = append(seeds, head+fmt.Sprintf(format, v))
		}
	}
	durations := []string{"0s", "1s", "1.5s", "-1s", "59s", "2s", "1m", "8760h", "8761h", "8784h", "8784h0m1s", "99999999s", "100000000s", "x", `""`, "[1s]", "1"}
	add("  - id: w\n    wait: {duration: %s}\n", durations...)
	add("  - id: w\n    wait: {until: %s}\n", `"2026-12-01T09:00:00Z"`, `"2026-12-01T09:00:00.123456789+05:30"`, `"2026-12-01T09:00:00"`,
		`"2026-12-01"`, `"2026-13-01T00:00:00Z"`, `"2026-12-01t09:00:00z"`, `"tomorrow"`, `""`, `" "`, "2026-12-01T09:00:00Z", "1",
		`"{{ input.t }}"`, `"{{ input.s }}"`, `"{{ input.n }}"`, `"at {{ input.t }}"`, `"{{ input.t }}Z"`, `"{{ context.execution.start_time }}"`, `"{{"`)
	add("  - id: w\n    wait: {duration: 1s, until: %s}\n", `"2026-12-01T09:00:00Z"`)
	for _, d := range durations {
		seeds = append(seeds, strings.Replace(head, "steps:\n", "timeout: "+d+"\nsteps:\n", 1)+end)
	}
	add(task+"    timeout: %s\n", durations...)
	add(task+"    heartbeat: %s\n", durations...)
	add(task+"    timeout: 2s\n    heartbeat: %s\n", "1s", "2s")
	errs := []string{"[]", `[""]`, "[States.ALL]", "[States.ALL, MCP.Timeout]", "[MCP.Timeout, States.ALL]", "[States.Timeout]",
		"[States.TaskFailed, States.HeartbeatTimeout]", "[States.Foo]", "[States.all]", "[X.Y]", "States.Timeout", "~", "[1]", "[{a: b}]", `"${McpStepQueueUrl}"`}
	add(task+"    retry: [{errors: %s}]\n", errs...)
	add(task+"    retry: [{errors: %s}, {errors: [MCP.Timeout]}]\n", errs...)
	add(task+"    retry: [{errors: [MCP.Timeout]}, {errors: %s}]\n", errs...)
	add(task+"    catch: [{errors: %s, next: done}]\n"+end, errs...)
	add(task+"    catch: [{errors: %s, next: done}, {errors: [MCP.Timeout], next: done}]\n"+end, errs...)
	add(task+"    catch: [{next: %s}]\n"+end, "done", "call", "nowhere", `""`, "Done")
	add(task+"    retry: [{attempts: %s}]\n", "0", "1", "99999999", "100000000", "-1", "1.5", "x")
	add(task+"    retry: [{interval: %s}]\n", durations...)
	add(task+"    retry: [{max_delay: %s}]\n", append(durations, "31622400s", "31622401s")...)
	add(task+"    retry: [{backoff: %s}]\n", "0.5", "1", "1.0", "2.5", "1000", "1001", ".inf", ".nan", "x")
	add(task+"    retry: [{jitter: %s}]\n", "true", "false", "True", "FALSE", "yes", "1", "!!bool x")
	ids := []string{"a", "A1", "a_b", strings.Repeat("a", 64), strings.Repeat("a", 65), "a-b", "1a", "_a", "aiflow-start", "a.b", "é", `""`, "a b"}
	add("  - id: %s\n    succeed: {}\n", ids...)
	add("  - id: m\n    map:\n      items: \"{{ input.xs }}\"\n      steps:\n        - id: %s\n          set: {v: 1}\n", ids...)
	add("  - id: s\n    set: {v: 1}\n    next: %s\n  - id: a\n    succeed: {}\n", ids...)
	for _, id := range ids {
		seeds = append(seeds, head+"  - id: "+id+"\n    map:\n      items: \"{{ input.xs }}\"\n      tolerated_failures: 1\n      steps:\n        - id: one\n          set: {v: 1}\n")
	}
	names := []string{"a", "a-b_c", strings.Repeat("n", 80), strings.Repeat("n", 81), "a b", "a/b", "é", `""`}
	for _, n := range names {
		seeds = append(seeds, strings.Replace(head, "name: seed", "name: "+n, 1)+end)
	}
	mapWith := "  - id: m\n    map:\n      items: %s\n      steps:\n        - id: one\n          set: {v: \"{{ context.map.item.value.v }}\", i: \"{{ context.map.item.index }}\"}\n"
	add(mapWith, `"{{ input.xs }}"`, `"{{ input.s }}"`, `"{{ input.xs[0] }}"`, `"x {{ input.xs }}"`, `"[]"`, "[1]", `"{{ context.map.item.value }}"`)
	mapField := "  - id: m\n    map:\n      items: \"{{ input.xs }}\"\n      %s\n      steps:\n        - id: one\n          set: {v: \"{{ context.map.item.value.v }}\"}\n"
	add(mapField, "max_concurrency: 0", "max_concurrency: 10000", "max_concurrency: 10001", "max_concurrency: -1",
		"tolerated_failures: 0", "tolerated_failures: 2147483647", "tolerated_failures: 2147483648", "tolerated_failures: 99999999999999999999",
		`tolerated_failures: "0%"`, `tolerated_failures: "100%"`, `tolerated_failures: "100.1%"`, `tolerated_failures: "10.5%"`,
		"tolerated_failures: -1", "tolerated_failures: 1.5", "tolerated_failures: 0x10", `tolerated_failures: "%"`)
	add("  - id: m\n    map:\n      items: \"{{ input.xs }}\"\n      steps:\n        - id: inner\n          map:\n            items: %s\n            steps:\n              - id: deep\n                set: {v: \"{{ context.map.item.value }}\"}\n",
		`"{{ input.xs }}"`, `"{{ context.map.item.value.v }}"`)
	values := []string{"1", "-0", "0x1F", "0o17", "1_000", "1e308", "1e-400", "0.0e-400", "99999999999999999999", ".inf", "-.inf", ".nan", "True", "FALSE", "~", "null",
		`"{{ input.s }}"`, `"a {{ input.s }} b"`, `"'{}\\ {{ input.n }} $ ( ) ,"`, `"{{"`, `"}}"`, `"{{ input.nope }}"`, `"${AiStepQueueUrl}"`, `"$${ApprovalQueueUrl}"`, `"a\0b"`, `"\x00"`,
		`["{{ input.s }}", 1, true, null, "x"]`, `["{{ input.s }}", {a: 1}]`, `[["{{ input.s }}"], []]`, `[[["{{ input.s }}", [{a: 1}]]]]`, `[{a: "{{ input.s }}"}]`,
		`{"a.$": 1}`, `{"a.$": "{{ input.s }}"}`, `{"": 1}`, `{"$": 1}`, `{a: {"b.$": "x"}}`, "!!int x", "!!float 1", `!!str 1`, "2026-12-01"}
	add("  - id: s\n    set: {v: %s}\n", values...)
	add("  - id: s\n    succeed: {}\noutput: %s\n", values...)
	add("  - id: call\n    mcp: {server: support, tool: find_customer, arguments: {email: %s}}\n", values...)
	add("  - id: call\n    service: {service: crm, path: /a, body: %s}\n", values...)
	add("  - id: call\n    service: {service: crm, path: %s}\n", `"/a/{{ input.s }}"`, `"{{ input.s }}"`, `"/a/{{ input.n }}"`, `"/a/{{ input.xs }}"`, `""`)
	add("  - id: call\n    service: {service: crm, path: /a, method: %s}\n", "get", "POST", "TRACE", `""`)
	add("  - id: c\n    choice:\n      cases: [{when: %s, next: done}]\n      default: done\n"+end,
		`"1 == 1"`, `"input.n > 1 && 1 < 2"`, `"!(true == false)"`, `"true"`, `"!false"`, `"input.b"`, `"input.n > 1e308"`, `"input.n > 1e309"`, `"input.n > 1e-400"`, `"input.n > 0e-400"`,
		`"input.i >= -0.5"`, `"input.s == input.s"`, `"input.n < input.i"`, `"input.b == input.b"`, `"input.s != null"`, `"input.s == \"x\""`,
		`'matches(input.s, "a*")'`, `'matches(input.s, "a\\")'`, `"exists(input.s)"`, `"is_timestamp(input.t)"`, `"input.xs[0].v == \"x\""`,
		`"input.s"`, `"input.n"`, `"1"`, `"(input.n > 1) == true"`, `"context.state.retry_count > 0"`, `"{{ input.b }}"`, `""`)
	add("  - id: a\n    ai: {model: m/x, prompt: p, %s}\n",
		"temperature: 2", "temperature: 2.1", "temperature: .nan", "max_tokens: 0", "max_tokens: 1000000", "top_p: 1.5",
		"stop: [a, b]", "stop: x", `output_schema: {type: object, properties: {"a.$": {type: string}}}`,
		`output_schema: {type: object, properties: {a: {type: string, maximum: .inf}}}`, `output_schema: {type: object, required: [a], properties: {a: {type: integer, maximum: 0x10}}}`,
		"tools: [support/find_customer]", "tools: [support/nope]", "tools: [x]", "tools: [support/find_customer], max_turns: 101",
		`system: "{{ input.s }}"`, `system: "${AiStepQueueUrl}"`)
	add("  - id: f\n    fail: {error: E}\noutput: %s\n", "{a: 1}", `"{{ input.s }}"`)
	add("  - id: c\n    choice:\n      cases: [{when: 'input.b', next: f}]\n      default: %s\n  - id: f\n    fail: {error: E}\n  - id: g\n    set: {v: 1}\n    next: f\n  - id: h\n    succeed: {}\noutput: {a: 1}\n", "f", "g", "h")
	add("  - id: f\n    fail: {error: %s, cause: c}\n", "E", `""`, "States.Foo", "States.ALL", `"{{ input.s }}"`)
	add("  - id: ok\n    approval: {message: %s, approvers: [a]}\n", `"Go on with {{ input.s }}?"`, `"{{ input.xs }}"`, `""`)
	add("  - id: p\n    parallel:\n      branches:\n%s  - id: after\n    set: {v: 1}\n",
		"        - steps:\n            - id: b1\n              set: {x: 1}\n        - steps:\n            - id: b2\n              set: {y: \"{{ steps.b1.output.x }}\"}\n",
		"        - steps: []\n", "", "        - steps:\n            - id: b1\n              succeed: {}\n",
		"        - steps:\n            - id: b1\n              fail: {error: E}\n")
	return seeds
}
