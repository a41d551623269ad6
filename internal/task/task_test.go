package task_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/task"
	"github.com/aiflow/aiflow/internal/textgate"
)

const validBody = `{
  "version": 1,
  "taskToken": "tok",
  "execution": {"id": "arn:aws:states:eu-west-1:123456789012:execution:wf:run-1", "name": "run-1", "startTime": "2026-01-02T03:04:05Z"},
  "step": {"id": "classify", "kind": "ai", "attempt": 2, "enteredTime": "2026-01-02T03:04:06.5Z"},
  "spec": {"model": "openai/gpt-4.1-mini", "timeout_seconds": 90},
  "data": {"prompt": "Hello"}
}`

func TestDecodeReadsAMessage(t *testing.T) {
	t.Parallel()
	m, err := task.Decode(validBody)
	require.NoError(t, err)
	require.Equal(t, 1, m.Version)
	require.Equal(t, "tok", m.TaskToken)
	require.Equal(t, task.Execution{ID: "arn:aws:states:eu-west-1:123456789012:execution:wf:run-1", Name: "run-1", StartTime: "2026-01-02T03:04:05Z"}, m.Execution)
	require.Equal(t, task.Step{ID: "classify", Kind: "ai", Attempt: 2, EnteredTime: "2026-01-02T03:04:06.5Z"}, m.Step)
	require.JSONEq(t, `{"model": "openai/gpt-4.1-mini", "timeout_seconds": 90}`, string(m.Spec))
	require.JSONEq(t, `{"prompt": "Hello"}`, string(m.Data))
	entered, ok := m.Step.Entered()
	require.True(t, ok)
	require.Equal(t, time.Date(2026, 1, 2, 3, 4, 6, 500_000_000, time.UTC), entered)
}

func TestDecodeReadsAMessageWithoutVersionAsVersion1(t *testing.T) {
	t.Parallel()
	m, err := task.Decode(`{"taskToken":"tok","step":{"id":"a","kind":"mcp"},"spec":{},"data":{}}`)
	require.NoError(t, err)
	require.Equal(t, 1, m.Version)
	require.Equal(t, "tok", m.TaskToken)
	require.Equal(t, task.Step{ID: "a", Kind: "mcp"}, m.Step)
	_, ok := m.Step.Entered()
	require.False(t, ok)
}

