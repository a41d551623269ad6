// Package bedrock is the ai.Provider for Amazon Bedrock's Converse and
// ConverseStream APIs, through the aws-sdk-go-v2 bedrockruntime client:
// requests and answers translated to and from ai's provider-neutral types,
// the binary event stream, and Bedrock's exceptions translated into ai's
// named errors.
package bedrock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/smithy-go"
	smithydocument "github.com/aws/smithy-go/document"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/aiflow/aiflow/internal/ai"
)

// Name is the provider's name in a workflow's model reference
// ("bedrock/<model>") and in its errors.
const Name = "bedrock"

// Options configure a Provider. The zero value uses the AWS SDK's default
// configuration: region, credentials and endpoint from the environment and
// the shared config files, AWS_ENDPOINT_URL_BEDROCK_RUNTIME included.
type Options struct {
	// Region overrides the configured region.
	Region string
	// Endpoint overrides the Bedrock Runtime endpoint
	// (AWS_ENDPOINT_URL_BEDROCK_RUNTIME and the region's own).
	Endpoint string
	// Credentials overrides the configured credentials.
	Credentials aws.CredentialsProvider
	// HTTPClient makes the requests; nil means the SDK's default client.
	HTTPClient *http.Client
}

// Provider calls Bedrock's Converse API. It is safe for concurrent use.
type Provider struct {
	client *bedrockruntime.Client
}

// New loads the AWS SDK's default configuration, with opts applied over it,
// and returns a Provider. It fails when that configuration cannot be loaded
// (a broken shared config file, a missing profile).
func New(ctx context.Context, opts Options) (*Provider, error) {
	var load []func(*config.LoadOptions) error
	if opts.Region != "" {
		load = append(load, config.WithRegion(opts.Region))
	}
	if opts.Credentials != nil {
		load = append(load, config.WithCredentialsProvider(opts.Credentials))
	}
	if opts.HTTPClient != nil {
		load = append(load, config.WithHTTPClient(opts.HTTPClient))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration for bedrock: %w", err)
	}
	return NewFromConfig(cfg, opts), nil
}

// NewFromConfig returns a Provider over cfg, with opts applied over it. The
// SDK's own retries are off: retrying belongs to ai.Retrier, which sees every
// attempt.
func NewFromConfig(cfg aws.Config, opts Options) *Provider {
	client := bedrockruntime.NewFromConfig(cfg, func(o *bedrockruntime.Options) {
		o.Retryer = aws.NopRetryer{}
		if opts.Region != "" {
			o.Region = opts.Region
		}
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		if opts.Credentials != nil {
			o.Credentials = opts.Credentials
		}
		if o.Credentials != nil {
			o.Credentials = markedCredentials{o.Credentials}
		}
		if opts.HTTPClient != nil {
			o.HTTPClient = opts.HTTPClient
		}
		o.HTTPClient = readOnlyBodies{next: o.HTTPClient}
	})
	return &Provider{client: client}
}

// markedCredentials marks the failures of the credentials it wraps, which
// the SDK passes on as untyped errors, so that translate can tell a missing
// or broken credential (AI.Auth) from a failed call.
type markedCredentials struct {
	aws.CredentialsProvider
}

// credentialsError is a failure to get credentials.
type credentialsError struct{ err error }

func (e *credentialsError) Error() string { return e.err.Error() }
func (e *credentialsError) Unwrap() error { return e.err }

func (m markedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := m.CredentialsProvider.Retrieve(ctx)
	if err != nil && ctx.Err() == nil {
		return c, &credentialsError{err: err}
	}
	return c, err
}

// IsCredentialsProvider lets the SDK see the wrapped provider (it treats
// anonymous credentials apart).
func (m markedCredentials) IsCredentialsProvider(target aws.CredentialsProvider) bool {
	return aws.IsCredentialsProvider(m.CredentialsProvider, target)
}

// ProviderSources reports where the wrapped provider's credentials come
// from, for the SDK's user agent.
func (m markedCredentials) ProviderSources() []aws.CredentialSource {
	if s, ok := m.CredentialsProvider.(aws.CredentialProviderSource); ok {
		return s.ProviderSources()
	}
	return nil
}

