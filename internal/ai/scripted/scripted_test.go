package scripted_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/ai/aitest"
	"github.com/aiflow/aiflow/internal/ai/scripted"
)

// noSleep records the waits it is asked for and returns at once.
type noSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *noSleep) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func newProvider(t *testing.T, src string) (*scripted.Provider, *noSleep) {
	t.Helper()
	s, err := scripted.Parse([]byte(src))
	require.NoError(t, err)
	ns := &noSleep{}
	return scripted.New(s, scripted.Options{SleepFunc: ns.sleep}), ns
}

func prompt(model, text string) ai.Request {
	return ai.Request{Model: model, Messages: []ai.Message{{Role: ai.RoleUser, Content: []ai.Part{{Text: text}}}}}
}

// TestConformance runs the provider kit with scripts that say what each
// case's fake API says; the hanging case uses a real wait of an hour that
// the case's deadline cuts short.
func TestConformance(t *testing.T) {
	t.Parallel()
	aitest.Suite{
		Model: "scripted-model",
		NewProvider: func(t *testing.T, c aitest.Case) ai.Provider {
			turn := scripted.Turn{Repeat: true}
			switch {
			case c.Reply != nil:
				r := &scripted.Reply{
					Text:       c.Reply.Text,
					StopReason: c.Reply.StopReason,
					Usage:      &scripted.Usage{InputTokens: c.Reply.Usage.InputTokens, OutputTokens: c.Reply.Usage.OutputTokens},
					Model:      c.Reply.Model,
				}
				for _, call := range c.Reply.ToolCalls {
					var args map[string]any
					require.NoError(t, json.Unmarshal(call.Arguments, &args))
					r.ToolCalls = append(r.ToolCalls, scripted.ToolCallTurn{ID: call.ID, Name: call.Name, Arguments: args})
				}
				turn.Reply = r
			case c.Failure.Hang:
				turn.Delay = scripted.Duration(time.Hour)
				turn.Reply = &scripted.Reply{Text: "too late"}
			default:
				turn.Error = &scripted.ErrorTurn{
					Code:       ai.CodeForStatus(c.Failure.Status),
					Message:    c.Failure.Message,
					Status:     c.Failure.Status,
					RetryAfter: scripted.Duration(c.Failure.RetryAfter),
				}
			}
			return scripted.New(&scripted.Script{Turns: []scripted.Turn{turn}}, scripted.Options{})
		},
		RetryAfter: true,
	}.Run(t)
}

func TestTurnsAreTakenInOrderAndRunOut(t *testing.T) {
	t.Parallel()
	p, _ := newProvider(t, `
turns:
  - reply: {text: first}
  - times: 2
    reply: {text: second}
`)
	for _, want := range []string{"first", "second", "second"} {
		resp, err := p.Generate(context.Background(), prompt("m", "hi"))
		require.NoError(t, err)
		require.Equal(t, want, resp.Text)
	}
	calls, unlimited := p.Remaining()
	require.Zero(t, calls)
	require.False(t, unlimited)

	_, err := p.Generate(context.Background(), prompt("gpt-4.1-mini", "and now?"))
	e := aitest.RequireCode(t, err, ai.CodeInvalidRequest)
	require.Equal(t, "scripted", e.Provider)
	require.Equal(t, `the script has no turn left for model "gpt-4.1-mini", turn 1, prompt "and now?"`, e.Message)
}

func TestMatch(t *testing.T) {
	t.Parallel()
	p, _ := newProvider(t, `
turns:
  - repeat: true
    match: {model: claude-sonnet-4, prompt: "Research"}
    reply: {text: by model and prompt}
  - repeat: true
    match: {system: triage}
    reply: {text: by system}
  - repeat: true
    match: {tool_result: '"temperature"', turn: 2}
    reply: {text: by tool result}
  - repeat: true
    reply: {text: anything else}
`)
	req := func(model, system, text string) ai.Request {
		r := prompt(model, text)
		r.System = system
		return r
	}
	conv := aitest.ToolConversation("gpt")
	for _, tc := range []struct {
		name string
		req  ai.Request
		want string
	}{
		{"model with prefix", req("anthropic/claude-sonnet-4", "", "Research this question: why?"), "by model and prompt"},
		{"model without prefix", req("claude-sonnet-4", "", "Research this"), "by model and prompt"},
		{"other model", req("claude-haiku-4-5", "", "Research this"), "anything else"},
		{"system", req("x", "You triage messages.", "hello"), "by system"},
		{"tool result on turn 2", conv.Second, "by tool result"},
		{"turn 1", conv.First, "anything else"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, err := p.Generate(context.Background(), tc.req)
			require.NoError(t, err)
			require.Equal(t, tc.want, resp.Text)
		})
	}
	_, unlimited := p.Remaining()
	require.True(t, unlimited)
}

