// Package scripted is the model provider that answers from a script: a
// file of canned turns, so workflows, examples and tests run offline and
// give the same answers every time. It is the default provider of
// aiflow dev.
//
// # The script
//
// A script is YAML (or JSON, which YAML reads too). Each call takes the
// first turn, in file order, that matches the request and is not used up:
//
//	turns:
//	  # A turn with no match answers any request, once.
//	  - reply:
//	      text: Hello.
//
//	  - match:
//	      model: claude-sonnet-4       # the request's model; a "provider/" prefix is ignored on either side
//	      system: research assistant   # a substring of the system prompt
//	      prompt: "Research this"      # a substring of the last user message that has text
//	      tool_result: "\"results\""   # a substring of a tool result of the newest message with any
//	      turn: 2                      # which model turn of the conversation: 1 + the assistant messages so far
//	    delay: 250ms                   # wait before answering (ends early, with AI.Timeout, at ctx's deadline)
//	    chunk_delay: 10ms              # wait between streamed pieces
//	    times: 2                       # how many calls it answers; default 1
//	    reply:
//	      text: Searching again.       # the answer's text; or json: an object, sent as its JSON text
//	      tool_calls:
//	        - id: call_1               # default call_<turn number>_<index>
//	          name: web_search         # matches an offered tool named web_search, research/web_search, research__web_search
//	          arguments: {query: step functions history quota}
//	      stop_reason: tool_use        # default tool_use with tool calls, end_turn without
//	      usage: {input_tokens: 120, output_tokens: 30}   # default: about four characters a token
//	      model: claude-sonnet-4       # default: the request's model
//
//	  - repeat: true                   # answers any number of calls
//	    match: {prompt: "Classify"}
//	    error:                         # fail instead of answering
//	      code: AI.Throttled           # one of the AI.* error names
//	      message: slow down
//	      status: 429                  # the HTTP status to report, optional
//	      retry_after: 2s
//
// Every field of match is optional and all given ones must hold. A turn
// has exactly one of reply and error. When no turn is left for a request,
// the call fails with AI.InvalidRequest naming the model, turn and prompt
// it could not answer, so a missing turn is easy to add.
//
// Stream sends the text in pieces of about one word each, in order. A
// Provider is safe for concurrent use; concurrent calls take turns in the
// order they reach it.
package scripted

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/aiflow/aiflow/internal/ai"
)

// Name is the provider's name, as workflows write it before the model
// ("scripted/anything").
const Name = "scripted"

// Script is a parsed script file.
type Script struct {
	Turns []Turn `yaml:"turns"`
}

// Turn is one canned answer and the requests it answers.
type Turn struct {
	Match      Match      `yaml:"match"`
	Delay      Duration   `yaml:"delay"`
	ChunkDelay Duration   `yaml:"chunk_delay"`
	Times      int        `yaml:"times"`
	Repeat     bool       `yaml:"repeat"`
	Reply      *Reply     `yaml:"reply"`
	Error      *ErrorTurn `yaml:"error"`
}

// Match says which requests a turn answers; empty fields match anything.
type Match struct {
	Model      string `yaml:"model"`
	System     string `yaml:"system"`
	Prompt     string `yaml:"prompt"`
	ToolResult string `yaml:"tool_result"`
	Turn       int    `yaml:"turn"`
}

// Reply is a canned answer.
type Reply struct {
	Text       string         `yaml:"text"`
	JSON       any            `yaml:"json"`
	ToolCalls  []ToolCallTurn `yaml:"tool_calls"`
	StopReason ai.StopReason  `yaml:"stop_reason"`
	Usage      *Usage         `yaml:"usage"`
	Model      string         `yaml:"model"`
}

// Usage is a reply's token counts.
type Usage struct {
	InputTokens  int `yaml:"input_tokens"`
	OutputTokens int `yaml:"output_tokens"`
}

