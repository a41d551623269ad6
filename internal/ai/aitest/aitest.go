// Package aitest is the conformance kit of ai.Provider implementations: one
// suite of cases that every provider package runs against a fake of its API
// speaking that API's real wire format, plus the assertions the suite is made
// of, for a package's own wire-specific tests.
//
// A provider package runs the suite with a Suite whose NewProvider starts a
// server (httptest) that answers every call with the Case's Reply, encoded
// the way the real API encodes it, both as a whole response and as a stream
// split into several events, or fails the way the Case's Failure says:
//
//	func TestConformance(t *testing.T) {
//		t.Parallel()
//		aitest.Suite{
//			Model: "gpt-4.1-mini",
//			NewProvider: func(t *testing.T, c aitest.Case) ai.Provider {
//				srv := httptest.NewServer(fakeAPI(t, c)) // the package's own fake
//				t.Cleanup(srv.Close)
//				return openai.New(openai.Options{BaseURL: srv.URL, APIKey: "test"})
//			},
//			RetryAfter: true,
//		}.Run(t)
//	}
//
// The suite calls Generate and Stream for every reply and requires both to
// give the Reply exactly (tool-call arguments compared as JSON), the streamed
// pieces to add up to the text, and every failure to be an *ai.Error with the
// code ai.CodeForStatus gives the failure's status. What the fake received
// (the request body) is wire-specific: each package checks it in its own
// tests, with the canonical conversation of ToolConversation.
//
// Production code never imports this package.
package aitest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
)

// Case is one conformance case. Exactly one of Reply and Failure is set.
type Case struct {
	// Name names the subtest.
	Name string
	// Request is what the suite calls the provider with.
	Request ai.Request
	// Reply is what the fake API answers, in its wire format: Text as the
	// assistant's text (streamed in at least two pieces, see Chunks),
	// ToolCalls as its tool calls (arguments streamed in pieces where the
	// wire format splits them), StopReason as the API's own stop or finish
	// reason, Usage as its token counts, Model as the model it names.
	Reply *ai.Response
	// Failure is how the fake API fails instead.
	Failure *Failure
}

// Failure is a failed call as the fake API gives it.
type Failure struct {
	// Status is the HTTP status; the API's error type or code goes with it
	// (for OpenAI the error body's type, for Anthropic the error's type,
	// for Bedrock the x-amzn-ErrorType header), so the provider reads the
	// code ai.CodeForStatus(Status) from it.
	Status int
	// Message is the error body's message.
	Message string
	// RetryAfter, when not zero, goes in the Retry-After header (whole
	// seconds) of an API that sends one.
	RetryAfter time.Duration
	// Hang makes the fake API accept the request and never answer, until
	// the client goes away; the suite calls with a short deadline and
	// expects AI.Timeout.
	Hang bool
}

// Suite runs the conformance cases against one provider.
type Suite struct {
	// Model is the model id the cases ask for and the fake echoes.
	Model string
	// NewProvider returns a provider whose API answers every call with c
	// (c.Reply or c.Failure), in its real wire format. It registers its
	// own cleanup on t.
	NewProvider func(t *testing.T, c Case) ai.Provider
	// RetryAfter says the API sends Retry-After with throttling, so the
	// suite requires the *ai.Error to carry it. Bedrock sends none.
	RetryAfter bool
	// HangDeadline is the deadline of the hanging case; zero means 200ms.
	// The suite asserts the code, never how long the call took.
	HangDeadline time.Duration
}

