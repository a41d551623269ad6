package supportdesk

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
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