// ToolCallTurn is a canned tool call; Arguments is any YAML/JSON object.
type ToolCallTurn struct {
	ID        string         `yaml:"id"`
	Name      string         `yaml:"name"`
	Arguments map[string]any `yaml:"arguments"`
}

// ErrorTurn is a canned failure.
type ErrorTurn struct {
	Code       ai.Code  `yaml:"code"`
	Message    string   `yaml:"message"`
	Status     int      `yaml:"status"`
	RetryAfter Duration `yaml:"retry_after"`
}

// Duration is a time.Duration written as Go writes one ("250ms", "2s").
type Duration time.Duration

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: decoding duration: %w", n.Line, err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: parsing duration: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// Load reads and parses the script file at path.
func Load(path string) (*Script, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading script: %w", err)
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("parsing script %s: %w", path, err)
	}
	return s, nil
}

// Parse parses a script and checks it: every turn has exactly one of
// reply and error, error codes are AI.* names, tool calls have names, and
// unknown fields are errors.
func Parse(data []byte) (*Script, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Script
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("decoding script: %w", err)
	}
	if len(s.Turns) == 0 {
		return nil, errors.New("checking script: it has no turns")
	}
	for i, t := range s.Turns {
		if err := t.check(); err != nil {
			return nil, fmt.Errorf("checking turn %d: %w", i+1, err)
		}
	}
	return &s, nil
}

func (t Turn) check() error {
	if (t.Reply == nil) == (t.Error == nil) {
		return errors.New("a turn has exactly one of reply and error")
	}
	if t.Times < 0 || t.Delay < 0 || t.ChunkDelay < 0 || t.Match.Turn < 0 {
		return errors.New("times, delays and turn are not negative")
	}
	if t.Repeat && t.Times > 0 {
		return errors.New("a turn has at most one of times and repeat")
	}
	if e := t.Error; e != nil {
		if !slices.Contains(ai.Codes, e.Code) {
			return fmt.Errorf("unknown error code %q (one of %v)", e.Code, ai.Codes)
		}
		if e.RetryAfter < 0 {
			return errors.New("retry_after is not negative")
		}
	}
	if r := t.Reply; r != nil {
		if r.Text != "" && r.JSON != nil {
			return errors.New("a reply has at most one of text and json")
		}
		if r.JSON != nil {
			if _, err := json.Marshal(r.JSON); err != nil {
				return fmt.Errorf("encoding json: %w", err)
			}
		}
		for j, c := range r.ToolCalls {
			if c.Name == "" {
				return fmt.Errorf("tool call %d has no name", j+1)
			}
		}
	}
	return nil
}

// Options configures New.
type Options struct {
	// SleepFunc waits d or until ctx ends, returning ctx's error then; nil
	// means ai.Sleep. Tests pass one that returns at once.
	SleepFunc func(ctx context.Context, d time.Duration) error
}

// Provider answers from a Script. It implements ai.Provider.
type Provider struct {
	turns []Turn
	sleep func(ctx context.Context, d time.Duration) error

	mu   sync.Mutex
	used []int
}

var _ ai.Provider = (*Provider)(nil)

// New returns a provider that answers from s. s is not changed; the
// provider keeps count of the turns it has used.
func New(s *Script, opts Options) *Provider {
	sleep := opts.SleepFunc
	if sleep == nil {
		sleep = ai.Sleep
	}
	return &Provider{turns: slices.Clone(s.Turns), sleep: sleep, used: make([]int, len(s.Turns))}
}

// Name returns "scripted".
func (p *Provider) Name() string { return Name }

// Remaining reports how many calls the script can still answer in all,
// and whether some turn repeats forever.
func (p *Provider) Remaining() (calls int, unlimited bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, t := range p.turns {
		if t.Repeat {
			unlimited = true
			continue
		}
		calls += t.times() - p.used[i]
	}
	return calls, unlimited
}

// Generate answers req with the first matching turn that is left. Its
// errors are *ai.Error: the turn's error, AI.InvalidRequest when no turn
// is left, AI.Timeout when ctx's deadline passes during the turn's delay.
func (p *Provider) Generate(ctx context.Context, req ai.Request) (ai.Response, error) {
	return p.Stream(ctx, req, nil)
}

