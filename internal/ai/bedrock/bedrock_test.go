package bedrock_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/ai/aitest"
	"github.com/aiflow/aiflow/internal/ai/bedrock"
)

const profileARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0"

// toolUseResponse is a Converse response with text and a tool call, in the
// shape of the API reference's example.
const toolUseResponse = `{
	"output": {
		"message": {
			"role": "assistant",
			"content": [
				{"text": "I'll look up the most popular song on WZPZ."},
				{"toolUse": {"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "name": "top_song", "input": {"sign": "WZPZ", "limit": 12345678901234567890}}}
			]
		}
	},
	"stopReason": "tool_use",
	"usage": {"inputTokens": 375, "outputTokens": 58, "totalTokens": 433, "cacheReadInputTokens": 25, "cacheWriteInputTokens": 0},
	"metrics": {"latencyMs": 1549}
}`

func radioRequest() ai.Request {
	temperature, topP := 0.5, 0.9
	return ai.Request{
		Model:  profileARN,
		System: "You are a radio assistant.",
		Messages: []ai.Message{
			{Role: ai.RoleUser, Content: []ai.Part{{Text: "What is the most popular song on WZPZ and on WKRP?"}}},
			{Role: ai.RoleAssistant, Content: []ai.Part{
				{Text: "Let me check WKRP first."},
				{ToolCall: &ai.ToolCall{ID: "tooluse_WKRP", Name: "top_song", Arguments: json.RawMessage(`{"sign":"WKRP","limit":12345678901234567890}`)}},
			}},
			{Role: ai.RoleUser, Content: []ai.Part{
				{ToolResult: &ai.ToolResult{CallID: "tooluse_WKRP", Content: "Elemental Hotel by 8 Storey Hike"}},
			}},
		},
		Tools: []ai.Tool{{
			Name:        "top_song",
			Description: "Get the most popular song played on a radio station.",
			InputSchema: json.RawMessage(`{"type":"object","properties":{"sign":{"type":"string","description":"The call sign for the radio station."}},"required":["sign"]}`),
		}},
		Temperature:   &temperature,
		TopP:          &topP,
		MaxTokens:     512,
		StopSequences: []string{"\n\nHuman:"},
	}
}

func wantRadioResponse() ai.Response {
	return ai.Response{
		Text: "I'll look up the most popular song on WZPZ.",
		ToolCalls: []ai.ToolCall{{
			ID: "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", Name: "top_song",
			Arguments: json.RawMessage(`{"sign": "WZPZ", "limit": 12345678901234567890}`),
		}},
		StopReason: ai.StopToolUse,
		Usage:      ai.Usage{InputTokens: 400, OutputTokens: 58},
		Model:      profileARN,
	}
}