// readOnlyBodies sends each request with a body that offers Read alone.
//
// The SDK closes a request's body as soon as the response's headers arrive,
// and its body then answers WriteTo with io.EOF, an error, where Read gives
// a clean end. net/http may still be checking the body for bytes beyond its
// Content-Length at that moment; through WriteTo it takes the io.EOF for a
// failed upload and closes the connection, which kills a ConverseStream
// answer a moment after it began. Through Read the check ends cleanly.
type readOnlyBodies struct {
	next bedrockruntime.HTTPClient
}

func (c readOnlyBodies) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req = req.WithContext(req.Context()) // a shallow copy, the SDK's own left as it was
		req.Body = readOnly{req.Body}
	}
	return c.next.Do(req)
}

// readOnly hides every method of its body but Read and Close.
type readOnly struct{ body io.ReadCloser }

func (r readOnly) Read(p []byte) (int, error) { return r.body.Read(p) }
func (r readOnly) Close() error               { return r.body.Close() }

// Name returns "bedrock".
func (p *Provider) Name() string { return Name }

// Generate makes one Converse call and returns the whole answer. Model is a
// model id, an inference profile id or an ARN. It returns an *ai.Error for
// every failure.
func (p *Provider) Generate(ctx context.Context, req ai.Request) (ai.Response, error) {
	in, err := converseInput(req)
	if err != nil {
		return ai.Response{}, err
	}
	out, err := p.client.Converse(ctx, in)
	if err != nil {
		return ai.Response{}, translate(ctx, err)
	}
	msg, ok := out.Output.(*types.ConverseOutputMemberMessage)
	if !ok {
		return ai.Response{}, &ai.Error{Code: ai.CodeUnavailable, Provider: Name, Message: "the answer holds no message"}
	}
	var acc answer
	for i, block := range msg.Value.Content {
		switch b := block.(type) {
		case *types.ContentBlockMemberText:
			acc.text(i, b.Value)
		case *types.ContentBlockMemberToolUse:
			args, err := documentJSON(b.Value.Input)
			if err != nil {
				return ai.Response{}, &ai.Error{Code: ai.CodeUnavailable, Provider: Name,
					Message: "reading the arguments of tool call " + aws.ToString(b.Value.ToolUseId), Err: err}
			}
			acc.startTool(i, aws.ToString(b.Value.ToolUseId), aws.ToString(b.Value.Name))
			acc.toolInput(i, string(args))
		}
	}
	acc.stop = out.StopReason
	acc.usage = out.Usage
	return acc.response(req.Model)
}

// Stream makes one ConverseStream call, calls onDelta with each piece of
// text as it arrives, and returns the same answer Generate would. It stops
// with onDelta's error if onDelta returns one, and returns an *ai.Error for
// every other failure, the stream's exception events included.
func (p *Provider) Stream(ctx context.Context, req ai.Request, onDelta func(ai.Delta) error) (ai.Response, error) {
	in, err := converseInput(req)
	if err != nil {
		return ai.Response{}, err
	}
	out, err := p.client.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{
		ModelId:         in.ModelId,
		System:          in.System,
		Messages:        in.Messages,
		InferenceConfig: in.InferenceConfig,
		ToolConfig:      in.ToolConfig,
	})
	if err != nil {
		return ai.Response{}, translate(ctx, err)
	}
	stream := out.GetStream()
	defer stream.Close()

	var acc answer
	stopped := false
	for event := range stream.Events() {
		switch e := event.(type) {
		case *types.ConverseStreamOutputMemberContentBlockStart:
			if tool, ok := e.Value.Start.(*types.ContentBlockStartMemberToolUse); ok {
				acc.startTool(int(aws.ToInt32(e.Value.ContentBlockIndex)), aws.ToString(tool.Value.ToolUseId), aws.ToString(tool.Value.Name))
			}
		case *types.ConverseStreamOutputMemberContentBlockDelta:
			i := int(aws.ToInt32(e.Value.ContentBlockIndex))
			switch d := e.Value.Delta.(type) {
			case *types.ContentBlockDeltaMemberText:
				acc.text(i, d.Value)
				if d.Value != "" {
					if err := onDelta(ai.Delta{Text: d.Value}); err != nil {
						return ai.Response{}, err
					}
				}
			case *types.ContentBlockDeltaMemberToolUse:
				acc.toolInput(i, aws.ToString(d.Value.Input))
			}
		case *types.ConverseStreamOutputMemberMessageStop:
			acc.stop = e.Value.StopReason
			stopped = true
		case *types.ConverseStreamOutputMemberMetadata:
			acc.usage = e.Value.Usage
		}
	}
	if err := stream.Err(); err != nil {
		return ai.Response{}, translate(ctx, err)
	}
	if !stopped {
		if err := ctx.Err(); err != nil {
			return ai.Response{}, translate(ctx, err)
		}
		return ai.Response{}, &ai.Error{Code: ai.CodeUnavailable, Provider: Name, Message: "the answer stream ended before messageStop"}
	}
	return acc.response(req.Model)
}