// Stream is Generate that also hands the text to onDelta in pieces of
// about a word, and stops with onDelta's error if it returns one.
func (p *Provider) Stream(ctx context.Context, req ai.Request, onDelta func(ai.Delta) error) (ai.Response, error) {
	if err := ctx.Err(); err != nil {
		return ai.Response{}, p.ctxError(err)
	}
	turn, n, err := p.take(req)
	if err != nil {
		return ai.Response{}, err
	}
	if err := p.sleep(ctx, time.Duration(turn.Delay)); err != nil {
		return ai.Response{}, p.ctxError(err)
	}
	if e := turn.Error; e != nil {
		msg := e.Message
		if msg == "" {
			msg = "scripted " + string(e.Code)
		}
		return ai.Response{}, &ai.Error{Code: e.Code, Provider: Name, Message: msg, StatusCode: e.Status, RetryAfter: time.Duration(e.RetryAfter)}
	}
	resp := response(*turn.Reply, req, n)
	if onDelta != nil {
		for i, piece := range words(resp.Text) {
			if i > 0 && turn.ChunkDelay > 0 {
				if err := p.sleep(ctx, time.Duration(turn.ChunkDelay)); err != nil {
					return ai.Response{}, p.ctxError(err)
				}
			}
			if err := onDelta(ai.Delta{Text: piece}); err != nil {
				return ai.Response{}, err
			}
		}
	}
	return resp, nil
}

// take claims the first matching turn left and returns it with the
// conversation's turn number.
func (p *Provider) take(req ai.Request) (Turn, int, error) {
	n := turnNumber(req)
	prompt := lastPrompt(req)
	results := lastToolResults(req)
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, t := range p.turns {
		if !t.Repeat && p.used[i] >= t.times() {
			continue
		}
		if !t.Match.matches(req, n, prompt, results) {
			continue
		}
		p.used[i]++
		return t, n, nil
	}
	return Turn{}, 0, &ai.Error{
		Code:     ai.CodeInvalidRequest,
		Provider: Name,
		Message:  fmt.Sprintf("the script has no turn left for model %q, turn %d, prompt %q", req.Model, n, shorten(prompt, 80)),
	}
}

func (t Turn) times() int {
	if t.Times == 0 {
		return 1
	}
	return t.Times
}

func (m Match) matches(req ai.Request, turn int, prompt string, results []string) bool {
	switch {
	case m.Model != "" && !sameModel(m.Model, req.Model):
		return false
	case m.System != "" && !strings.Contains(req.System, m.System):
		return false
	case m.Prompt != "" && !strings.Contains(prompt, m.Prompt):
		return false
	case m.ToolResult != "" && !slices.ContainsFunc(results, func(r string) bool { return strings.Contains(r, m.ToolResult) }):
		return false
	case m.Turn != 0 && m.Turn != turn:
		return false
	}
	return true
}

// sameModel compares model ids with any "provider/" prefix dropped.
func sameModel(a, b string) bool {
	return a == b || stripProvider(a) == stripProvider(b)
}

func stripProvider(model string) string {
	if _, rest, ok := strings.Cut(model, "/"); ok {
		return rest
	}
	return model
}

func turnNumber(req ai.Request) int {
	n := 1
	for _, m := range req.Messages {
		if m.Role == ai.RoleAssistant {
			n++
		}
	}
	return n
}

// lastPrompt is the text of the newest user message that has any: in an
// agent loop, the step's prompt rather than the tool results after it.
func lastPrompt(req ai.Request) string {
	for _, m := range slices.Backward(req.Messages) {
		if m.Role != ai.RoleUser {
			continue
		}
		var b strings.Builder
		for _, part := range m.Content {
			b.WriteString(part.Text)
		}
		if b.Len() > 0 {
			return b.String()
		}
	}
	return ""
}