// radioFrames is wantRadioResponse as ConverseStream sends it.
func radioFrames() []frame {
	return []frame{
		event("messageStart", map[string]any{"role": "assistant"}),
		event("contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": map[string]any{"text": "I'll look up the most"}}),
		event("contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": map[string]any{"text": " popular song on WZPZ."}}),
		event("contentBlockStop", map[string]any{"contentBlockIndex": 0}),
		event("contentBlockStart", map[string]any{"contentBlockIndex": 1, "start": map[string]any{"toolUse": map[string]any{"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "name": "top_song"}}}),
		event("contentBlockDelta", map[string]any{"contentBlockIndex": 1, "delta": map[string]any{"toolUse": map[string]any{"input": `{"sign": "W`}}}),
		event("contentBlockDelta", map[string]any{"contentBlockIndex": 1, "delta": map[string]any{"toolUse": map[string]any{"input": `ZPZ", "limit": 1234567890`}}}),
		event("contentBlockDelta", map[string]any{"contentBlockIndex": 1, "delta": map[string]any{"toolUse": map[string]any{"input": `1234567890}`}}}),
		event("contentBlockStop", map[string]any{"contentBlockIndex": 1}),
		event("messageStop", map[string]any{"stopReason": "tool_use"}),
		event("metadata", map[string]any{
			"usage":   map[string]any{"inputTokens": 375, "outputTokens": 58, "totalTokens": 433, "cacheReadInputTokens": 25},
			"metrics": map[string]any{"latencyMs": 1549},
		}),
	}
}

// wantRadioBody is the body Converse and ConverseStream receive for
// radioRequest.
const wantRadioBody = `{
	"system": [{"text": "You are a radio assistant."}],
	"messages": [
		{"role": "user", "content": [{"text": "What is the most popular song on WZPZ and on WKRP?"}]},
		{"role": "assistant", "content": [
			{"text": "Let me check WKRP first."},
			{"toolUse": {"toolUseId": "tooluse_WKRP", "name": "top_song", "input": {"sign": "WKRP", "limit": 12345678901234567890}}}
		]},
		{"role": "user", "content": [
			{"toolResult": {"toolUseId": "tooluse_WKRP", "content": [{"text": "Elemental Hotel by 8 Storey Hike"}]}}
		]}
	],
	"toolConfig": {"tools": [{"toolSpec": {
		"name": "top_song",
		"description": "Get the most popular song played on a radio station.",
		"inputSchema": {"json": {"type": "object", "properties": {"sign": {"type": "string", "description": "The call sign for the radio station."}}, "required": ["sign"]}}
	}}]},
	"inferenceConfig": {"maxTokens": 512, "temperature": 0.5, "topP": 0.9, "stopSequences": ["\n\nHuman:"]}
}`

func TestGenerate(t *testing.T) {
	t.Parallel()
	b := setup(t, converseReply(toolUseResponse))

	resp, err := b.provider.Generate(context.Background(), radioRequest())
	require.NoError(t, err)
	aitest.RequireResponse(t, wantRadioResponse(), resp)
	require.Contains(t, string(resp.ToolCalls[0].Arguments), "12345678901234567890", "numbers arrive as written")

	got := b.fake.only(t)
	require.Equal(t, "converse", got.operation)
	require.Equal(t, profileARN, got.modelID)
	require.Contains(t, got.rawPath, "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic", "the ARN is one escaped path segment")
	require.JSONEq(t, wantRadioBody, string(got.body))
	require.Contains(t, string(got.body), "12345678901234567890", "numbers are sent as written")
	require.Equal(t, "application/json", got.header.Get("Content-Type"))
	auth := got.header.Get("Authorization")
	require.True(t, strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), auth)
	require.Contains(t, auth, "/us-east-1/bedrock/aws4_request")
}

func TestStream(t *testing.T) {
	t.Parallel()
	b := setup(t, streamReply(t, radioFrames(), false))

	var deltas []string
	resp, err := b.provider.Stream(context.Background(), radioRequest(), func(d ai.Delta) error {
		deltas = append(deltas, d.Text)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{"I'll look up the most", " popular song on WZPZ."}, deltas)
	aitest.RequireResponse(t, wantRadioResponse(), resp)

	got := b.fake.only(t)
	require.Equal(t, "converse-stream", got.operation)
	require.Equal(t, profileARN, got.modelID)
	require.JSONEq(t, wantRadioBody, string(got.body))
}

func TestRequestFields(t *testing.T) {
	t.Parallel()

	t.Run("Minimal", func(t *testing.T) {
		t.Parallel()
		b := setup(t, converseReply(toolUseResponse))
		_, err := b.provider.Generate(context.Background(), ai.Request{
			Model:    "anthropic.claude-3-haiku-20240307-v1:0",
			Messages: []ai.Message{{Role: ai.RoleUser, Content: []ai.Part{{Text: "Hi"}}}},
		})
		require.NoError(t, err)
		got := b.fake.only(t)
		require.Equal(t, "anthropic.claude-3-haiku-20240307-v1:0", got.modelID)
		require.JSONEq(t, `{"messages": [{"role": "user", "content": [{"text": "Hi"}]}]}`, string(got.body))
	})

	t.Run("OutputSchemaInTheSystemPrompt", func(t *testing.T) {
		t.Parallel()
		b := setup(t, converseReply(toolUseResponse))
		req := radioRequest()
		req.Output = &ai.OutputSchema{Name: "song", Schema: json.RawMessage(`{"type":"object","properties":{"title":{"type":"string"}},"required":["title"]}`)}
		_, err := b.provider.Generate(context.Background(), req)
		require.NoError(t, err)
		var body struct {
			System []struct {
				Text string `json:"text"`
			} `json:"system"`
		}
		require.NoError(t, json.Unmarshal(b.fake.only(t).body, &body))
		require.Len(t, body.System, 1)
		text := body.System[0].Text
		require.True(t, strings.HasPrefix(text, "You are a radio assistant.\n\n"), text)
		require.Contains(t, text, `"song"`)
		require.True(t, strings.HasSuffix(text, string(req.Output.Schema)), text)
	})

	t.Run("EmptyTextLeftOut", func(t *testing.T) {
		t.Parallel()
		b := setup(t, converseReply(toolUseResponse))
		req := radioRequest()
		req.Messages[1].Content[0].Text = ""
		_, err := b.provider.Generate(context.Background(), req)
		require.NoError(t, err)
		var body struct {
			Messages []json.RawMessage `json:"messages"`
		}
		require.NoError(t, json.Unmarshal(b.fake.only(t).body, &body))
		require.JSONEq(t, `{"role": "assistant", "content": [
			{"toolUse": {"toolUseId": "tooluse_WKRP", "name": "top_song", "input": {"sign": "WKRP", "limit": 12345678901234567890}}}
		]}`, string(body.Messages[1]))
	})

	t.Run("ToolResultError", func(t *testing.T) {
		t.Parallel()
		b := setup(t, converseReply(toolUseResponse))
		req := radioRequest()
		req.Messages[2].Content[0].ToolResult.IsError = true
		_, err := b.provider.Generate(context.Background(), req)
		require.NoError(t, err)
		var body struct {
			Messages []json.RawMessage `json:"messages"`
		}
		require.NoError(t, json.Unmarshal(b.fake.only(t).body, &body))
		require.JSONEq(t, `{"role": "user", "content": [
			{"toolResult": {"toolUseId": "tooluse_WKRP", "status": "error", "content": [{"text": "Elemental Hotel by 8 Storey Hike"}]}}
		]}`, string(body.Messages[2]))
	})
}

func TestInvalidRequest(t *testing.T) {
	t.Parallel()
	for name, mutate := range map[string]func(*ai.Request){
		"NoModel":           func(r *ai.Request) { r.Model = "" },
		"UnknownRole":       func(r *ai.Request) { r.Messages[0].Role = "system" },
		"EmptyMessage":      func(r *ai.Request) { r.Messages[0].Content = nil },
		"OnlyEmptyText":     func(r *ai.Request) { r.Messages[0].Content = []ai.Part{{Text: ""}} },
		"ToolCallFromUser":  func(r *ai.Request) { r.Messages[0].Content = r.Messages[1].Content },
		"ToolResultFromBot": func(r *ai.Request) { r.Messages[1].Content = r.Messages[2].Content },
		"ArgumentsNotJSON":  func(r *ai.Request) { r.Messages[1].Content[1].ToolCall.Arguments = json.RawMessage(`{"sign":`) },
		"SchemaNotJSON":     func(r *ai.Request) { r.Tools[0].InputSchema = json.RawMessage(`{} {}`) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, converseReply(toolUseResponse))
			req := radioRequest()
			mutate(&req)
			_, err := b.provider.Generate(context.Background(), req)
			requireCode(t, err, ai.CodeInvalidRequest)
			_, err = b.provider.Stream(context.Background(), req, func(ai.Delta) error { return nil })
			requireCode(t, err, ai.CodeInvalidRequest)
			require.Zero(t, b.fake.count(), "an invalid request must not reach Bedrock")
		})
	}
}

