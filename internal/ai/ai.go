// Package ai owns the provider-neutral model call: the request and response
// types every provider package (bedrock, openai, anthropic, scripted)
// translates to and from its own API, the Provider interface they implement,
// and the named errors (AI.Throttled, AI.Timeout, ...) that a workflow's retry
// and catch match.
package ai

import (
	"context"
	"encoding/json"
)

// Role says who wrote a message.
type Role string

// The roles of a conversation. Tool results travel in a user message, as
// Anthropic and Bedrock want them; the OpenAI provider splits them into its
// "tool" messages.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
)

// Message is one turn of a conversation: text, tool calls (assistant) or
// tool results (user), in order.
type Message struct {
	Role    Role   `json:"role"`
	Content []Part `json:"content"`
}

// Part is one piece of a message. Exactly one field is set.
type Part struct {
	Text       string      `json:"text,omitempty"`
	ToolCall   *ToolCall   `json:"tool_call,omitempty"`
	ToolResult *ToolResult `json:"tool_result,omitempty"`
}

// ToolCall is the model asking for a tool to run. Arguments is a JSON object.
type ToolCall struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// ToolResult answers the ToolCall with the same ID. Content is what the model
// reads: text, or JSON as text.
type ToolResult struct {
	CallID  string `json:"call_id"`
	Content string `json:"content"`
	IsError bool   `json:"is_error,omitempty"`
}

// Tool is a tool the model may call. InputSchema is a JSON Schema object.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
}

// OutputSchema asks for a final answer that is JSON valid against Schema.
// Providers with native structured output use it (OpenAI's json_schema
// response format); the others are told in the system prompt. The caller
// validates the answer either way.
type OutputSchema struct {
	Name   string          `json:"name"`
	Schema json.RawMessage `json:"schema"`
}

// Request is one model call. Model is the provider's own model id (for
// Bedrock a model id or an inference profile), without the "provider/"
// prefix a workflow uses.
type Request struct {
	Model         string        `json:"model"`
	System        string        `json:"system,omitempty"`
	Messages      []Message     `json:"messages"`
	Tools         []Tool        `json:"tools,omitempty"`
	Temperature   *float64      `json:"temperature,omitempty"`
	TopP          *float64      `json:"top_p,omitempty"`
	MaxTokens     int           `json:"max_tokens,omitempty"`
	StopSequences []string      `json:"stop_sequences,omitempty"`
	Output        *OutputSchema `json:"output,omitempty"`
}

// StopReason says why the model stopped.
type StopReason string

// The stop reasons, normalised across providers.
const (
	StopEndTurn         StopReason = "end_turn"
	StopToolUse         StopReason = "tool_use"
	StopMaxTokens       StopReason = "max_tokens"
	StopSequence        StopReason = "stop_sequence"
	StopContentFiltered StopReason = "content_filtered"
)

// Usage counts the tokens of one call.
type Usage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

// Add returns the sum of two usages.
func (u Usage) Add(v Usage) Usage {
	return Usage{InputTokens: u.InputTokens + v.InputTokens, OutputTokens: u.OutputTokens + v.OutputTokens}
}

// Response is a model's answer: its text, the tools it asks for, why it
// stopped and what it cost. Model is the model that answered, as the provider
// reports it.
type Response struct {
	Text       string     `json:"text,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	StopReason StopReason `json:"stop_reason"`
	Usage      Usage      `json:"usage"`
	Model      string     `json:"model,omitempty"`
}

// Delta is a piece of a streamed answer, delivered as it arrives.
type Delta struct {
	Text string `json:"text"`
}

// Provider is one model API. Generate and Stream return the same Response for
// the same answer; Stream also calls onDelta for each piece of text as it
// arrives (never concurrently), and stops with onDelta's error if it returns
// one. Both return an *Error for every failure, with the code a workflow's
// retry and catch match, and honour ctx's cancellation and deadline.
type Provider interface {
	Name() string
	Generate(ctx context.Context, req Request) (Response, error)
	Stream(ctx context.Context, req Request, onDelta func(Delta) error) (Response, error)
}
