package steps_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/steps/stepstest"
)

const execID = "arn:aws:states:us-east-1:123456789012:execution:wf:run-1"

// noWait is a Retrier that retries at once.
var noWait = ai.Retrier{MaxAttempts: 3, SleepFunc: func(ctx context.Context, d time.Duration) error { return ctx.Err() }}

// aiMessage is the message of an ai step named summarize.
func aiMessage(t testing.TB, spec map[string]any, data map[string]any) steps.Message {
	t.Helper()
	raw := func(v any) json.RawMessage {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return b
	}
	return steps.Message{
		TaskToken: "tok",
		Execution: steps.Execution{ID: execID, Name: "run-1"},
		Step:      steps.StepInfo{ID: "summarize", Kind: "ai"},
		Spec:      raw(spec),
		Data:      raw(data),
	}
}

func text(s string, in, out int) ai.Response {
	return ai.Response{Text: s, StopReason: ai.StopEndTurn, Usage: ai.Usage{InputTokens: in, OutputTokens: out}}
}

func TestAIBuildsTheRequestAndStreams(t *testing.T) {
	t.Parallel()
	p := &stepstest.Provider{StreamFunc: stepstest.Replies(text("A short summary of the text.", 120, 30))}
	broker := &steps.Broker{}
	sub := broker.Subscribe(execID, 0)
	defer sub.Close()
	h := steps.NewAI(steps.AIConfig{
		Providers: map[string]ai.Provider{"anthropic": p},
		Retrier:   noWait,
		Broker:    broker,
		Prices:    steps.PriceTable{"anthropic/claude-haiku-4-5": {InputPerMillion: 1, OutputPerMillion: 5}},
	})
	res, err := h.Run(context.Background(), aiMessage(t,
		map[string]any{"model": "anthropic/claude-haiku-4-5", "temperature": 0.2, "top_p": 0.9, "max_tokens": 400, "stop": []string{"END"}, "timeout_seconds": 120},
		map[string]any{"system": "You summarize.", "prompt": "Summarize: it rained."}))
	require.NoError(t, err)
	require.Equal(t, "A short summary of the text.", res.Output)
	require.Equal(t, &steps.StepUsage{InputTokens: 120, OutputTokens: 30, CostUSD: 0.00027, Calls: 1, Turns: 1}, res.Usage)

	reqs := p.Requests()
	require.Len(t, reqs, 1)
	temp, topP := 0.2, 0.9
	require.Equal(t, ai.Request{
		Model:         "claude-haiku-4-5",
		System:        "You summarize.",
		Messages:      []ai.Message{{Role: ai.RoleUser, Content: []ai.Part{{Text: "Summarize: it rained."}}}},
		Temperature:   &temp,
		TopP:          &topP,
		MaxTokens:     400,
		StopSequences: []string{"END"},
	}, reqs[0])

	var streamed strings.Builder
	for len(sub.C) > 0 {
		ev := <-sub.C
		require.Equal(t, "summarize", ev.StepID)
		require.Equal(t, 1, ev.Turn)
		streamed.WriteString(ev.Text)
	}
	require.Equal(t, "A short summary of the text.", streamed.String())
}

func TestAIPromptThatIsAValueGoesAsJSON(t *testing.T) {
	t.Parallel()
	p := &stepstest.Provider{}
	h := steps.NewAI(steps.AIConfig{Providers: map[string]ai.Provider{"scripted": p}, DefaultProvider: "scripted", Retrier: noWait})
	_, err := h.Run(context.Background(), aiMessage(t, map[string]any{"model": "any"},
		map[string]any{"prompt": []any{map[string]any{"part": 0, "summary": "x"}}}))
	require.NoError(t, err)
	require.Equal(t, `[{"part":0,"summary":"x"}]`, p.Requests()[0].Messages[0].Content[0].Text)
	require.Empty(t, p.Requests()[0].System)
}

func TestAIRefusesAnUnknownProvider(t *testing.T) {
	t.Parallel()
	h := steps.NewAI(steps.AIConfig{Providers: map[string]ai.Provider{"openai": &stepstest.Provider{}, "scripted": &stepstest.Provider{}}})
	for model, want := range map[string]string{
		"anthropic/claude-haiku-4-5": `needs the provider "anthropic", which this worker does not have (it has: openai, scripted)`,
		"gpt-4.1":                    `names no provider`,
		"openai/":                    `has no model id`,
	} {
		_, err := h.Run(context.Background(), aiMessage(t, map[string]any{"model": model}, map[string]any{"prompt": "hi"}))
		var ae *ai.Error
		require.ErrorAs(t, err, &ae, model)
		require.Equal(t, ai.CodeInvalidRequest, ae.Code)
		require.Contains(t, ae.Message, want)
	}
}