// Run runs every case of Cases, each in its own parallel subtest, plus the
// checks that Stream stops with onDelta's error and that a cancelled
// context fails the call.
func (s Suite) Run(t *testing.T) {
	t.Helper()
	for _, c := range Cases(s.Model) {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			s.runCase(t, c)
		})
	}
	t.Run("stream stops with onDelta's error", func(t *testing.T) {
		t.Parallel()
		c := Cases(s.Model)[0]
		p := s.NewProvider(t, c)
		stop := errors.New("subscriber gone")
		calls := 0
		_, err := p.Stream(context.Background(), c.Request, func(ai.Delta) error {
			calls++
			return stop
		})
		require.ErrorIs(t, err, stop)
		require.Equal(t, 1, calls, "Stream stops at the first error of onDelta")
	})
	t.Run("cancelled context", func(t *testing.T) {
		t.Parallel()
		c := Cases(s.Model)[0]
		p := s.NewProvider(t, c)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := p.Generate(ctx, c.Request)
		require.Error(t, err)
		require.ErrorIs(t, err, context.Canceled)
		_, err = p.Stream(ctx, c.Request, func(ai.Delta) error { return nil })
		require.Error(t, err)
		require.ErrorIs(t, err, context.Canceled)
	})
}

func (s Suite) runCase(t *testing.T, c Case) {
	t.Helper()
	p := s.NewProvider(t, c)
	require.NotEmpty(t, p.Name(), "a provider has a name")
	switch {
	case c.Reply != nil:
		resp, deltas := RequireGenerateStreamAgree(t, p, c.Request)
		RequireResponse(t, *c.Reply, resp)
		if len(c.Reply.Text) > 40 {
			require.GreaterOrEqual(t, len(deltas), 2, "a long answer streams in pieces")
		}
	case c.Failure != nil && c.Failure.Hang:
		deadline := s.HangDeadline
		if deadline == 0 {
			deadline = 200 * time.Millisecond
		}
		for _, call := range callers(p) {
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			_, err := call.do(ctx, c.Request)
			cancel()
			e := RequireCode(t, err, ai.CodeTimeout)
			require.Equal(t, p.Name(), e.Provider, call.name)
		}
	case c.Failure != nil:
		for _, call := range callers(p) {
			_, err := call.do(context.Background(), c.Request)
			e := RequireCode(t, err, ai.CodeForStatus(c.Failure.Status))
			require.Equal(t, p.Name(), e.Provider, call.name)
			require.Equal(t, c.Failure.Status, e.StatusCode, call.name)
			require.Contains(t, e.Message, c.Failure.Message, call.name)
			if s.RetryAfter {
				require.Equal(t, c.Failure.RetryAfter, e.RetryAfter, call.name)
			}
		}
	default:
		t.Fatalf("case %q has neither a reply nor a failure", c.Name)
	}
}

type caller struct {
	name string
	do   func(context.Context, ai.Request) (ai.Response, error)
}

func callers(p ai.Provider) []caller {
	return []caller{
		{name: "Generate", do: p.Generate},
		{name: "Stream", do: func(ctx context.Context, req ai.Request) (ai.Response, error) {
			return p.Stream(ctx, req, func(ai.Delta) error { return nil })
		}},
	}
}

// LongText is the answer of the plain text case: long enough that a fake
// streams it in several pieces.
const LongText = "The capital of France is Paris. It has been the capital, with short interruptions, since the tenth century."