func requireCode(t *testing.T, err error, code ai.Code) *ai.Error {
	t.Helper()
	e := aitest.RequireCode(t, err, code)
	require.Equal(t, bedrock.Name, e.Provider)
	require.NotEmpty(t, e.Message)
	require.NotContains(t, e.Error(), "wJalrXUtnFEMI")
	return e
}

func TestStopReasons(t *testing.T) {
	t.Parallel()
	for wire, want := range map[string]ai.StopReason{
		"end_turn":                      ai.StopEndTurn,
		"tool_use":                      ai.StopToolUse,
		"max_tokens":                    ai.StopMaxTokens,
		"stop_sequence":                 ai.StopSequence,
		"guardrail_intervened":          ai.StopContentFiltered,
		"content_filtered":              ai.StopContentFiltered,
		"model_context_window_exceeded": ai.StopMaxTokens,
	} {
		t.Run(wire, func(t *testing.T) {
			t.Parallel()
			body := `{"output":{"message":{"role":"assistant","content":[{"text":"Sorry."}]}},"stopReason":"` + wire + `","usage":{"inputTokens":10,"outputTokens":2,"totalTokens":12},"metrics":{"latencyMs":80}}`
			b := setup(t, converseReply(body))
			resp, err := b.provider.Generate(context.Background(), radioRequest())
			require.NoError(t, err)
			require.Equal(t, want, resp.StopReason)

			s := setup(t, streamReply(t, []frame{
				event("messageStart", map[string]any{"role": "assistant"}),
				event("contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": map[string]any{"text": "Sorry."}}),
				event("contentBlockStop", map[string]any{"contentBlockIndex": 0}),
				event("messageStop", map[string]any{"stopReason": wire}),
				event("metadata", map[string]any{"usage": map[string]any{"inputTokens": 10, "outputTokens": 2, "totalTokens": 12}, "metrics": map[string]any{"latencyMs": 80}}),
			}, false))
			streamed, err := s.provider.Stream(context.Background(), radioRequest(), func(ai.Delta) error { return nil })
			require.NoError(t, err)
			aitest.RequireResponse(t, resp, streamed)
		})
	}

	t.Run("malformed_tool_use", func(t *testing.T) {
		t.Parallel()
		body := `{"output":{"message":{"role":"assistant","content":[]}},"stopReason":"malformed_tool_use","usage":{"inputTokens":10,"outputTokens":2,"totalTokens":12},"metrics":{"latencyMs":80}}`
		b := setup(t, converseReply(body))
		_, err := b.provider.Generate(context.Background(), radioRequest())
		e := requireCode(t, err, ai.CodeUnavailable)
		require.Contains(t, e.Message, "malformed_tool_use")
	})
}

func TestErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		exception  string
		status     int
		header     map[string]string
		code       ai.Code
		retryAfter time.Duration
	}{
		{"ThrottlingException", 429, nil, ai.CodeThrottled, 0},
		{"ThrottlingException", 429, map[string]string{"X-Amz-Retry-After": "2500"}, ai.CodeThrottled, 2500 * time.Millisecond},
		{"ServiceUnavailableException", 503, nil, ai.CodeUnavailable, 0},
		{"ModelNotReadyException", 429, nil, ai.CodeUnavailable, 0},
		{"InternalServerException", 500, nil, ai.CodeUnavailable, 0},
		{"ModelErrorException", 424, nil, ai.CodeUnavailable, 0},
		{"ModelTimeoutException", 408, nil, ai.CodeTimeout, 0},
		{"ValidationException", 400, nil, ai.CodeInvalidRequest, 0},
		{"ResourceNotFoundException", 404, nil, ai.CodeInvalidRequest, 0},
		{"ServiceQuotaExceededException", 400, nil, ai.CodeInvalidRequest, 0},
		{"AccessDeniedException", 403, nil, ai.CodeAuth, 0},
		{"UnrecognizedClientException", 403, nil, ai.CodeAuth, 0},
	}
	for _, tc := range cases {
		name := tc.exception
		if tc.header != nil {
			name += "WithRetryAfter"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			msg := "Too many requests, please wait before trying again."
			b := setup(t, func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				exception(w, tc.status, tc.exception, msg)
			})

			_, err := b.provider.Generate(context.Background(), radioRequest())
			e := requireCode(t, err, tc.code)
			require.Equal(t, tc.status, e.StatusCode)
			require.Equal(t, tc.retryAfter, e.RetryAfter)
			require.Equal(t, tc.exception+": "+msg, e.Message)

			_, err = b.provider.Stream(context.Background(), radioRequest(), func(ai.Delta) error { return nil })
			e = requireCode(t, err, tc.code)
			require.Equal(t, tc.status, e.StatusCode)
			require.Equal(t, tc.retryAfter, e.RetryAfter)

			// One attempt each: the SDK's own retries are off.
			require.Equal(t, 2, b.fake.count())
		})
	}
}