func TestPromptIsTheLastUserTextBeforeToolResults(t *testing.T) {
	t.Parallel()
	p, _ := newProvider(t, `
turns:
  - match: {prompt: "What is the weather", turn: 2}
    reply: {text: found it}
`)
	resp, err := p.Generate(context.Background(), aitest.ToolConversation("m").Second)
	require.NoError(t, err)
	require.Equal(t, "found it", resp.Text)
}

func TestReplyDefaults(t *testing.T) {
	t.Parallel()
	p, _ := newProvider(t, `
turns:
  - reply:
      tool_calls:
        - name: web_search
          arguments: {query: step functions, max_results: 3}
        - name: get_time
  - reply:
      json: {category: refund, urgency: high, tags: [a, b]}
`)
	req := prompt("claude", "hi")
	req.Tools = []ai.Tool{{Name: "research/web_search"}, {Name: "get_time"}, {Name: "research__fetch_page"}}
	resp, err := p.Generate(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, ai.StopToolUse, resp.StopReason)
	require.Equal(t, "claude", resp.Model)
	require.Len(t, resp.ToolCalls, 2)
	require.Equal(t, "call_1_1", resp.ToolCalls[0].ID)
	require.Equal(t, "research/web_search", resp.ToolCalls[0].Name)
	require.JSONEq(t, `{"query":"step functions","max_results":3}`, string(resp.ToolCalls[0].Arguments))
	require.Equal(t, "get_time", resp.ToolCalls[1].Name)
	require.JSONEq(t, `{}`, string(resp.ToolCalls[1].Arguments))
	require.Positive(t, resp.Usage.InputTokens)
	require.Positive(t, resp.Usage.OutputTokens)

	resp, err = p.Generate(context.Background(), prompt("claude", "hi"))
	require.NoError(t, err)
	require.Equal(t, ai.StopEndTurn, resp.StopReason)
	require.JSONEq(t, `{"category":"refund","urgency":"high","tags":["a","b"]}`, resp.Text)
	require.Equal(t, ai.Usage{InputTokens: 1, OutputTokens: (len(resp.Text) + 3) / 4}, resp.Usage)
}

func TestAmbiguousToolNameIsLeftAsWritten(t *testing.T) {
	t.Parallel()
	p, _ := newProvider(t, `
turns:
  - reply:
      tool_calls: [{name: search}]
`)
	req := prompt("m", "hi")
	req.Tools = []ai.Tool{{Name: "kb/search"}, {Name: "web/search"}, {Name: "research"}}
	resp, err := p.Generate(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, "search", resp.ToolCalls[0].Name)
}