// lastToolResults are the contents of the tool results of the newest
// message that has any.
func lastToolResults(req ai.Request) []string {
	for _, m := range slices.Backward(req.Messages) {
		var out []string
		for _, part := range m.Content {
			if part.ToolResult != nil {
				out = append(out, part.ToolResult.Content)
			}
		}
		if out != nil {
			return out
		}
	}
	return nil
}

func response(r Reply, req ai.Request, turn int) ai.Response {
	resp := ai.Response{Text: r.Text, StopReason: r.StopReason, Model: r.Model}
	if r.JSON != nil {
		// Checked by Parse.
		b, _ := json.Marshal(r.JSON)
		resp.Text = string(b)
	}
	if resp.Model == "" {
		resp.Model = req.Model
	}
	for i, c := range r.ToolCalls {
		id := c.ID
		if id == "" {
			id = fmt.Sprintf("call_%d_%d", turn, i+1)
		}
		args := []byte("{}")
		if c.Arguments != nil {
			// YAML maps decode to map[string]any, which always encodes.
			args, _ = json.Marshal(c.Arguments)
		}
		resp.ToolCalls = append(resp.ToolCalls, ai.ToolCall{ID: id, Name: toolName(c.Name, req.Tools), Arguments: args})
	}
	if resp.StopReason == "" {
		resp.StopReason = ai.StopEndTurn
		if len(resp.ToolCalls) > 0 {
			resp.StopReason = ai.StopToolUse
		}
	}
	if r.Usage != nil {
		resp.Usage = ai.Usage{InputTokens: r.Usage.InputTokens, OutputTokens: r.Usage.OutputTokens}
	} else {
		resp.Usage = estimateUsage(req, resp)
	}
	return resp
}

// toolName resolves a scripted tool name against the offered tools, so
// "web_search" names the tool a step offers as "research/web_search" or
// "research__web_search".
func toolName(name string, tools []ai.Tool) string {
	var found string
	for _, t := range tools {
		if t.Name == name {
			return name
		}
		if strings.HasSuffix(t.Name, name) {
			rest := t.Name[:len(t.Name)-len(name)]
			if r := rest[len(rest)-1]; !isWordByte(r) {
				if found != "" {
					return name // ambiguous: leave it as written
				}
				found = t.Name
			}
		}
	}
	if found != "" {
		return found
	}
	return name
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// estimateUsage counts about four characters a token, rounded up, so a
// script without usage numbers still gives budgets something to count.
func estimateUsage(req ai.Request, resp ai.Response) ai.Usage {
	in := len(req.System)
	for _, m := range req.Messages {
		for _, part := range m.Content {
			in += len(part.Text)
			if part.ToolCall != nil {
				in += len(part.ToolCall.Name) + len(part.ToolCall.Arguments)
			}
			if part.ToolResult != nil {
				in += len(part.ToolResult.Content)
			}
		}
	}
	for _, t := range req.Tools {
		in += len(t.Name) + len(t.Description) + len(t.InputSchema)
	}
	out := len(resp.Text)
	for _, c := range resp.ToolCalls {
		out += len(c.Name) + len(c.Arguments)
	}
	return ai.Usage{InputTokens: (in + 3) / 4, OutputTokens: (out + 3) / 4}
}

// words splits s after each run of spaces, so every piece but the last
// is a word with the spaces after it.
func words(s string) []string {
	var out []string
	start := 0
	inSpace := false
	for i, r := range s {
		space := unicode.IsSpace(r)
		if inSpace && !space {
			out = append(out, s[start:i])
			start = i
		}
		inSpace = space
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func (p *Provider) ctxError(err error) *ai.Error {
	code := ai.CodeUnavailable
	msg := "call cancelled"
	if errors.Is(err, context.DeadlineExceeded) {
		code, msg = ai.CodeTimeout, "deadline exceeded"
	}
	return &ai.Error{Code: code, Provider: Name, Message: msg, Err: err}
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
