// Package stepstest holds test doubles of the step runtime's ports: a model
// provider with canned replies, and task callbacks that record what they
// were sent. Production code never imports it.
package stepstest

import (
	"context"
	"sync"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/sfn"
)

// Provider is an ai.Provider whose calls go to StreamFunc (and Generate's
// to GenerateFunc, or to StreamFunc without deltas). It records every
// request. The zero value answers "ok".
type Provider struct {
	// ProviderName is what Name returns; empty means "fake".
	ProviderName string
	GenerateFunc func(ctx context.Context, req ai.Request) (ai.Response, error)
	StreamFunc   func(ctx context.Context, req ai.Request, onDelta func(ai.Delta) error) (ai.Response, error)

	mu       sync.Mutex
	requests []ai.Request
}

var _ ai.Provider = (*Provider)(nil)

// Name returns ProviderName or "fake".
func (p *Provider) Name() string {
	if p.ProviderName == "" {
		return "fake"
	}
	return p.ProviderName
}

// Generate records req and calls GenerateFunc, or StreamFunc.
func (p *Provider) Generate(ctx context.Context, req ai.Request) (ai.Response, error) {
	p.note(req)
	if p.GenerateFunc != nil {
		return p.GenerateFunc(ctx, req)
	}
	return p.stream(ctx, req, func(ai.Delta) error { return nil })
}

// Stream records req and calls StreamFunc.
func (p *Provider) Stream(ctx context.Context, req ai.Request, onDelta func(ai.Delta) error) (ai.Response, error) {
	p.note(req)
	return p.stream(ctx, req, onDelta)
}

func (p *Provider) stream(ctx context.Context, req ai.Request, onDelta func(ai.Delta) error) (ai.Response, error) {
	if p.StreamFunc != nil {
		return p.StreamFunc(ctx, req, onDelta)
	}
	return Stream(ai.Response{Text: "ok", StopReason: ai.StopEndTurn}, onDelta)
}

func (p *Provider) note(req ai.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests = append(p.requests, req)
}

// Requests returns the requests made so far.
func (p *Provider) Requests() []ai.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ai.Request(nil), p.requests...)
}

// Stream delivers resp's text to onDelta in pieces of up to 8 bytes, as a
// provider streams it, and returns resp.
func Stream(resp ai.Response, onDelta func(ai.Delta) error) (ai.Response, error) {
	text := resp.Text
	for len(text) > 0 {
		n := min(8, len(text))
		for n < len(text) && text[n]&0xC0 == 0x80 {
			n++
		}
		if err := onDelta(ai.Delta{Text: text[:n]}); err != nil {
			return ai.Response{}, err
		}
		text = text[n:]
	}
	return resp, nil
}

// Replies returns a StreamFunc that answers the calls in order with
// replies, each a Response or an error; calls past the end get the last.
func Replies(replies ...any) func(ctx context.Context, req ai.Request, onDelta func(ai.Delta) error) (ai.Response, error) {
	var mu sync.Mutex
	i := 0
	return func(ctx context.Context, req ai.Request, onDelta func(ai.Delta) error) (ai.Response, error) {
		mu.Lock()
		r := replies[min(i, len(replies)-1)]
		i++
		mu.Unlock()
		switch r := r.(type) {
		case error:
			return ai.Response{}, r
		case ai.Response:
			return Stream(r, onDelta)
		}
		panic("stepstest.Replies takes ai.Response and error values")
	}
}

// Callbacks records the callbacks of a step runtime. Each XxxFunc, if set,
// answers the call after it is recorded; otherwise the call succeeds.
type Callbacks struct {
	SendTaskSuccessFunc   func(ctx context.Context, in sfn.SendTaskSuccessInput) error
	SendTaskFailureFunc   func(ctx context.Context, in sfn.SendTaskFailureInput) error
	SendTaskHeartbeatFunc func(ctx context.Context, token string) error

	mu         sync.Mutex
	successes  []sfn.SendTaskSuccessInput
	failures   []sfn.SendTaskFailureInput
	heartbeats []string
}

// SendTaskSuccess records in.
func (c *Callbacks) SendTaskSuccess(ctx context.Context, in sfn.SendTaskSuccessInput) error {
	c.mu.Lock()
	c.successes = append(c.successes, in)
	c.mu.Unlock()
	if c.SendTaskSuccessFunc != nil {
		return c.SendTaskSuccessFunc(ctx, in)
	}
	return nil
}

// SendTaskFailure records in.
func (c *Callbacks) SendTaskFailure(ctx context.Context, in sfn.SendTaskFailureInput) error {
	c.mu.Lock()
	c.failures = append(c.failures, in)
	c.mu.Unlock()
	if c.SendTaskFailureFunc != nil {
		return c.SendTaskFailureFunc(ctx, in)
	}
	return nil
}

// SendTaskHeartbeat records token.
func (c *Callbacks) SendTaskHeartbeat(ctx context.Context, token string) error {
	c.mu.Lock()
	c.heartbeats = append(c.heartbeats, token)
	c.mu.Unlock()
	if c.SendTaskHeartbeatFunc != nil {
		return c.SendTaskHeartbeatFunc(ctx, token)
	}
	return nil
}

// Successes returns the SendTaskSuccess calls so far.
func (c *Callbacks) Successes() []sfn.SendTaskSuccessInput {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]sfn.SendTaskSuccessInput(nil), c.successes...)
}

// Failures returns the SendTaskFailure calls so far.
func (c *Callbacks) Failures() []sfn.SendTaskFailureInput {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]sfn.SendTaskFailureInput(nil), c.failures...)
}

// Heartbeats returns the tokens of the SendTaskHeartbeat calls so far.
func (c *Callbacks) Heartbeats() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.heartbeats...)
}
