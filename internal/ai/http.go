package ai

import (
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