func TestStreamExceptions(t *testing.T) {
	t.Parallel()
	for member, code := range map[string]ai.Code{
		"throttlingException":         ai.CodeThrottled,
		"serviceUnavailableException": ai.CodeUnavailable,
		"internalServerException":     ai.CodeUnavailable,
		"modelStreamErrorException":   ai.CodeUnavailable,
		"validationException":         ai.CodeInvalidRequest,
	} {
		t.Run(member, func(t *testing.T) {
			t.Parallel()
			b := setup(t, streamReply(t, []frame{
				event("messageStart", map[string]any{"role": "assistant"}),
				event("contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": map[string]any{"text": "Hel"}}),
				exceptionFrame(member, "The stream was interrupted."),
			}, false))
			var deltas []string
			_, err := b.provider.Stream(context.Background(), radioRequest(), func(d ai.Delta) error {
				deltas = append(deltas, d.Text)
				return nil
			})
			e := requireCode(t, err, code)
			require.Contains(t, e.Message, "The stream was interrupted.")
			require.Equal(t, []string{"Hel"}, deltas)
		})
	}
}

func TestStreamCutShort(t *testing.T) {
	t.Parallel()
	frames := radioFrames()
	b := setup(t, streamReply(t, frames[:len(frames)-2], false))
	_, err := b.provider.Stream(context.Background(), radioRequest(), func(ai.Delta) error { return nil })
	e := requireCode(t, err, ai.CodeUnavailable)
	require.Contains(t, e.Message, "messageStop")
}

func TestStreamStopsOnDeltaError(t *testing.T) {
	t.Parallel()
	b := setup(t, streamReply(t, radioFrames(), false))
	errStop := errors.New("subscriber gone")
	calls := 0
	_, err := b.provider.Stream(context.Background(), radioRequest(), func(ai.Delta) error {
		calls++
		return errStop
	})
	require.ErrorIs(t, err, errStop)
	require.Equal(t, 1, calls)
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := b.provider.Generate(ctx, radioRequest())
	e := requireCode(t, err, ai.CodeTimeout)
	require.ErrorIs(t, e, context.DeadlineExceeded)

	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = b.provider.Stream(ctx, radioRequest(), func(ai.Delta) error { return nil })
	requireCode(t, err, ai.CodeTimeout)
}

func TestDeadlineMidStream(t *testing.T) {
	t.Parallel()
	frames := radioFrames()
	b := setup(t, streamReply(t, frames[:3], true))
	// The deadline passes once both pieces have arrived, with the stream
	// still open.
	ctx := aitest.NewPassingDeadline()
	var deltas []string
	_, err := b.provider.Stream(ctx, radioRequest(), func(d ai.Delta) error {
		deltas = append(deltas, d.Text)
		if len(deltas) == 2 {
			ctx.Pass()
		}
		return nil
	})
	requireCode(t, err, ai.CodeTimeout)
	require.Equal(t, []string{"I'll look up the most", " popular song on WZPZ."}, deltas)
}

// recordingTransport notes whether the bodies it sends offer WriteTo.
type recordingTransport struct {
	mu        sync.Mutex
	writerTos []bool
}

