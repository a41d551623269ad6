package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls the registry routes of aiflow's HTTP API (/v1/services)
// with a bearer token. Its methods return an *APIError for an answer of
// 400 or more (errors.As), and a wrapped transport error when the API
// could not be reached.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// ClientOptions configure NewClient.
type ClientOptions struct {
	// APIURL is the API's base URL (http://127.0.0.1:8080, or the stack's
	// https URL); required.
	APIURL string
	// Token is the bearer token: a service's own (role service, subject
	// service:<name>) or an admin's.
	Token string
	// HTTPClient sends the requests; nil means one with a 30-second
	// timeout.
	HTTPClient *http.Client
}

// NewClient returns a client of the API at o.APIURL. It returns an error
// when the URL is not an absolute http or https URL.
func NewClient(o ClientOptions) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(o.APIURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("making the registry client: the API URL %q is not an http or https URL (example: http://127.0.0.1:8080)", o.APIURL)
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{base: u, token: o.Token, http: hc}, nil
}

// APIError is an answer of 400 or more from the API: an RFC 9457
// problem.
type APIError struct {
	// Status is the HTTP status.
	Status int
	// Title and Detail are the problem's; Detail says what was wrong.
	Title, Detail string
	// Type is the problem's type URI (about:blank when generic).
	Type string
	// Errors are the problem's located errors: JSON pointers into the
	// body sent, or query parameters.
	Errors []FieldError
	// RequestID names the request in the API's log.
	RequestID string
}

// FieldError is one located error of a problem.
type FieldError struct {
	Pointer  string `json:"pointer,omitempty"`
	Location string `json:"location,omitempty"`
	Detail   string `json:"detail"`
}

// Error is the status, the detail, and each located error on a line of
// its own.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", e.Status, http.StatusText(e.Status))
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	for _, f := range e.Errors {
		at := f.Pointer
		if at == "" {
			at = f.Location
		}
		if at == "" {
			at = "(body)"
		}
		fmt.Fprintf(&b, "\n  %s: %s", at, f.Detail)
	}
	return b.String()
}

// IsNotFound reports whether err is the API's 404.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// Register registers a service version (with the instances d lists) or
// replaces it; created is true when the version is new.
func (c *Client) Register(ctx context.Context, d Definition) (out Definition, created bool, err error) {
	status, err := c.do(ctx, http.MethodPost, "/v1/services", nil, d, &out)
	if err != nil {
		return Definition{}, false, fmt.Errorf("registering the service %s %s: %w", d.Name, d.Version, err)
	}
	return out, status == http.StatusCreated, nil
}

// RegisterInstance registers an instance of a registered service version
// (in.Version names it), or registers it again.
func (c *Client) RegisterInstance(ctx context.Context, service string, in Instance) (Instance, error) {
	var out Instance
	if _, err := c.do(ctx, http.MethodPost, "/v1/services/"+url.PathEscape(service)+"/instances", nil, in, &out); err != nil {
		return Instance{}, fmt.Errorf("registering an instance of %s: %w", service, err)
	}
	return out, nil
}

// Heartbeat tells the registry the instance is alive; an instance that
// misses heartbeats for its TTL reads as unhealthy.
func (c *Client) Heartbeat(ctx context.Context, service, id string) (Instance, error) {
	var out Instance
	if _, err := c.do(ctx, http.MethodPut, instancePath(service, id)+"/heartbeat", nil, nil, &out); err != nil {
		return Instance{}, fmt.Errorf("sending the heartbeat of %s instance %s: %w", service, id, err)
	}
	return out, nil
}

// Drain marks the instance draining: it gets no new calls.
func (c *Client) Drain(ctx context.Context, service, id string) (Instance, error) {
	var out Instance
	if _, err := c.do(ctx, http.MethodPost, instancePath(service, id)+"/drain", nil, nil, &out); err != nil {
		return Instance{}, fmt.Errorf("draining %s instance %s: %w", service, id, err)
	}
	return out, nil
}