// Cases returns the conformance cases for model. Providers whose wire
// format cannot tell two stop reasons apart are still covered: the cases
// use only end_turn, tool_use, max_tokens and content_filtered, which every
// supported API distinguishes.
func Cases(model string) []Case {
	conv := ToolConversation(model)
	structured := TextRequest(model, "Classify: my parcel never arrived.")
	structured.Output = &ai.OutputSchema{Name: "triage", Schema: json.RawMessage(TriageSchema)}
	return []Case{
		{
			Name:    "text",
			Request: TextRequest(model, "What is the capital of France?"),
			Reply:   &ai.Response{Text: LongText, StopReason: ai.StopEndTurn, Usage: ai.Usage{InputTokens: 21, OutputTokens: 24}, Model: model},
		},
		{
			Name:    "tool calls",
			Request: conv.First,
			Reply:   &conv.ToolUse,
		},
		{
			Name:    "tool results",
			Request: conv.Second,
			Reply:   &conv.Final,
		},
		{
			Name:    "structured output",
			Request: structured,
			Reply:   &ai.Response{Text: `{"category":"order_status","urgency":"normal","summary":"Parcel never arrived"}`, StopReason: ai.StopEndTurn, Usage: ai.Usage{InputTokens: 80, OutputTokens: 19}, Model: model},
		},
		{
			Name:    "max tokens",
			Request: TextRequest(model, "Write a long poem."),
			Reply:   &ai.Response{Text: "Roses are red, violets are blue, and this poem stops before it is through", StopReason: ai.StopMaxTokens, Usage: ai.Usage{InputTokens: 12, OutputTokens: 16}, Model: model},
		},
		{
			Name:    "content filtered",
			Request: TextRequest(model, "Something the filter refuses."),
			Reply:   &ai.Response{StopReason: ai.StopContentFiltered, Usage: ai.Usage{InputTokens: 9}, Model: model},
		},
		{Name: "throttled", Request: TextRequest(model, "Hi"), Failure: &Failure{Status: 429, Message: "Rate limit reached", RetryAfter: 7 * time.Second}},
		{Name: "auth", Request: TextRequest(model, "Hi"), Failure: &Failure{Status: 401, Message: "Invalid API key"}},
		{Name: "forbidden", Request: TextRequest(model, "Hi"), Failure: &Failure{Status: 403, Message: "No access to this model"}},
		{Name: "invalid request", Request: TextRequest(model, "Hi"), Failure: &Failure{Status: 400, Message: "max_tokens is too large"}},
		{Name: "server error", Request: TextRequest(model, "Hi"), Failure: &Failure{Status: 500, Message: "The server had an error"}},
		{Name: "unavailable", Request: TextRequest(model, "Hi"), Failure: &Failure{Status: 503, Message: "The service is overloaded"}},
		{Name: "hang", Request: TextRequest(model, "Hi"), Failure: &Failure{Hang: true}},
	}
}

// TriageSchema is the output schema of the structured output case (the
// support-triage example's classify step).
const TriageSchema = `{"type":"object","required":["category","urgency","summary"],"additionalProperties":false,` +
	`"properties":{"category":{"type":"string","enum":["refund","order_status","product_question","complaint","other"]},` +
	`"urgency":{"type":"string","enum":["low","normal","high","critical"]},"summary":{"type":"string"}}}`

// TextRequest is a one-message request with a system prompt and sampling
// parameters set, so a fake can check that they arrive.
func TextRequest(model, prompt string) ai.Request {
	temp, topP := 0.2, 0.9
	return ai.Request{
		Model:         model,
		System:        "You answer briefly.",
		Messages:      []ai.Message{{Role: ai.RoleUser, Content: []ai.Part{{Text: prompt}}}},
		Temperature:   &temp,
		TopP:          &topP,
		MaxTokens:     300,
		StopSequences: []string{"\n\nEND"},
	}
}

// Conversation is the canonical tool-use exchange: First asks a question
// with two tools offered, the model answers ToolUse (two calls at once),
// Second is First followed by that answer and both results, and the model
// answers Final.
type Conversation struct {
	First   ai.Request
	ToolUse ai.Response
	Second  ai.Request
	Final   ai.Response
}

// WeatherTool and TimeTool are the tools of the canonical conversation.
var (
	WeatherTool = ai.Tool{
		Name:        "get_weather",
		Description: "The current weather in a city.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city"]}`),
	}
	TimeTool = ai.Tool{
		Name:        "get_time",
		Description: "The local time in a city.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`),
	}
)