func TestAIRetriesRetryableFailures(t *testing.T) {
	t.Parallel()
	p := &stepstest.Provider{StreamFunc: stepstest.Replies(
		&ai.Error{Code: ai.CodeThrottled, Message: "rate limited", RetryAfter: time.Millisecond},
		text("fine", 10, 2))}
	details := &steps.MemoryDetails{}
	h := steps.NewAI(steps.AIConfig{Providers: map[string]ai.Provider{"openai": p}, Retrier: noWait, Details: details})
	res, err := h.Run(context.Background(), aiMessage(t, map[string]any{"model": "openai/gpt-4.1-mini"}, map[string]any{"prompt": "hi"}))
	require.NoError(t, err)
	require.Equal(t, "fine", res.Output)
	require.Equal(t, 2, res.Usage.Calls)
	d := details.Details(execID)
	require.Len(t, d, 2)
	require.Equal(t, steps.DetailModelCalled, d[0].Type)
	require.Equal(t, 2, d[0].Data.(steps.ModelCall).Attempts)
	require.Equal(t, steps.DetailStepFinished, d[1].Type)
	require.Equal(t, "succeeded", d[1].Data.(steps.StepSummary).Outcome)
}

func TestAIFailsWithTheProvidersCode(t *testing.T) {
	t.Parallel()
	for _, code := range []ai.Code{ai.CodeAuth, ai.CodeInvalidRequest, ai.CodeThrottled} {
		p := &stepstest.Provider{StreamFunc: stepstest.Replies(&ai.Error{Code: code, Provider: "openai", Message: "no"})}
		h := steps.NewAI(steps.AIConfig{Providers: map[string]ai.Provider{"openai": p}, Retrier: noWait})
		_, err := h.Run(context.Background(), aiMessage(t, map[string]any{"model": "openai/m"}, map[string]any{"prompt": "hi"}))
		require.Equal(t, code, ai.CodeOf(err))
	}
	p := &stepstest.Provider{StreamFunc: stepstest.Replies(ai.Response{Text: "", StopReason: ai.StopContentFiltered})}
	h := steps.NewAI(steps.AIConfig{Providers: map[string]ai.Provider{"openai": p}, Retrier: noWait})
	_, err := h.Run(context.Background(), aiMessage(t, map[string]any{"model": "openai/m"}, map[string]any{"prompt": "hi"}))
	require.Equal(t, ai.CodeContentFiltered, ai.CodeOf(err))
}

const summarySchema = `{"type":"object","required":["summary","key_points"],"properties":{"summary":{"type":"string"},"key_points":{"type":"array","items":{"type":"string"},"maxItems":2}}}`

func schemaSpec() map[string]any {
	return map[string]any{"model": "scripted/m", "output_schema": json.RawMessage(summarySchema)}
}

func TestAIStructuredOutput(t *testing.T) {
	t.Parallel()
	p := &stepstest.Provider{StreamFunc: stepstest.Replies(text("Here it is:\n```json\n{\"summary\": \"s\", \"key_points\": [\"a\"]}\n```", 5, 5))}
	h := steps.NewAI(steps.AIConfig{Providers: map[string]ai.Provider{"scripted": p}, Retrier: noWait})
	res, err := h.Run(context.Background(), aiMessage(t, schemaSpec(), map[string]any{"prompt": "hi"}))
	require.NoError(t, err)
	require.JSONEq(t, `{"summary":"s","key_points":["a"]}`, string(res.Output.(json.RawMessage)))
	req := p.Requests()[0]
	require.NotNil(t, req.Output)
	require.Equal(t, "step_summarize", req.Output.Name)
	require.JSONEq(t, summarySchema, string(req.Output.Schema))
}