func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	_, ok := req.Body.(io.WriterTo)
	rt.mu.Lock()
	rt.writerTos = append(rt.writerTos, ok)
	rt.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// TestRequestBodiesOfferReadAlone guards readOnlyBodies: the SDK's own body
// answers WriteTo with io.EOF once the SDK has closed it, which net/http
// takes for a failed upload, and it then cuts a stream that has begun.
func TestRequestBodiesOfferReadAlone(t *testing.T) {
	t.Parallel()
	b := setup(t, streamReply(t, radioFrames(), false))
	rt := &recordingTransport{}
	p := bedrock.NewFromConfig(testConfig(), bedrock.Options{Endpoint: b.url, HTTPClient: &http.Client{Transport: rt}})
	_, err := p.Stream(context.Background(), radioRequest(), func(ai.Delta) error { return nil })
	require.NoError(t, err)
	require.Equal(t, []bool{false}, rt.writerTos)
}

func TestNetworkError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	p := bedrock.NewFromConfig(testConfig(), bedrock.Options{Endpoint: url})

	_, err := p.Generate(context.Background(), radioRequest())
	requireCode(t, err, ai.CodeUnavailable)
	_, err = p.Stream(context.Background(), radioRequest(), func(ai.Delta) error { return nil })
	requireCode(t, err, ai.CodeUnavailable)
}

// TestEnvironment cannot run in parallel: it sets the variables the AWS
// SDK's configuration loader reads.
func TestEnvironment(t *testing.T) {
	envFake := &fake{respond: converseReply(toolUseResponse)}
	envSrv := httptest.NewServer(envFake)
	t.Cleanup(envSrv.Close)
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret-from-env")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "eu-west-3")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_BEARER_TOKEN_BEDROCK", "")
	t.Setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", envSrv.URL)

	t.Run("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", func(t *testing.T) {
		p, err := bedrock.New(context.Background(), bedrock.Options{})
		require.NoError(t, err)
		require.Equal(t, "bedrock", p.Name())
		_, err = p.Generate(context.Background(), radioRequest())
		require.NoError(t, err)
		auth := envFake.only(t).header.Get("Authorization")
		require.True(t, strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDFROMENV/"), auth)
		require.Contains(t, auth, "/eu-west-3/bedrock/aws4_request")
	})

	t.Run("OptionsWin", func(t *testing.T) {
		b := setup(t, converseReply(toolUseResponse))
		p, err := bedrock.New(context.Background(), bedrock.Options{
			Endpoint:    b.url,
			Region:      "us-west-2",
			Credentials: testConfig().Credentials,
		})
		require.NoError(t, err)
		_, err = p.Generate(context.Background(), radioRequest())
		require.NoError(t, err)
		auth := b.fake.only(t).header.Get("Authorization")
		require.True(t, strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), auth)
		require.Contains(t, auth, "/us-west-2/bedrock/aws4_request")
		require.Equal(t, 1, envFake.count(), "the explicit endpoint wins over the variable")
	})
}

func TestNoCredentials(t *testing.T) {
	t.Parallel()
	b := setup(t, converseReply(toolUseResponse))
	cfg := testConfig()
	cfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("no EC2 IMDS role found")
	})
	p := bedrock.NewFromConfig(cfg, bedrock.Options{Endpoint: b.url})

	_, err := p.Generate(context.Background(), radioRequest())
	e := requireCode(t, err, ai.CodeAuth)
	require.Contains(t, e.Message, "no EC2 IMDS role found")
	_, err = p.Stream(context.Background(), radioRequest(), func(ai.Delta) error { return nil })
	requireCode(t, err, ai.CodeAuth)
	require.Zero(t, b.fake.count(), "nothing is sent without credentials")
}

func TestProviderInterface(t *testing.T) {
	t.Parallel()
	var p ai.Provider = bedrock.NewFromConfig(testConfig(), bedrock.Options{})
	require.Equal(t, bedrock.Name, p.Name())
}
