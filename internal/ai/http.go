package ai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// UserAgent is the User-Agent of aiflow's own model API clients (the
// openai and anthropic providers).
const UserAgent = "aiflow"

// MaxErrorBody bounds how much of an error response a provider reads for
// its message.
const MaxErrorBody = 1 << 20

// ResponseHeaderTimeout bounds the wait for a model API's response headers
// once the request is sent. It does not bound the body, so a long stream is
// not cut; without it, a server that accepts a request and never answers
// would hold a call without a deadline for ever.
const ResponseHeaderTimeout = 10 * time.Minute

// NewHTTPClient returns the HTTP client of a provider given none: a clone
// of http.DefaultTransport with ResponseHeaderTimeout, or
// http.DefaultTransport itself when something (a tracing wrapper) replaced
// it.
func NewHTTPClient() *http.Client {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		t = t.Clone()
		t.ResponseHeaderTimeout = ResponseHeaderTimeout
		return &http.Client{Transport: t}
	}
	return &http.Client{Transport: http.DefaultTransport}
}

// Endpoint resolves path against base as a directory, as the providers'
// own SDKs do: "http://host/v1" and "http://host/v1/" both give
// "http://host/v1/" + path. A base without a scheme or host is an error.
func Endpoint(base, path string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("parsing the base URL: %w", err)
	}
	if u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("the base URL %q has no scheme or host", base)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u.ResolveReference(&url.URL{Path: path}).String(), nil
}

// AddCustomHeaders adds the headers of a *_CUSTOM_HEADERS variable's value
// (one "Name: value" a line, as the providers' SDKs read it) to h.
func AddCustomHeaders(h http.Header, value string) {
	for _, line := range strings.Split(value, "\n") {
		if name, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) != "" {
			h.Set(strings.TrimSpace(name), strings.TrimSpace(v))
		}
	}
}

// APIClient posts JSON requests to one endpoint of a model API: what the
// openai and anthropic providers share of their clients.
type APIClient struct {
	provider string
	endpoint string
	urlErr   error
	// Header is sent with every request; a provider adds its own
	// (authorization, versions) after NewAPIClient.
	Header http.Header
	http   *http.Client
}

// NewAPIClient returns the client of provider for path under base (see
// Endpoint), sending with hc (NewHTTPClient's when nil), with the headers
// of customHeaders (see AddCustomHeaders), a JSON content type and
// UserAgent. A bad base is reported by each Post.
func NewAPIClient(provider, base, path string, hc *http.Client, customHeaders string) *APIClient {
	c := &APIClient{provider: provider, Header: http.Header{}, http: hc}
	c.endpoint, c.urlErr = Endpoint(base, path)
	if c.http == nil {
		c.http = NewHTTPClient()
	}
	AddCustomHeaders(c.Header, customHeaders)
	c.Header.Set("Content-Type", "application/json")
	c.Header.Set("User-Agent", UserAgent)
	return c
}

// Post sends body encoded as JSON, accepting a stream of server-sent
// events when stream is set and JSON otherwise. What fails before the
// request is sent is an *Error with CodeInvalidRequest; the rest is
// http.Client.Do's.
func (c *APIClient) Post(ctx context.Context, body any, stream bool) (*http.Response, error) {
	invalid := func(format string, args ...any) error {
		e := Errorf(CodeInvalidRequest, format, args...)
		e.Provider = c.provider
		return e
	}
	if c.urlErr != nil {
		return nil, invalid("%v", c.urlErr)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, invalid("encoding the request: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(raw))
	if err != nil {
		return nil, invalid("making the request: %v", err)
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	if stream {
		req.Header.Set("Accept", "text/event-stream")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	return c.http.Do(req)
}