func TestAIAsksOnceMoreWhenTheAnswerDoesNotFit(t *testing.T) {
	t.Parallel()
	p := &stepstest.Provider{StreamFunc: stepstest.Replies(
		text(`{"summary": "s", "key_points": ["a", "b", "c"]}`, 5, 5),
		text(`{"summary": "s", "key_points": ["a", "b"]}`, 7, 3))}
	h := steps.NewAI(steps.AIConfig{Providers: map[string]ai.Provider{"scripted": p}, Retrier: noWait})
	res, err := h.Run(context.Background(), aiMessage(t, schemaSpec(), map[string]any{"prompt": "hi"}))
	require.NoError(t, err)
	require.JSONEq(t, `{"summary":"s","key_points":["a","b"]}`, string(res.Output.(json.RawMessage)))
	require.Equal(t, &steps.StepUsage{InputTokens: 12, OutputTokens: 8, Calls: 2, Turns: 1}, res.Usage)
	second := p.Requests()[1]
	require.Len(t, second.Messages, 3)
	require.Equal(t, ai.RoleAssistant, second.Messages[1].Role)
	require.Contains(t, second.Messages[2].Content[0].Text, "at /key_points: maxItems: got 3, want 2")
}

// TestAIAsksAgainAfterAnEmptyAnswer: an empty answer is not sent back as
// an assistant turn (the model APIs refuse empty turns); the request to
// answer again says it was empty.
func TestAIAsksAgainAfterAnEmptyAnswer(t *testing.T) {
	t.Parallel()
	p := &stepstest.Provider{StreamFunc: stepstest.Replies(
		text("", 5, 0),
		text(`{"summary": "s", "key_points": ["a"]}`, 7, 3))}
	h := steps.NewAI(steps.AIConfig{Providers: map[string]ai.Provider{"scripted": p}, Retrier: noWait})
	res, err := h.Run(context.Background(), aiMessage(t, schemaSpec(), map[string]any{"prompt": "hi"}))
	require.NoError(t, err)
	require.JSONEq(t, `{"summary":"s","key_points":["a"]}`, string(res.Output.(json.RawMessage)))
	second := p.Requests()[1]
	require.Len(t, second.Messages, 2, "the prompt and the request to answer again, no empty assistant turn")
	require.Equal(t, ai.RoleUser, second.Messages[1].Role)
	require.True(t, strings.HasPrefix(second.Messages[1].Content[0].Text, "Your answer was empty. "), second.Messages[1].Content[0].Text)
}

func TestAIFailsOutputInvalidAfterAskingAgain(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ first, second, want string }{
		"schema":   {`{"summary": 1, "key_points": []}`, `{"summary": "s", "key_points": [3]}`, `at /key_points/0: got number, want string`},
		"not JSON": {`I cannot do that`, `Still no JSON, sorry`, `at /: the answer is not JSON`},
		"missing":  {`{}`, `{"summary": "s"}`, `at /: missing property 'key_points'`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := &stepstest.Provider{StreamFunc: stepstest.Replies(text(tc.first, 1, 1), text(tc.second, 1, 1))}
			h := steps.NewAI(steps.AIConfig{Providers: map[string]ai.Provider{"scripted": p}, Retrier: noWait})
			_, err := h.Run(context.Background(), aiMessage(t, schemaSpec(), map[string]any{"prompt": "hi"}))
			var ae *ai.Error
			require.ErrorAs(t, err, &ae)
			require.Equal(t, ai.CodeOutputInvalid, ae.Code)
			require.Contains(t, ae.Message, tc.want)
			require.Len(t, p.Requests(), 2)
		})
	}
}

func TestAIRefusesAnInvalidSchema(t *testing.T) {
	t.Parallel()
	h := steps.NewAI(steps.AIConfig{Providers: map[string]ai.Provider{"scripted": &stepstest.Provider{}}, Retrier: noWait})
	_, err := h.Run(context.Background(), aiMessage(t, map[string]any{"model": "scripted/m", "output_schema": map[string]any{"type": 12}}, map[string]any{"prompt": "hi"}))
	require.Equal(t, ai.CodeInvalidRequest, ai.CodeOf(err))
}