// answer gathers the content blocks of an answer by their index, as Converse
// returns them whole and ConverseStream in pieces.
type answer struct {
	blocks []block
	stop   types.StopReason
	usage  *types.TokenUsage
}

type block struct {
	text   strings.Builder
	isTool bool
	id     string
	name   string
	input  strings.Builder
}

func (a *answer) at(i int) *block {
	for len(a.blocks) <= i {
		a.blocks = append(a.blocks, block{})
	}
	return &a.blocks[i]
}

func (a *answer) text(i int, s string) { a.at(i).text.WriteString(s) }

func (a *answer) startTool(i int, id, name string) {
	b := a.at(i)
	b.isTool, b.id, b.name = true, id, name
}

func (a *answer) toolInput(i int, s string) { a.at(i).input.WriteString(s) }

func (a *answer) response(model string) (ai.Response, error) {
	if a.stop == types.StopReasonMalformedModelOutput || a.stop == types.StopReasonMalformedToolUse {
		return ai.Response{}, &ai.Error{Code: ai.CodeUnavailable, Provider: Name,
			Message: fmt.Sprintf("the model's output was malformed (stop reason %s)", a.stop)}
	}
	resp := ai.Response{StopReason: stopReason(a.stop), Model: model}
	if u := a.usage; u != nil {
		resp.Usage = ai.Usage{
			InputTokens:  int(aws.ToInt32(u.InputTokens) + aws.ToInt32(u.CacheReadInputTokens) + aws.ToInt32(u.CacheWriteInputTokens)),
			OutputTokens: int(aws.ToInt32(u.OutputTokens)),
		}
	}
	var text strings.Builder
	for i := range a.blocks {
		b := &a.blocks[i]
		if !b.isTool {
			text.WriteString(b.text.String())
			continue
		}
		args := json.RawMessage(b.input.String())
		if len(bytes.TrimSpace(args)) == 0 {
			args = json.RawMessage(`{}`)
		}
		if !json.Valid(args) {
			return ai.Response{}, &ai.Error{Code: ai.CodeUnavailable, Provider: Name,
				Message: fmt.Sprintf("the arguments of tool call %s are not valid JSON", b.id)}
		}
		resp.ToolCalls = append(resp.ToolCalls, ai.ToolCall{ID: b.id, Name: b.name, Arguments: args})
	}
	resp.Text = text.String()
	return resp, nil
}

// stopReason maps Converse's stopReason. A guardrail or a content filter
// that stopped the answer is content filtering; running out of context is
// running out of tokens.
func stopReason(r types.StopReason) ai.StopReason {
	switch r {
	case types.StopReasonToolUse:
		return ai.StopToolUse
	case types.StopReasonMaxTokens, types.StopReasonModelContextWindowExceeded:
		return ai.StopMaxTokens
	case types.StopReasonStopSequence:
		return ai.StopSequence
	case types.StopReasonGuardrailIntervened, types.StopReasonContentFiltered:
		return ai.StopContentFiltered
	default:
		return ai.StopEndTurn
	}
}