func TestStreamSendsWordsAndWaitsBetweenThem(t *testing.T) {
	t.Parallel()
	p, ns := newProvider(t, `
turns:
  - delay: 2s
    chunk_delay: 10ms
    reply: {text: "It is  18 °C\nin Paris."}
`)
	var pieces []string
	resp, err := p.Stream(context.Background(), prompt("m", "hi"), func(d ai.Delta) error {
		pieces = append(pieces, d.Text)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{"It ", "is  ", "18 ", "°C\n", "in ", "Paris."}, pieces)
	require.Equal(t, strings.Join(pieces, ""), resp.Text)
	require.Equal(t, []time.Duration{2 * time.Second, 10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond}, ns.waits)
}

func TestErrorTurn(t *testing.T) {
	t.Parallel()
	p, _ := newProvider(t, `
turns:
  - error: {code: AI.Throttled, message: slow down, status: 429, retry_after: 1500ms}
  - error: {code: AI.ContentFiltered}
  - reply: {text: ok}
`)
	_, err := p.Generate(context.Background(), prompt("m", "hi"))
	e := aitest.RequireCode(t, err, ai.CodeThrottled)
	require.Equal(t, 1500*time.Millisecond, e.RetryAfter)
	require.Equal(t, 429, e.StatusCode)
	require.Equal(t, "AI.Throttled: scripted: slow down", e.Error())

	_, err = p.Generate(context.Background(), prompt("m", "hi"))
	aitest.RequireCode(t, err, ai.CodeContentFiltered)

	// With the Retrier, as a step uses it: the throttled turn is retried.
	p2, _ := newProvider(t, `
turns:
  - error: {code: AI.Throttled, retry_after: 3s}
  - error: {code: AI.Unavailable}
  - reply: {text: third time}
`)
	var slept []time.Duration
	r := ai.Retrier{
		MaxAttempts: 3,
		SleepFunc:   func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil },
		RandFunc:    func(int64) int64 { return 0 },
	}
	res, err := r.DoResult(context.Background(), func(ctx context.Context) (ai.Response, error) {
		return p2.Generate(ctx, prompt("m", "hi"))
	})
	require.NoError(t, err)
	require.Equal(t, "third time", res.Response.Text)
	require.Equal(t, 3, res.Attempts)
	require.Equal(t, []time.Duration{3 * time.Second, 0}, slept)
}