// weatherTools serves a weather tool and a failing one in process.
func weatherTools(t *testing.T) *steps.InProcessTools {
	t.Helper()
	tools := &steps.InProcessTools{}
	require.NoError(t, tools.Add(steps.ToolInfo{Name: "weather/forecast", Description: "The forecast of a city.",
		InputSchema: json.RawMessage(`{"type":"object","required":["city"],"properties":{"city":{"type":"string"}}}`)},
		func(ctx context.Context, args json.RawMessage) (string, error) {
			var in struct{ City string }
			if err := json.Unmarshal(args, &in); err != nil {
				return "", err
			}
			return fmt.Sprintf(`{"city":%q,"temp_c":18}`, in.City), nil
		}))
	require.NoError(t, tools.Add(steps.ToolInfo{Name: "weather/alerts"}, func(context.Context, json.RawMessage) (string, error) {
		return "", errors.New("the alerts service is down")
	}))
	return tools
}

func toolUse(calls ...ai.ToolCall) ai.Response {
	return ai.Response{ToolCalls: calls, StopReason: ai.StopToolUse, Usage: ai.Usage{InputTokens: 10, OutputTokens: 5}}
}

func TestAIAgentLoop(t *testing.T) {
	t.Parallel()
	p := &stepstest.Provider{StreamFunc: stepstest.Replies(
		toolUse(ai.ToolCall{ID: "c1", Name: "weather__forecast", Arguments: json.RawMessage(`{"city":"Paris"}`)},
			ai.ToolCall{ID: "c2", Name: "weather__alerts", Arguments: json.RawMessage(`{}`)}),
		toolUse(ai.ToolCall{ID: "c3", Name: "nope__tool"}),
		text("It is 18 °C in Paris.", 30, 8))}
	details := &steps.MemoryDetails{}
	h := steps.NewAI(steps.AIConfig{Providers: map[string]ai.Provider{"scripted": p}, Retrier: noWait, Tools: weatherTools(t), Details: details})
	res, err := h.Run(context.Background(), aiMessage(t,
		map[string]any{"model": "scripted/m", "tools": []string{"weather/forecast", "weather/alerts"}, "max_turns": 5},
		map[string]any{"prompt": "Weather in Paris?"}))
	require.NoError(t, err)
	require.Equal(t, "It is 18 °C in Paris.", res.Output)
	require.Equal(t, &steps.StepUsage{InputTokens: 50, OutputTokens: 18, Calls: 3, Turns: 3}, res.Usage)

	reqs := p.Requests()
	require.Len(t, reqs, 3)
	require.Equal(t, []string{"weather__forecast", "weather__alerts"}, []string{reqs[0].Tools[0].Name, reqs[0].Tools[1].Name})
	require.Equal(t, "The forecast of a city.", reqs[0].Tools[0].Description)
	results := reqs[1].Messages[2]
	require.Equal(t, ai.RoleUser, results.Role)
	require.Equal(t, &ai.ToolResult{CallID: "c1", Content: `{"city":"Paris","temp_c":18}`}, results.Content[0].ToolResult)
	require.Equal(t, &ai.ToolResult{CallID: "c2", Content: "the alerts service is down", IsError: true}, results.Content[1].ToolResult)
	unknown := reqs[2].Messages[4].Content[0].ToolResult
	require.True(t, unknown.IsError)
	require.Contains(t, unknown.Content, `there is no tool "nope__tool"`)

	var kinds []string
	for _, d := range details.Details(execID) {
		switch v := d.Data.(type) {
		case steps.ModelCall:
			kinds = append(kinds, fmt.Sprintf("model turn %d", v.Turn))
		case steps.ToolCall:
			kinds = append(kinds, fmt.Sprintf("tool %s turn %d error %t", v.Tool, v.Turn, v.IsError))
		case steps.StepSummary:
			kinds = append(kinds, fmt.Sprintf("finished %s after %d turns", v.Outcome, v.Turns))
		}
	}
	require.Equal(t, []string{
		"model turn 1", "tool weather/forecast turn 1 error false", "tool weather/alerts turn 1 error true",
		"model turn 2", "tool nope__tool turn 2 error true",
		"model turn 3", "finished succeeded after 3 turns",
	}, kinds)
}