// converseInput translates req into the Converse request. A request Bedrock
// would refuse for its shape fails here with AI.InvalidRequest.
func converseInput(req ai.Request) (*bedrockruntime.ConverseInput, error) {
	if req.Model == "" {
		return nil, ai.InvalidRequestf(Name, "the request names no model")
	}
	in := &bedrockruntime.ConverseInput{ModelId: aws.String(req.Model)}
	if system := ai.SystemWithOutput(req.System, req.Output); system != "" {
		in.System = []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: system}}
	}
	for i, m := range req.Messages {
		msg, err := message(m)
		if err != nil {
			return nil, ai.InvalidRequestf(Name, "message %d: %s", i, err)
		}
		in.Messages = append(in.Messages, msg)
	}
	if len(req.Tools) > 0 {
		tc := &types.ToolConfiguration{}
		for _, t := range req.Tools {
			schema, err := jsonDocument(t.InputSchema, `{"type":"object","properties":{}}`)
			if err != nil {
				return nil, ai.InvalidRequestf(Name, "tool %q: decoding the input schema: %s", t.Name, err)
			}
			spec := types.ToolSpecification{Name: aws.String(t.Name), InputSchema: &types.ToolInputSchemaMemberJson{Value: schema}}
			if t.Description != "" {
				spec.Description = aws.String(t.Description)
			}
			tc.Tools = append(tc.Tools, &types.ToolMemberToolSpec{Value: spec})
		}
		in.ToolConfig = tc
	}
	ic := &types.InferenceConfiguration{StopSequences: req.StopSequences}
	if req.MaxTokens > 0 {
		ic.MaxTokens = aws.Int32(int32(min(req.MaxTokens, 1<<31-1)))
	}
	if req.Temperature != nil {
		ic.Temperature = aws.Float32(float32(*req.Temperature))
	}
	if req.TopP != nil {
		ic.TopP = aws.Float32(float32(*req.TopP))
	}
	if ic.MaxTokens != nil || ic.Temperature != nil || ic.TopP != nil || len(ic.StopSequences) > 0 {
		in.InferenceConfig = ic
	}
	return in, nil
}

func message(m ai.Message) (types.Message, error) {
	var role types.ConversationRole
	switch m.Role {
	case ai.RoleUser:
		role = types.ConversationRoleUser
	case ai.RoleAssistant:
		role = types.ConversationRoleAssistant
	default:
		return types.Message{}, fmt.Errorf("unknown role %q", m.Role)
	}
	msg := types.Message{Role: role}
	for j, part := range m.Content {
		switch {
		case part.ToolCall != nil:
			if m.Role != ai.RoleAssistant {
				return types.Message{}, fmt.Errorf("part %d: a tool call belongs in an assistant message", j)
			}
			input, err := jsonDocument(part.ToolCall.Arguments, `{}`)
			if err != nil {
				return types.Message{}, fmt.Errorf("part %d: decoding the arguments of tool call %s: %w", j, part.ToolCall.ID, err)
			}
			msg.Content = append(msg.Content, &types.ContentBlockMemberToolUse{Value: types.ToolUseBlock{
				ToolUseId: aws.String(part.ToolCall.ID), Name: aws.String(part.ToolCall.Name), Input: input,
			}})
		case part.ToolResult != nil:
			if m.Role != ai.RoleUser {
				return types.Message{}, fmt.Errorf("part %d: a tool result belongs in a user message", j)
			}
			result := types.ToolResultBlock{
				ToolUseId: aws.String(part.ToolResult.CallID),
				Content:   []types.ToolResultContentBlock{&types.ToolResultContentBlockMemberText{Value: part.ToolResult.Content}},
			}
			if part.ToolResult.IsError {
				result.Status = types.ToolResultStatusError
			}
			msg.Content = append(msg.Content, &types.ContentBlockMemberToolResult{Value: result})
		case part.Text != "":
			msg.Content = append(msg.Content, &types.ContentBlockMemberText{Value: part.Text})
		}
	}
	// Bedrock refuses blank text blocks, so they are left out; a message left
	// with nothing is refused here.
	if len(msg.Content) == 0 {
		return types.Message{}, errors.New("the message has no content")
	}
	return msg, nil
}

// jsonDocument decodes raw JSON (or empty, if empty) into a document for the
// SDK, keeping numbers exactly as written.
func jsonDocument(raw json.RawMessage, empty string) (document.Interface, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = json.RawMessage(empty)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	return document.NewLazyDocument(exactNumbers(v)), nil
}