func TestDecodeRefusesAnUnknownVersion(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"a newer version":                    `{"version":2,"taskToken":"tok","step":{"id":"a","kind":"ai"}}`,
		"version 0":                          `{"version":0,"taskToken":"tok","step":{"id":"a","kind":"ai"}}`,
		"a newer version of another shape":   `{"version":2,"taskToken":"tok","step":"a"}`,
		"a newer version without step":       `{"version":2,"taskToken":"tok"}`,
		"a newer version with a null step":   `{"version":3,"taskToken":"tok","step":null}`,
		"a newer version and extra fields":   `{"version":2,"taskToken":"tok","step":{"id":"a","kind":"ai"},"trace":{}}`,
		"a negative version, token in front": `{"taskToken":"tok","version":-1}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m, err := task.Decode(body)
			require.ErrorIs(t, err, task.ErrUnsupportedVersion)
			require.Equal(t, task.Message{TaskToken: "tok"}, m, "the token is still read, so that the task can be failed")
			require.Contains(t, err.Error(), "this worker reads version 1")
		})
	}
}

func TestDecodeRefusesMalformedMessages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, token string
	}{
		{"not JSON", `{"taskToken":`, ""},
		{"not an object", `[1]`, ""},
		{"trailing data", `{"taskToken":"tok","step":{"id":"a","kind":"ai"}} {}`, ""},
		{"no token", `{"version":1,"step":{"id":"a","kind":"ai"}}`, ""},
		{"an empty token", `{"taskToken":"","step":{"id":"a","kind":"ai"}}`, ""},
		{"a token that is not a string", `{"taskToken":7,"step":{"id":"a","kind":"ai"}}`, ""},
		{"a version that is not a number", `{"version":"1","taskToken":"tok","step":{"id":"a","kind":"ai"}}`, "tok"},
		{"a step of the wrong shape", `{"taskToken":"tok","step":{"id":"a","kind":"ai","attempt":"zero"}}`, "tok"},
		{"an execution of the wrong shape", `{"taskToken":"tok","execution":"e","step":{"id":"a","kind":"ai"}}`, "tok"},
		{"no step", `{"taskToken":"tok"}`, "tok"},
		{"no step kind", `{"taskToken":"tok","step":{"id":"a"}}`, "tok"},
		{"no step id", `{"taskToken":"tok","step":{"kind":"ai"}}`, "tok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := task.Decode(tc.body)
			require.Error(t, err)
			require.NotErrorIs(t, err, task.ErrUnsupportedVersion)
			require.Equal(t, task.Message{TaskToken: tc.token}, m)
		})
	}
}

// TestDecodeRefusesRefusedText: a NUL, invalid UTF-8 or a lone surrogate
// anywhere in a message refuses it, naming the JSON pointer and keeping
// the token, so the worker fails the task instead of running it or
// receiving it forever; encoding/json alone would have replaced the last
// two with U+FFFD.
func TestDecodeRefusesRefusedText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, token, pointer string
	}{
		{"NUL in a task's input", `{"taskToken":"tok","step":{"id":"a","kind":"mcp"},"data":{"note":"x\u0000"}}`, "tok", "/data/note"},
		{"a raw NUL", "{\"taskToken\":\"tok\",\"step\":{\"id\":\"a\",\"kind\":\"mcp\"},\"data\":{\"note\":\"x\x00\"}}", "tok", "/data/note"},
		{"a lone surrogate in the spec", `{"taskToken":"tok","step":{"id":"a","kind":"ai"},"spec":{"system":"\ud83d"}}`, "tok", "/spec/system"},
		{"invalid UTF-8 in a step id", "{\"taskToken\":\"tok\",\"step\":{\"id\":\"\xff\",\"kind\":\"ai\"}}", "tok", "/step/id"},
		{"a NUL in a key of the data", `{"taskToken":"tok","step":{"id":"a","kind":"ai"},"data":{"k\u0000":1}}`, "tok", "/data"},
		{"a token after the flaw", `{"data":{"x":"\udc00"},"taskToken":"tok","step":{"id":"a","kind":"ai"}}`, "tok", "/data/x"},
		{"a NUL in the token itself", `{"taskToken":"t\u0000k","step":{"id":"a","kind":"ai"}}`, "", "/taskToken"},
		{"a newer version with a NUL", `{"version":2,"taskToken":"tok","data":"\u0000"}`, "tok", "/data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := task.Decode(tc.body)
			require.ErrorIs(t, err, task.ErrInvalidText)
			var te *textgate.Error
			require.ErrorAs(t, err, &te)
			require.Equal(t, tc.pointer, te.Pointer)
			require.Equal(t, task.Message{TaskToken: tc.token}, m)
			require.True(t, textgate.Valid(err.Error()), "the error can be sent as a cause: %q", err)
		})
	}
}

// TestTemplateRendersToAMessage renders the compiler's template as a state
// machine does and reads the result back.
func TestTemplateRendersToAMessage(t *testing.T) {
	t.Parallel()
	tmpl, err := json.Marshal(task.Template(task.TemplateParams{
		StepID: "classify", Kind: "ai",
		Spec: map[string]any{"model": "openai/gpt-4.1-mini", "timeout_seconds": 90},
		Data: map[string]any{"prompt.$": "$.input.text", "system": "Be brief."},
	}))
	require.NoError(t, err)
	input := map[string]any{"input": map[string]any{"text": "Where is my order?"}, "steps": map[string]any{}}
	context := map[string]any{
		"Execution": map[string]any{"Id": "arn:aws:states:eu-west-1:123456789012:execution:wf:run-1", "Name": "run-1", "StartTime": "2026-01-02T03:04:05Z"},
		"State":     map[string]any{"Name": "classify", "EnteredTime": "2026-01-02T03:04:06Z", "RetryCount": json.Number("1")},
		"Task":      map[string]any{"Token": "tok"},
	}
	rendered, err := asl.ApplyTemplate(tmpl, input, context, nil)
	require.NoError(t, err)
	body, err := json.Marshal(rendered)
	require.NoError(t, err)

	m, err := task.Decode(string(body))
	require.NoError(t, err)
	require.Equal(t, task.Message{
		Version:   task.Version,
		TaskToken: "tok",
		Execution: task.Execution{ID: "arn:aws:states:eu-west-1:123456789012:execution:wf:run-1", Name: "run-1", StartTime: "2026-01-02T03:04:05Z"},
		Step:      task.Step{ID: "classify", Kind: "ai", Attempt: 1, EnteredTime: "2026-01-02T03:04:06Z"},
		Spec:      json.RawMessage(`{"model":"openai/gpt-4.1-mini","timeout_seconds":90}`),
		Data:      json.RawMessage(`{"prompt":"Where is my order?","system":"Be brief."}`),
	}, m)
}

func TestTheErrorNameIsStable(t *testing.T) {
	t.Parallel()
	// Workflows match this name in retry and catch: it never changes.
	require.Equal(t, "Task.UnsupportedVersion", task.CodeUnsupportedVersion)
}

func ExampleDecode() {
	m, err := task.Decode(`{"version":1,"taskToken":"tok","step":{"id":"classify","kind":"ai"},"data":{"prompt":"Hello"}}`)
	fmt.Println(m.TaskToken, m.Step.ID, m.Step.Kind, string(m.Data), err)

	m, err = task.Decode(`{"version":2,"taskToken":"tok","step":{"id":"classify","kind":"ai"}}`)
	fmt.Println(m.TaskToken, errors.Is(err, task.ErrUnsupportedVersion))
	// Output:
	// tok classify ai {"prompt":"Hello"} <nil>
	// tok true
}

// TestIdempotencyKey: the key is the same for every delivery and retry of
// one invocation, and differs between invocations.
func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	decode := func(edit func(m map[string]any)) task.Message {
		t.Helper()
		var raw map[string]any
		require.NoError(t, json.Unmarshal([]byte(validBody), &raw))
		if edit != nil {
			edit(raw)
		}
		b, err := json.Marshal(raw)
		require.NoError(t, err)
		m, err := task.Decode(string(b))
		require.NoError(t, err)
		return m
	}
	step := func(field string, v any) func(map[string]any) {
		return func(m map[string]any) { m["step"].(map[string]any)[field] = v }
	}
	key := decode(nil).IdempotencyKey()
	require.Regexp(t, `^aiflow-[0-9a-f]{32}$`, key)
	m, err := task.Decode(validBody)
	require.NoError(t, err)
	require.Equal(t, key, m.IdempotencyKey(), "a redelivery")

	for name, edit := range map[string]func(map[string]any){
		"another token":          func(m map[string]any) { m["taskToken"] = "other" },
		"a retry of the step":    step("attempt", 3),
		"the data spaced out":    func(m map[string]any) { m["data"] = json.RawMessage(`{ "prompt" : "Hello" }`) },
		"another spec (a retry)": func(m map[string]any) { m["spec"] = map[string]any{} },
	} {
		require.Equal(t, key, decode(edit).IdempotencyKey(), name)
	}
	for name, edit := range map[string]func(map[string]any){
		"another execution": func(m map[string]any) {
			m["execution"].(map[string]any)["id"] = "arn:aws:states:eu-west-1:123456789012:execution:wf:run-2"
		},
		"another step":         step("id", "reply"),
		"the state re-entered": step("enteredTime", "2026-01-02T03:05:00Z"),
		"other data":           func(m map[string]any) { m["data"] = map[string]any{"prompt": "Bye"} },
	} {
		require.NotEqual(t, key, decode(edit).IdempotencyKey(), name)
	}
}

// TestIdempotencyKeyOfTheSameDataInAnotherText: the key is the data's
// JSON value, not its text. The local engine sends a task's message again
// after a restart from the copy its PostgreSQL store kept as jsonb, which
// gives the object back with its members reordered (shorter names
// first), its strings re-escaped and its numbers rewritten: the
// support-triage workflow's post_draft step was sent once with
// {"internal_note", "ticket_id"} and again with {"ticket_id",
// "internal_note"}, and the support desk added its note twice under two
// keys. Any other value is another key.
func TestIdempotencyKeyOfTheSameDataInAnotherText(t *testing.T) {
	t.Parallel()
	withData := func(data string) task.Message {
		t.Helper()
		body := `{"version": 1, "taskToken": "tok",
			"execution": {"id": "arn:aws:states:eu-west-1:123456789012:execution:wf:run-1", "name": "run-1", "startTime": "2026-01-02T03:04:05Z"},
			"step": {"id": "post_draft", "kind": "mcp", "attempt": 0, "enteredTime": "2026-01-02T03:04:06.500Z"},
			"spec": {"server": "support", "tool": "update_ticket"}, "data": ` + data + `}`
		m, err := task.Decode(body)
		require.NoError(t, err)
		return m
	}
	sent := `{"arguments":{"internal_note":"Suggested reply: caf\u00e9 <b> & a\/b","ticket_id":113,"amount":1.50e1,"tags":["b","a"],"meta":{"zz":null,"a":true}}}`
	key := withData(sent).IdempotencyKey()
	for name, data := range map[string]string{
		"as jsonb gives it back": `{"arguments": {"meta": {"a": true, "zz": null}, "tags": ["b", "a"], "amount": 15.0, "ticket_id": 113, "internal_note": "Suggested reply: café <b> & a/b"}}`,
		"spaced out":             "{ \"arguments\" :\n" + sent[len(`{"arguments":`):],
		"another number form":    `{"arguments":{"internal_note":"Suggested reply: café <b> & a/b","ticket_id":1.13E2,"amount":15,"tags":["b","a"],"meta":{"zz":null,"a":true}}}`,
	} {
		require.Equal(t, key, withData(data).IdempotencyKey(), name)
	}
	for name, data := range map[string]string{
		"another ticket":        `{"arguments":{"internal_note":"Suggested reply: café <b> & a/b","ticket_id":114,"amount":15,"tags":["b","a"],"meta":{"zz":null,"a":true}}}`,
		"another note":          `{"arguments":{"internal_note":"Suggested reply: cafe <b> & a/b","ticket_id":113,"amount":15,"tags":["b","a"],"meta":{"zz":null,"a":true}}}`,
		"items in other order":  `{"arguments":{"internal_note":"Suggested reply: café <b> & a/b","ticket_id":113,"amount":15,"tags":["a","b"],"meta":{"zz":null,"a":true}}}`,
		"another amount":        `{"arguments":{"internal_note":"Suggested reply: café <b> & a/b","ticket_id":113,"amount":15.01,"tags":["b","a"],"meta":{"zz":null,"a":true}}}`,
		"a member fewer":        `{"arguments":{"internal_note":"Suggested reply: café <b> & a/b","ticket_id":113,"amount":15,"tags":["b","a"],"meta":{"a":true}}}`,
		"a string for a number": `{"arguments":{"internal_note":"Suggested reply: café <b> & a/b","ticket_id":"113","amount":15,"tags":["b","a"],"meta":{"zz":null,"a":true}}}`,
	} {
		require.NotEqual(t, key, withData(data).IdempotencyKey(), name)
	}
}
