package supportdesk

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/database"
	"github.com/aiflow/aiflow/internal/secrets"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// FunctionURLHandler serves an http.Handler (NewHTTPHandler, stateless) to
// a Lambda behind a Function URL with a buffered response: the MCP server
// answers with plain JSON, which fits in one Lambda response.
type FunctionURLHandler struct {
	h http.Handler
}

// NewFunctionURLHandler returns a FunctionURLHandler for h.
func NewFunctionURLHandler(h http.Handler) *FunctionURLHandler { return &FunctionURLHandler{h: h} }

// Handle turns a Function URL request into an HTTP request to the handler
// and its response into the Function URL's. It returns an error only for a
// request it cannot read, which Lambda reports as a 502.
func (f *FunctionURLHandler) Handle(ctx context.Context, ev events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		body, err = base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return events.LambdaFunctionURLResponse{}, fmt.Errorf("decoding the request body: %w", err)
		}
	}
	method := ev.RequestContext.HTTP.Method
	if method == "" {
		method = http.MethodPost
	}
	path := ev.RawPath
	if path == "" {
		path = "/"
	}
	target := &url.URL{Scheme: "https", Host: ev.RequestContext.DomainName, Path: path, RawQuery: ev.RawQueryString}
	req, err := http.NewRequestWithContext(ctx, method, target.String(), bytes.NewReader(body))
	if err != nil {
		return events.LambdaFunctionURLResponse{}, fmt.Errorf("building the request: %w", err)
	}
	for k, v := range ev.Headers {
		// Function URLs join repeated headers with commas, which is how
		// HTTP allows them to be read.
		req.Header.Set(k, v)
	}
	for _, c := range ev.Cookies {
		req.Header.Add("Cookie", c)
	}
	req.RemoteAddr = ev.RequestContext.HTTP.SourceIP
	req.Host = ev.RequestContext.DomainName
	w := &bufferedResponse{header: http.Header{}}
	f.h.ServeHTTP(w, req)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	resp := events.LambdaFunctionURLResponse{StatusCode: w.status, Headers: map[string]string{}, Body: w.body.String()}
	for k, v := range w.header {
		if strings.EqualFold(k, "Set-Cookie") {
			resp.Cookies = append(resp.Cookies, v...)
			continue
		}
		resp.Headers[k] = strings.Join(v, ", ")
	}
	return resp, nil
}

// bufferedResponse is an http.ResponseWriter that keeps the response.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// Flush is a no-op: the whole response goes back at once.
func (b *bufferedResponse) Flush() {}

// FunctionOptions are what the caller's process gives NewFunction.
type FunctionOptions struct {
	// LogWriter receives the logs; nil means stderr.
	LogWriter io.Writer
	// Version is what the server reports; empty means cfg.Version.
	Version string
	// Secrets answers the secret cfg.TokenSecretARN names; nil means AWS
	// Secrets Manager with the default AWS configuration, cached.
	Secrets secrets.Source
}

// Function is the built functions/mcpserver: Handler.Handle is its Lambda
// handler; Close closes its database pool.
type Function struct {
	Handler *FunctionURLHandler
	Close   func()
}

// NewFunction builds functions/mcpserver from its configuration
// (config.LoadMCPServer reads it), as its main and `aiflow invoke
// mcpserver` run it: logger, database pool (connecting lazily), the desk
// and its MCP server, served stateless (plain JSON responses, no
// sessions), as Lambda's buffered responses require. With
// cfg.TokenSecretARN the token secret is read from Secrets Manager, once
// per cold start. It returns the errors of reading the secret and of
// making them.
func NewFunction(ctx context.Context, cfg config.MCPServer, o FunctionOptions) (*Function, error) {
	desk := ConfigOf(cfg.Support)
	if cfg.TokenSecretARN != "" {
		key, err := tokenSecret(ctx, cfg.TokenSecretARN, o.Secrets)
		if err != nil {
			return nil, err
		}
		desk.TokenSecret = key
	}
	logger := telemetry.NewLogger(cfg.Log.LoggerOptions(o.LogWriter))
	pool, err := database.OpenPool(ctx, database.PoolParams{Database: cfg.Database}) // connects lazily
	if err != nil {
		return nil, err
	}
	version := o.Version
	if version == "" {
		version = cfg.Version
	}
	server, err := NewServer(New(pool, desk.DeskOptions()), ServerOptions{Version: version, Logger: logger})
	if err != nil {
		pool.Close()
		return nil, err
	}
	h, err := NewHTTPHandler(HTTPOptions{
		Server:         server,
		TokenSecret:    desk.TokenSecret,
		AllowedOrigins: desk.AllowedOrigins,
		Stateless:      true,
		Logger:         logger,
	})
	if err != nil {
		pool.Close()
		return nil, err
	}
	logger.Info("mcpserver ready", "allowed_origins", desk.AllowedOrigins, "refund_window", desk.Rules.RefundWindow, "approval_threshold_cents", desk.Rules.ApprovalThresholdCents)
	return &Function{Handler: NewFunctionURLHandler(h), Close: pool.Close}, nil
}

// tokenSecret reads the token secret from the secret arn names, through
// src (nil means Secrets Manager).
func tokenSecret(ctx context.Context, arn string, src secrets.Source) ([]byte, error) {
	if src == nil {
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("loading the AWS configuration: %w", err)
		}
		src = secrets.NewSecretsManagerFromConfig(awsCfg, secrets.SecretsManagerOptions{})
	}
	key, err := src.Get(ctx, arn)
	if err != nil {
		return nil, fmt.Errorf("reading the token secret (AIFLOW_SUPPORT_TOKEN_SECRET_ARN): %w", err)
	}
	if len(key) < MinSecretBytes {
		return nil, fmt.Errorf("reading the token secret (AIFLOW_SUPPORT_TOKEN_SECRET_ARN): the secret %s is shorter than %d bytes", arn, MinSecretBytes)
	}
	return []byte(key), nil
}