// ToolConversation returns the canonical tool-use exchange for model.
func ToolConversation(model string) Conversation {
	first := TextRequest(model, "What is the weather and the time in Paris?")
	first.StopSequences = nil
	first.Tools = []ai.Tool{WeatherTool, TimeTool}
	toolUse := ai.Response{
		Text: "Let me look that up.",
		ToolCalls: []ai.ToolCall{
			{ID: "call_weather_1", Name: "get_weather", Arguments: json.RawMessage(`{"city":"Paris","unit":"celsius"}`)},
			{ID: "call_time_2", Name: "get_time", Arguments: json.RawMessage(`{"city":"Paris"}`)},
		},
		StopReason: ai.StopToolUse,
		Usage:      ai.Usage{InputTokens: 120, OutputTokens: 48},
		Model:      model,
	}
	second := first
	second.Messages = append(append([]ai.Message(nil), first.Messages...),
		ai.Message{Role: ai.RoleAssistant, Content: []ai.Part{
			{Text: toolUse.Text},
			{ToolCall: &toolUse.ToolCalls[0]},
			{ToolCall: &toolUse.ToolCalls[1]},
		}},
		ai.Message{Role: ai.RoleUser, Content: []ai.Part{
			{ToolResult: &ai.ToolResult{CallID: "call_weather_1", Content: `{"temperature":18,"sky":"cloudy"}`}},
			{ToolResult: &ai.ToolResult{CallID: "call_time_2", Content: "clock service unreachable", IsError: true}},
		}},
	)
	final := ai.Response{
		Text:       "It is 18 °C and cloudy in Paris. I could not get the local time.",
		StopReason: ai.StopEndTurn,
		Usage:      ai.Usage{InputTokens: 190, OutputTokens: 22},
		Model:      model,
	}
	return Conversation{First: first, ToolUse: toolUse, Second: second, Final: final}
}

// Chunks splits s into pieces of at most n bytes (never inside a UTF-8
// sequence), for a fake that streams text or tool-call arguments. It
// returns nil for an empty s.
func Chunks(s string, n int) []string {
	if n <= 0 {
		n = 1
	}
	var out []string
	for len(s) > 0 {
		end := min(n, len(s))
		for end < len(s) && end > 0 && !isRuneStart(s[end]) {
			end--
		}
		if end == 0 {
			end = min(n, len(s))
			for end < len(s) && !isRuneStart(s[end]) {
				end++
			}
		}
		out = append(out, s[:end])
		s = s[end:]
	}
	return out
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// RequireGenerateStreamAgree calls Generate and then Stream with req,
// requires both to succeed with the same response and the streamed pieces
// to add up to its text, and returns the response and the pieces.
func RequireGenerateStreamAgree(t *testing.T, p ai.Provider, req ai.Request) (ai.Response, []ai.Delta) {
	t.Helper()
	gen, err := p.Generate(context.Background(), req)
	require.NoError(t, err, "Generate")
	var deltas []ai.Delta
	str, err := p.Stream(context.Background(), req, func(d ai.Delta) error {
		deltas = append(deltas, d)
		return nil
	})
	require.NoError(t, err, "Stream")
	RequireResponse(t, gen, str)
	var text strings.Builder
	for _, d := range deltas {
		text.WriteString(d.Text)
	}
	require.Equal(t, str.Text, text.String(), "the streamed pieces add up to the text")
	return gen, deltas
}

// RequireResponse requires got to equal want, comparing tool-call
// arguments as JSON rather than as bytes.
func RequireResponse(t *testing.T, want, got ai.Response) {
	t.Helper()
	require.Equal(t, want.Text, got.Text, "text")
	require.Equal(t, want.StopReason, got.StopReason, "stop reason")
	require.Equal(t, want.Usage, got.Usage, "usage")
	require.Equal(t, want.Model, got.Model, "model")
	require.Len(t, got.ToolCalls, len(want.ToolCalls), "tool calls")
	for i, w := range want.ToolCalls {
		g := got.ToolCalls[i]
		require.Equal(t, w.ID, g.ID, "tool call %d id", i)
		require.Equal(t, w.Name, g.Name, "tool call %d name", i)
		require.JSONEq(t, string(w.Arguments), string(g.Arguments), "tool call %d arguments", i)
	}
}

// RequireCode requires err to be an *ai.Error with code and returns it.
func RequireCode(t *testing.T, err error, code ai.Code) *ai.Error {
	t.Helper()
	require.Error(t, err)
	var e *ai.Error
	require.ErrorAs(t, err, &e, "every failure is an *ai.Error: %v", err)
	require.Equal(t, code, e.Code, "code of %v", err)
	return e
}