// exactNumbers replaces json.Number with the document number the SDK's
// encoder writes unchanged.
func exactNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		return smithydocument.Number(x)
	case map[string]any:
		for k, e := range x {
			x[k] = exactNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = exactNumbers(e)
		}
	}
	return v
}

func documentJSON(d document.Interface) (json.RawMessage, error) {
	if d == nil {
		return json.RawMessage(`{}`), nil
	}
	b, err := d.MarshalSmithyDocument()
	if err != nil {
		return nil, fmt.Errorf("encoding the document: %w", err)
	}
	return b, nil
}

// httpResponder is what both the SDK's response errors offer.
type httpResponder interface {
	HTTPResponse() *smithyhttp.Response
}

// translate turns an error of the SDK into an *ai.Error: Bedrock's exception
// name picks the code (the same names arrive as the stream's exception
// events), else its HTTP status; credentials that cannot be had are
// AI.Auth, a missed deadline AI.Timeout, anything else on the way (network, a
// cancelled call) AI.Unavailable.
func translate(ctx context.Context, err error) *ai.Error {
	e := &ai.Error{Provider: Name, Err: err}
	var resp httpResponder
	if errors.As(err, &resp) && resp.HTTPResponse() != nil && resp.HTTPResponse().Response != nil {
		r := resp.HTTPResponse()
		e.StatusCode = r.StatusCode
		e.RetryAfter = retryAfter(r.Header)
	}
	var credErr *credentialsError
	if errors.As(err, &credErr) {
		e.Code, e.Message = ai.CodeAuth, "no AWS credentials for Bedrock: "+credErr.Error()
		return e
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		name := exceptionName(apiErr.ErrorCode())
		e.Code = codeForException(name, e.StatusCode)
		e.Message = name
		if msg := apiErr.ErrorMessage(); msg != "" {
			e.Message += ": " + msg
		}
		return e
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		e.Code, e.Message = ai.CodeTimeout, "the call passed its deadline"
	case errors.Is(err, context.Canceled):
		e.Code, e.Message = ai.CodeUnavailable, "the call was cancelled"
	case e.StatusCode >= 400:
		e.Code, e.Message = ai.CodeForStatus(e.StatusCode), fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	default:
		e.Code, e.Message = ai.CodeUnavailable, "calling Bedrock: "+err.Error()
	}
	return e
}

// exceptionName is the exception's shape name. An exception message of the
// stream names its union member ("throttlingException"); the SDK turns the
// members it knows into their shapes, and one it does not know arrives as
// the member name.
func exceptionName(code string) string {
	if code == "" || code[0] < 'a' || code[0] > 'z' {
		return code
	}
	return string(code[0]-'a'+'A') + code[1:]
}

// codeForException maps Bedrock's exception names; one it does not know
// falls back on the HTTP status.
func codeForException(name string, status int) ai.Code {
	switch name {
	case "ThrottlingException", "TooManyRequestsException":
		return ai.CodeThrottled
	case "ServiceUnavailableException", "ModelNotReadyException", "InternalServerException",
		"ModelStreamErrorException", "ModelErrorException", "InternalFailure":
		return ai.CodeUnavailable
	case "ModelTimeoutException":
		return ai.CodeTimeout
	case "ValidationException", "ResourceNotFoundException", "ConflictException",
		"ServiceQuotaExceededException", "SerializationException":
		return ai.CodeInvalidRequest
	case "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
		"ExpiredTokenException", "IncompleteSignature", "MissingAuthenticationToken":
		return ai.CodeAuth
	}
	if status >= 400 {
		return ai.CodeForStatus(status)
	}
	return ai.CodeUnavailable
}

// retryAfter reads the wait Bedrock asks for: x-amz-retry-after in
// milliseconds, else Retry-After in seconds. Zero when none is named.
func retryAfter(h http.Header) time.Duration {
	if v := h.Get("X-Amz-Retry-After"); v != "" {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms > 0 {
			return time.Duration(ms) * time.Millisecond
		}
	}
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.ParseInt(v, 10, 64); err == nil && s > 0 {
			return time.Duration(s) * time.Second
		}
	}
	return 0
}