func TestAIAgentStopsAtMaxTurns(t *testing.T) {
	t.Parallel()
	p := &stepstest.Provider{StreamFunc: stepstest.Replies(toolUse(ai.ToolCall{ID: "c", Name: "weather__forecast", Arguments: json.RawMessage(`{"city":"Oslo"}`)}))}
	h := steps.NewAI(steps.AIConfig{Providers: map[string]ai.Provider{"scripted": p}, Retrier: noWait, Tools: weatherTools(t)})
	_, err := h.Run(context.Background(), aiMessage(t,
		map[string]any{"model": "scripted/m", "tools": []string{"weather/forecast"}, "max_turns": 3},
		map[string]any{"prompt": "Weather?"}))
	var ae *ai.Error
	require.ErrorAs(t, err, &ae)
	require.Equal(t, steps.CodeMaxTurnsExceeded, ae.Code)
	require.Contains(t, ae.Message, "after 3 turns")
	require.Len(t, p.Requests(), 3)
}

func TestAIAgentNeedsItsTools(t *testing.T) {
	t.Parallel()
	spec := map[string]any{"model": "scripted/m", "tools": []string{"weather/radar"}, "max_turns": 3}
	for name, runner := range map[string]steps.ToolRunner{"no runner": nil, "no such tool": weatherTools(t)} {
		cfg := steps.AIConfig{Providers: map[string]ai.Provider{"scripted": &stepstest.Provider{}}, Retrier: noWait}
		if runner != nil {
			cfg.Tools = runner
		}
		_, err := steps.NewAI(cfg).Run(context.Background(), aiMessage(t, spec, map[string]any{"prompt": "x"}))
		require.Equal(t, steps.CodeToolUnavailable, ai.CodeOf(err), name)
	}
}

func TestAITokenBudgets(t *testing.T) {
	t.Parallel()
	t.Run("step", func(t *testing.T) {
		t.Parallel()
		p := &stepstest.Provider{StreamFunc: stepstest.Replies(
			toolUse(ai.ToolCall{ID: "c", Name: "weather__forecast", Arguments: json.RawMessage(`{"city":"Oslo"}`)}))}
		h := steps.NewAI(steps.AIConfig{Providers: map[string]ai.Provider{"scripted": p}, Retrier: noWait, Tools: weatherTools(t), StepTokenBudget: 40})
		_, err := h.Run(context.Background(), aiMessage(t,
			map[string]any{"model": "scripted/m", "tools": []string{"weather/forecast"}, "max_turns": 10},
			map[string]any{"prompt": "Weather?"}))
		var ae *ai.Error
		require.ErrorAs(t, err, &ae)
		require.Equal(t, ai.CodeBudgetExceeded, ae.Code)
		require.Equal(t, `step "summarize" used 45 tokens, over its budget of 40`, ae.Message)
		require.Len(t, p.Requests(), 3)
	})
	t.Run("execution", func(t *testing.T) {
		t.Parallel()
		details := &steps.MemoryDetails{}
		require.NoError(t, details.RecordDetail(context.Background(), steps.Detail{ExecutionID: execID, Type: steps.DetailModelCalled,
			Data: steps.ModelCall{Step: "earlier", InputTokens: 900, OutputTokens: 80}}))
		p := &stepstest.Provider{StreamFunc: stepstest.Replies(text("hi", 15, 10))}
		h := steps.NewAI(steps.AIConfig{Providers: map[string]ai.Provider{"scripted": p}, Retrier: noWait, Details: details, ExecutionTokenBudget: 1000})
		_, err := h.Run(context.Background(), aiMessage(t, map[string]any{"model": "scripted/m"}, map[string]any{"prompt": "x"}))
		require.Equal(t, ai.CodeBudgetExceeded, ai.CodeOf(err))
		require.ErrorContains(t, err, "the execution used 1005 tokens")

		// Once spent, the next step does not even call the model.
		_, err = h.Run(context.Background(), aiMessage(t, map[string]any{"model": "scripted/m"}, map[string]any{"prompt": "x"}))
		require.Equal(t, ai.CodeBudgetExceeded, ai.CodeOf(err))
		require.Len(t, p.Requests(), 1)
		last := details.Details(execID)
		require.Equal(t, string(ai.CodeBudgetExceeded), last[len(last)-1].Data.(steps.StepSummary).Outcome)
	})
}

func TestAIReportsAMalformedSpec(t *testing.T) {
	t.Parallel()
	h := steps.NewAI(steps.AIConfig{})
	m := aiMessage(t, nil, nil)
	m.Spec = json.RawMessage(`{"model": 3}`)
	_, err := h.Run(context.Background(), m)
	var f *steps.Failure
	require.ErrorAs(t, err, &f)
	require.Equal(t, steps.CodeMalformedMessage, f.Name)
}