func TestDelayHonoursContext(t *testing.T) {
	t.Parallel()
	s, err := scripted.Parse([]byte("turns:\n  - delay: 1h\n    reply: {text: late}\n"))
	require.NoError(t, err)
	p := scripted.New(s, scripted.Options{SleepFunc: func(ctx context.Context, d time.Duration) error {
		<-ctx.Done()
		return ctx.Err()
	}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = p.Stream(ctx, prompt("m", "hi"), nil)
	require.ErrorIs(t, err, context.Canceled)

	ctx, cancel = context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	_, err = p.Generate(ctx, prompt("m", "hi"))
	aitest.RequireCode(t, err, ai.CodeTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestConcurrentCallsTakeEachTurnOnce(t *testing.T) {
	t.Parallel()
	var src strings.Builder
	src.WriteString("turns:\n")
	const n = 50
	for i := range n {
		fmt.Fprintf(&src, "  - reply: {text: \"answer %d\"}\n", i)
	}
	p, _ := newProvider(t, src.String())
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	for range n {
		wg.Go(func() {
			resp, err := p.Stream(context.Background(), prompt("m", "hi"), func(ai.Delta) error { return nil })
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			seen[resp.Text] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	require.Len(t, seen, n)
	_, err := p.Generate(context.Background(), prompt("m", "hi"))
	aitest.RequireCode(t, err, ai.CodeInvalidRequest)
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, src, want string }{
		{"empty", "turns: []", "it has no turns"},
		{"neither", "turns:\n  - match: {prompt: x}\n", "turn 1: a turn has exactly one of reply and error"},
		{"both", "turns:\n  - reply: {text: a}\n    error: {code: AI.Auth}\n", "turn 1: a turn has exactly one of reply and error"},
		{"unknown code", "turns:\n  - error: {code: AI.Nope}\n", `unknown error code "AI.Nope"`},
		{"unknown field", "turns:\n  - reply: {txt: a}\n", "field txt not found"},
		{"bad duration", "turns:\n  - delay: soon\n    reply: {text: a}\n", `line 2: parsing duration: time: invalid duration "soon"`},
		{"text and json", "turns:\n  - reply: {text: a, json: {b: 1}}\n", "at most one of text and json"},
		{"nameless tool", "turns:\n  - reply: {tool_calls: [{id: x}]}\n", "tool call 1 has no name"},
		{"times and repeat", "turns:\n  - {times: 2, repeat: true, reply: {text: a}}\n", "at most one of times and repeat"},
		{"negative", "turns:\n  - {times: -1, reply: {text: a}}\n", "not negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := scripted.Parse([]byte(tc.src))
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestParseJSON(t *testing.T) {
	t.Parallel()
	p, _ := newProvider(t, `{"turns":[{"match":{"turn":1},"reply":{"text":"from JSON","usage":{"input_tokens":3,"output_tokens":2}}}]}`)
	resp, err := p.Generate(context.Background(), prompt("m", "hi"))
	require.NoError(t, err)
	require.Equal(t, "from JSON", resp.Text)
	require.Equal(t, ai.Usage{InputTokens: 3, OutputTokens: 2}, resp.Usage)
}

func TestLoad(t *testing.T) {
	t.Parallel()
	_, err := scripted.Load("testdata/does-not-exist.yaml")
	require.ErrorContains(t, err, "reading script")
	require.ErrorIs(t, err, fs.ErrNotExist)
}

func ExampleProvider_Stream() {
	s, err := scripted.Parse([]byte(`
turns:
  - match: {prompt: capital of France}
    reply:
      text: Paris is the capital of France.
      usage: {input_tokens: 12, output_tokens: 7}
`))
	if err != nil {
		panic(err)
	}
	p := scripted.New(s, scripted.Options{})
	req := ai.Request{Model: "any", Messages: []ai.Message{{Role: ai.RoleUser, Content: []ai.Part{{Text: "What is the capital of France?"}}}}}
	resp, err := p.Stream(context.Background(), req, func(d ai.Delta) error {
		fmt.Printf("%q\n", d.Text)
		return nil
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.StopReason, resp.Usage.InputTokens, resp.Usage.OutputTokens)
	// Output:
	// "Paris "
	// "is "
	// "the "
	// "capital "
	// "of "
	// "France."
	// end_turn 12 7
}

func BenchmarkStream(b *testing.B) {
	b.ReportAllocs()
	s, err := scripted.Parse([]byte("turns:\n  - repeat: true\n    match: {prompt: Classify}\n    reply: {json: {category: refund, urgency: high, summary: Wants a refund for a late parcel.}}\n"))
	if err != nil {
		b.Fatal(err)
	}
	p := scripted.New(s, scripted.Options{})
	req := prompt("gpt-4.1-mini", "Classify this message from a customer: where is my refund?")
	ctx := context.Background()
	for b.Loop() {
		if _, err := p.Stream(ctx, req, func(ai.Delta) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDocsScriptParses keeps the format shown in docs/ai-providers.md
// working: its script parses and answers as the comments say.
func TestDocsScriptParses(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../../docs/ai-providers.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(doc), "## Scripted")
	require.True(t, ok)
	_, block, ok := strings.Cut(section, "```yaml\n")
	require.True(t, ok)
	block, _, ok = strings.Cut(block, "```")
	require.True(t, ok)
	p, ns := newProvider(t, block)

	resp, err := p.Generate(context.Background(), prompt("m", "anything"))
	require.NoError(t, err)
	require.Equal(t, "Hello.", resp.Text)

	req := prompt("anthropic/claude-sonnet-4", "Research this question")
	req.System = "You are a research assistant."
	req.Tools = []ai.Tool{{Name: "research/web_search"}}
	call := ai.ToolCall{ID: "c1", Name: "research/web_search", Arguments: []byte(`{}`)}
	req.Messages = append(req.Messages,
		ai.Message{Role: ai.RoleAssistant, Content: []ai.Part{{ToolCall: &call}}},
		ai.Message{Role: ai.RoleUser, Content: []ai.Part{{ToolResult: &ai.ToolResult{CallID: "c1", Content: `{"results":[]}`}}}},
	)
	resp, err = p.Generate(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, "Searching again.", resp.Text)
	require.Equal(t, "research/web_search", resp.ToolCalls[0].Name)
	require.Equal(t, []time.Duration{0, 250 * time.Millisecond}, ns.waits)

	_, err = p.Generate(context.Background(), prompt("m", "Classify this"))
	e := aitest.RequireCode(t, err, ai.CodeThrottled)
	require.Equal(t, 2*time.Second, e.RetryAfter)
}