// DeregisterInstance removes an instance.
func (c *Client) DeregisterInstance(ctx context.Context, service, id string) error {
	if _, err := c.do(ctx, http.MethodDelete, instancePath(service, id), nil, nil, nil); err != nil {
		return fmt.Errorf("deregistering %s instance %s: %w", service, id, err)
	}
	return nil
}

// Deregister removes a service's version, or every version when version
// is "".
func (c *Client) Deregister(ctx context.Context, service, version string) error {
	q := url.Values{}
	if version != "" {
		q.Set("version", version)
	}
	if _, err := c.do(ctx, http.MethodDelete, "/v1/services/"+url.PathEscape(service), q, nil, nil); err != nil {
		return fmt.Errorf("deregistering the service %s: %w", service, err)
	}
	return nil
}

// ListFilter narrows List: a service's name, a capability; empty fields
// do not narrow.
type ListFilter struct {
	Name, Capability string
}

// List returns every registered service version with its instances.
func (c *Client) List(ctx context.Context, f ListFilter) ([]Definition, error) {
	q := url.Values{}
	if f.Name != "" {
		q.Set("name", f.Name)
	}
	if f.Capability != "" {
		q.Set("capability", f.Capability)
	}
	var out struct {
		Items []Definition `json:"items"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/v1/services", q, nil, &out); err != nil {
		return nil, fmt.Errorf("listing services: %w", err)
	}
	return out.Items, nil
}

// Get returns every version of a service with its instances.
func (c *Client) Get(ctx context.Context, service string) ([]Definition, error) {
	var out struct {
		Versions []Definition `json:"versions"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/v1/services/"+url.PathEscape(service), nil, nil, &out); err != nil {
		return nil, fmt.Errorf("reading the service %s: %w", service, err)
	}
	return out.Versions, nil
}

// History returns up to limit (1 to 100; 0 means 20) of a service's
// health and lifecycle events after the sequence number after (0: from
// the first).
func (c *Client) History(ctx context.Context, service string, after int64, limit int) ([]Event, error) {
	q := url.Values{}
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out struct {
		Items []Event `json:"items"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/v1/services/"+url.PathEscape(service)+"/history", q, nil, &out); err != nil {
		return nil, fmt.Errorf("reading the history of %s: %w", service, err)
	}
	return out.Items, nil
}

func instancePath(service, id string) string {
	return "/v1/services/" + url.PathEscape(service) + "/instances/" + url.PathEscape(id)
}

// maxResponse bounds the bodies read from the API.
const maxResponse = 8 << 20

// do sends one request and decodes a JSON answer into out (when not nil);
// it returns the status, and an *APIError for one of 400 or more.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, in, out any) (int, error) {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawPath = ""
	if p, err := url.PathUnescape(u.Path); err == nil && p != u.Path {
		u.RawPath = u.Path
		u.Path = p
	}
	u.RawQuery = q.Encode()
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("encoding the request: %w", err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return 0, fmt.Errorf("making the request: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("calling %s %s: %w", method, u.Redacted(), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("reading the answer of %s %s: %w", method, u.Redacted(), err)
	}
	if resp.StatusCode >= 400 {
		return resp.StatusCode, problemOf(resp, data)
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decoding the answer of %s %s: %w", method, u.Redacted(), err)
		}
	}
	return resp.StatusCode, nil
}

// problemOf reads an error answer: a problem+json body, or whatever text
// came (a proxy's page), cut short.
func problemOf(resp *http.Response, data []byte) *APIError {
	e := &APIError{Status: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id")}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "application/problem+json" || mt == "application/json" {
		var p struct {
			Type      string       `json:"type"`
			Title     string       `json:"title"`
			Detail    string       `json:"detail"`
			Errors    []FieldError `json:"errors"`
			RequestID string       `json:"request_id"`
		}
		if json.Unmarshal(data, &p) == nil {
			e.Type, e.Title, e.Detail, e.Errors = p.Type, p.Title, p.Detail, p.Errors
			if p.RequestID != "" {
				e.RequestID = p.RequestID
			}
			return e
		}
	}
	text := strings.TrimSpace(string(data))
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	e.Detail = text
	return e
}
