// Package egress owns the guard every outbound call to an address a user
// supplied goes through: a service step's call to a registered instance,
// its health check, and any other connection aiflow makes to a URL that a
// workflow author or an API caller wrote.
//
// A Guard allows only http and https. It reads the host the way a browser
// and the C resolver would (decimal, octal and hexadecimal IPv4 spellings,
// short forms, IPv4-mapped IPv6, NAT64 and 6to4 embeddings, zones,
// trailing dots, international names), resolves names itself, and checks
// every address it is about to dial in the dialer's Control hook, so each
// connection (each redirect's, each retry's) is checked against the
// address actually dialed: a name that resolves to a public address once
// and to 127.0.0.1 the next time gains nothing. Loopback, unspecified,
// link-local, private, carrier-grade NAT, multicast, broadcast, reserved,
// documentation and benchmarking addresses are refused; Policy.AllowPrivate
// (for instances an admin registered as internal) allows loopback and
// private addresses, never the cloud metadata endpoints (169.254.169.254,
// fd00:ec2::254, 100.100.100.200, metadata.google.internal, ...).
//
// A guarded client follows at most Config.MaxRedirects redirects, each one
// checked again; refuses a response over Config.MaxResponseBytes with
// ErrTooLarge; gives up after Config.Timeout; and never uses a proxy from
// the environment (HTTP_PROXY would otherwise carry the request past the
// check), only Config.Proxy.
//
// Refusals wrap ErrForbidden (a *ForbiddenError naming the host and why).
// CheckURL runs the same checks on a URL without connecting, for
// registration-time validation; a DNS name passes it and is checked again
// when it is dialed.
package egress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/egress/internal/seam"
)

// Defaults of Config.
const (
	DefaultMaxResponseBytes = 1 << 20
	DefaultTimeout          = 30 * time.Second
	DefaultHeaderTimeout    = 10 * time.Second
	DefaultDialTimeout      = 5 * time.Second
	DefaultMaxRedirects     = 5
)

// ErrForbidden is wrapped by every refusal of the guard: a scheme other
// than http and https, a malformed host, or an address or name the policy
// does not allow. errors.As finds the *ForbiddenError with the details.
var ErrForbidden = errors.New("egress forbidden")

// ErrTooLarge is wrapped by the error of a response whose body is larger
// than the guard's cap (a *TooLargeError).
var ErrTooLarge = errors.New("response too large")

// ErrTooManyRedirects is wrapped by the error of a request that was
// redirected more than Config.MaxRedirects times.
var ErrTooManyRedirects = errors.New("too many redirects")

// ForbiddenError is a refusal: what was refused (URL, or Host and Addr at
// dial time) and why.
type ForbiddenError struct {
	// URL is the URL refused, when the refusal is of a URL.
	URL string
	// Host is the host as written (or as the transport dialed it).
	Host string
	// Addr is the address refused, when the refusal is of an address.
	Addr netip.Addr
	// Reason says why, e.g. "127.0.0.1 is a loopback address".
	Reason string
}

func (e *ForbiddenError) Error() string {
	var b strings.Builder
	b.WriteString("egress refused")
	switch {
	case e.URL != "":
		fmt.Fprintf(&b, " for %s", e.URL)
	case e.Host != "":
		fmt.Fprintf(&b, " for host %s", e.Host)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// Is makes errors.Is(err, ErrForbidden) true.
func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }

// TooLargeError is a response body over the cap.
type TooLargeError struct {
	// Limit is the cap in bytes.
	Limit int64
	// URL is the URL whose response was too large, when known.
	URL string
}

func (e *TooLargeError) Error() string {
	if e.URL != "" {
		return fmt.Sprintf("the response of %s is larger than %d bytes", e.URL, e.Limit)
	}
	return fmt.Sprintf("the response is larger than %d bytes", e.Limit)
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// Policy is what a guarded client may reach besides public addresses.
type Policy struct {
	// AllowPrivate allows loopback and private addresses (10/8,
	// 172.16/12, 192.168/16, fc00::/7, localhost): only for an instance an
	// admin registered as internal. Metadata, link-local and every other
	// special address stay refused.
	AllowPrivate bool
}

// Resolver resolves host names; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Config configures a Guard. Zero fields take the defaults.
type Config struct {
	// Resolver resolves names; nil means net.DefaultResolver.
	Resolver Resolver
	// MaxResponseBytes caps a response body; 0 means 1 MiB.
	MaxResponseBytes int64
	// Timeout caps one request, redirects and reading the body included;
	// 0 means 30 s.
	Timeout time.Duration
	// HeaderTimeout caps the wait for a response's headers once the
	// request is written; 0 means 10 s.
	HeaderTimeout time.Duration
	// DialTimeout caps one connection attempt; 0 means 5 s.
	DialTimeout time.Duration
	// MaxRedirects is how many redirects a client follows; 0 means 5, a
	// negative number none (the redirect response is returned).
	MaxRedirects int
	// Proxy, when set, is the one proxy every request goes through (the
	// environment's proxy settings are never read). The guard still checks
	// each URL and resolves and checks its host before the request, but the
	// proxy makes the connection, so it must refuse internal addresses
	// itself to close the gap between that check and its own lookup.
	Proxy *url.URL
	// Logger records refusals; nil means they are not logged.
	Logger *slog.Logger
	// TracerProvider makes a client span of each request made inside a
	// trace, and Propagator puts its trace context in the request's
	// headers; nil means the OpenTelemetry globals (no-op until tracing
	// is set up).
	TracerProvider trace.TracerProvider
	Propagator     propagation.TextMapPropagator
}

// Guard makes HTTP clients that reach only what a Policy allows. It is
// safe for concurrent use; its clients share two connection pools, one
// per policy, so a connection made for an internal instance never serves
// a public one's request.
type Guard struct {
	cfg      Config
	resolver Resolver
	log      *slog.Logger
	public   *guardedTransport
	private  *guardedTransport
	tracing  clientTracing
	// dialFunc connects to one checked address; tests in this package
	// replace it to record what would be dialed.
	dialFunc func(ctx context.Context, network, addr string, p Policy) (net.Conn, error)
	// testPublic holds addresses (with their ports) that egresstest made
	// count as public, so a loopback server can stand in for a public
	// host. Nothing outside egresstest can set it, and production code
	// never imports egresstest (internal/archtest enforces it).
	testPublic atomic.Pointer[map[netip.AddrPort]bool]
}

func init() {
	seam.TreatAsPublic = func(g any, addrs []netip.AddrPort) {
		guard := g.(*Guard)
		m := map[netip.AddrPort]bool{}
		if old := guard.testPublic.Load(); old != nil {
			for k := range *old {
				m[k] = true
			}
		}
		for _, a := range addrs {
			m[netip.AddrPortFrom(a.Addr().Unmap().WithZone(""), a.Port())] = true
		}
		guard.testPublic.Store(&m)
	}
}

// New returns a guard with cfg's settings.
func New(cfg Config) *Guard {
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.HeaderTimeout <= 0 {
		cfg.HeaderTimeout = DefaultHeaderTimeout
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.MaxRedirects == 0 {
		cfg.MaxRedirects = DefaultMaxRedirects
	}
	g := &Guard{cfg: cfg, resolver: cfg.Resolver, log: cfg.Logger}
	if g.resolver == nil {
		g.resolver = net.DefaultResolver
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	g.dialFunc = g.dialChecked
	g.tracing = newClientTracing(cfg.TracerProvider, cfg.Propagator)
	g.public = g.newTransport(Policy{})
	g.private = g.newTransport(Policy{AllowPrivate: true})
	return g
}

// Client returns an HTTP client that reaches only what p allows, with the
// guard's caps. Its errors wrap ErrForbidden, ErrTooLarge or
// ErrTooManyRedirects when the guard stopped the request.
func (g *Guard) Client(p Policy) *http.Client {
	return &http.Client{
		Transport:     g.Transport(p),
		Timeout:       g.cfg.Timeout,
		CheckRedirect: g.checkRedirect(p),
	}
}

// Transport returns the round tripper of Client(p), for callers that make
// their own http.Client (to set their own redirect rule or timeout): it
// checks every request's URL, dials only checked addresses and caps
// response bodies, but follows no redirects and has no overall timeout
// of its own.
func (g *Guard) Transport(p Policy) http.RoundTripper {
	if p.AllowPrivate {
		return g.private
	}
	return g.public
}

// CloseIdleConnections closes the idle connections of the guard's pools.
func (g *Guard) CloseIdleConnections() {
	g.public.base.CloseIdleConnections()
	g.private.base.CloseIdleConnections()
}

// MaxResponseBytes is the guard's cap on a response body.
func (g *Guard) MaxResponseBytes() int64 { return g.cfg.MaxResponseBytes }

// InstanceClient returns the client of calls to a service instance: one
// that may reach private addresses only when the instance is internal
// (the health checker's ClientFunc).
func (g *Guard) InstanceClient(internal bool) *http.Client {
	return g.Client(Policy{AllowPrivate: internal})
}

// CheckEndpoint checks a service instance's endpoint as the registry
// takes it (registry.Config.CheckEndpointFunc): CheckURL with private
// addresses allowed only to an internal instance.
func (g *Guard) CheckEndpoint(endpoint string, internal bool) error {
	return g.CheckURL(endpoint, Policy{AllowPrivate: internal})
}

// CheckURL checks raw without connecting: its scheme is http or https, its
// host is well formed, an address literal (in any spelling) is one p
// allows, and a name is not a metadata service's. A DNS name passes and is
// checked, with every address it resolves to, when it is dialed. Errors
// wrap ErrForbidden.
func (g *Guard) CheckURL(raw string, p Policy) error {
	u, err := url.Parse(raw)
	if err != nil {
		return &ForbiddenError{URL: raw, Reason: fmt.Sprintf("it is not a valid URL: %v", unwrapURLError(err))}
	}
	return g.checkURL(u, p)
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (g *Guard) checkURL(u *url.URL, p Policy) error {
	refuse := func(reason string) error {
		err := &ForbiddenError{URL: u.Redacted(), Host: u.Host, Reason: reason}
		// The host, not the URL: a query string may carry a token.
		g.log.Info("egress refused", "scheme", u.Scheme, "host", u.Host, "reason", reason)
		return err
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		if u.Scheme == "" {
			return refuse("it has no scheme (only http and https are allowed)")
		}
		return refuse(fmt.Sprintf("the scheme %q is not allowed (only http and https are)", u.Scheme))
	}
	if u.Opaque != "" {
		return refuse("it has no host")
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if scheme == "https" {
			port = "443"
		}
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return refuse(fmt.Sprintf("the port %q is not valid", port))
	}
	t, err := parseHost(u.Hostname())
	if err != nil {
		return refuse(err.Error())
	}
	if reason, ok := g.allowedTarget(t, uint16(n), p); !ok {
		return refuse(reason)
	}
	return nil
}

// allowedTarget checks a parsed host: an address against the policy, a
// name against the names refused before any lookup.
func (g *Guard) allowedTarget(t target, port uint16, p Policy) (string, bool) {
	if t.addr.IsValid() {
		return g.allowedAddr(netip.AddrPortFrom(t.addr, port), p)
	}
	if metadataNames[t.name] {
		return fmt.Sprintf("%s is a cloud metadata service's name", t.name), false
	}
	if (t.name == "localhost" || strings.HasSuffix(t.name, ".localhost")) && !p.AllowPrivate {
		return fmt.Sprintf("%s is a loopback name", t.name), false
	}
	return "", true
}

// allowedAddr checks one address and port against the policy.
func (g *Guard) allowedAddr(ap netip.AddrPort, p Policy) (string, bool) {
	a := ap.Addr().WithZone("")
	if m := g.testPublic.Load(); m != nil && (*m)[netip.AddrPortFrom(a.Unmap(), ap.Port())] {
		return "", true
	}
	v := classify(a)
	if v.allows(p) {
		return "", true
	}
	reason := fmt.Sprintf("%s is %s", a, v.reason)
	if (v.class == classLoopback || v.class == classPrivate) && !p.AllowPrivate {
		reason += " (only an instance an admin registered as internal may use one)"
	}
	return reason, false
}

func (g *Guard) checkRedirect(p Policy) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if g.cfg.MaxRedirects < 0 {
			return http.ErrUseLastResponse
		}
		if len(via) > g.cfg.MaxRedirects {
			return fmt.Errorf("following redirects from %s: %w (more than %d)", via[0].URL.Redacted(), ErrTooManyRedirects, g.cfg.MaxRedirects)
		}
		return g.checkURL(req.URL, p)
	}
}

// guardedTransport checks each request's URL, lets its base transport
// dial only through the guard, and caps the response body.
type guardedTransport struct {
	g    *Guard
	p    Policy
	base *http.Transport
}

func (g *Guard) newTransport(p Policy) *guardedTransport {
	base := &http.Transport{
		// Never http.ProxyFromEnvironment: a proxy would make the
		// connection the guard is meant to check.
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return g.dial(ctx, network, addr, p)
		},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: g.cfg.HeaderTimeout,
		ExpectContinueTimeout: time.Second,
	}
	if g.cfg.Proxy != nil {
		base.Proxy = http.ProxyURL(g.cfg.Proxy)
	}
	return &guardedTransport{g: g, p: p, base: base}
}

// RoundTrip implements http.RoundTripper, in a client span when req is
// made inside a trace.
func (t *guardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.g.tracing.roundTrip(req, t.roundTrip)
}

func (t *guardedTransport) roundTrip(req *http.Request) (*http.Response, error) {
	if err := t.g.checkURL(req.URL, t.p); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	if t.g.cfg.Proxy != nil {
		// The proxy dials; check what the name resolves to now, the best
		// that can be done here (see Config.Proxy).
		if err := t.g.preflight(req.Context(), req.URL, t.p); err != nil {
			if req.Body != nil {
				_ = req.Body.Close()
			}
			return nil, err
		}
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	limit := t.g.cfg.MaxResponseBytes
	if resp.ContentLength > limit && req.Method != http.MethodHead {
		_ = resp.Body.Close()
		return nil, &TooLargeError{Limit: limit, URL: req.URL.Redacted()}
	}
	resp.Body = &limitedBody{r: limitReader{r: resp.Body, left: limit, limit: limit, url: req.URL.Redacted()}, c: resp.Body}
	return resp, nil
}

// preflight resolves u's host and checks every address, for requests the
// configured proxy will dial.
func (g *Guard) preflight(ctx context.Context, u *url.URL, p Policy) error {
	t, err := parseHost(u.Hostname())
	if err != nil || t.addr.IsValid() {
		return nil // checkURL has judged literals and malformed hosts
	}
	_, err = g.resolve(ctx, t, u.Hostname(), 0, p)
	return err
}

// dial is the transport's DialContext: it reads the host, resolves a name
// with the guard's resolver, refuses when any address is not allowed, and
// dials the addresses in turn through dialFunc, whose Control hook checks
// each again.
func (g *Guard) dial(ctx context.Context, network, addr string, p Policy) (net.Conn, error) {
	if g.cfg.Proxy != nil && addr == proxyAddr(g.cfg.Proxy) {
		// The operator's proxy, which makes the checked requests' connections.
		d := net.Dialer{Timeout: g.cfg.DialTimeout}
		return d.DialContext(ctx, network, addr)
	}
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &ForbiddenError{Host: addr, Reason: fmt.Sprintf("%q is not a host and port", addr)}
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return nil, &ForbiddenError{Host: addr, Reason: fmt.Sprintf("the port %q is not valid", portText)}
	}
	t, err := parseHost(host)
	if err != nil {
		return nil, g.refused(&ForbiddenError{Host: host, Reason: err.Error()})
	}
	addrs, err := g.resolve(ctx, t, host, uint16(port), p)
	if err != nil {
		return nil, err
	}
	var last error
	for _, a := range addrs {
		c, err := g.dialFunc(ctx, network, netip.AddrPortFrom(a, uint16(port)).String(), p)
		if err == nil {
			return c, nil
		}
		last = err
		if ctx.Err() != nil || errors.Is(err, ErrForbidden) {
			break
		}
	}
	return nil, last
}

// resolve returns the addresses to dial for t, every one of them allowed;
// one that is not refuses them all (a name that also resolves to an
// internal address is not one to trust with the others).
func (g *Guard) resolve(ctx context.Context, t target, host string, port uint16, p Policy) ([]netip.Addr, error) {
	if reason, ok := g.allowedTarget(t, port, p); !ok {
		return nil, g.refused(&ForbiddenError{Host: host, Addr: t.addr, Reason: reason})
	}
	if t.addr.IsValid() {
		return []netip.Addr{t.addr.Unmap().WithZone("")}, nil
	}
	found, err := g.resolver.LookupNetIP(ctx, "ip", t.name)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", t.name, err)
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("resolving %s: no addresses", t.name)
	}
	addrs := make([]netip.Addr, 0, len(found))
	for _, a := range found {
		a = a.Unmap().WithZone("")
		if reason, ok := g.allowedAddr(netip.AddrPortFrom(a, port), p); !ok {
			return nil, g.refused(&ForbiddenError{Host: host, Addr: a, Reason: fmt.Sprintf("%s resolves to %s", t.name, reason)})
		}
		addrs = append(addrs, a)
	}
	return addrs, nil
}

// dialChecked dials one address with a dialer whose Control hook checks
// the address the socket is about to connect to.
func (g *Guard) dialChecked(ctx context.Context, network, addr string, p Policy) (net.Conn, error) {
	d := net.Dialer{
		Timeout: g.cfg.DialTimeout,
		Control: func(_, address string, _ syscall.RawConn) error {
			return g.controlCheck(address, p)
		},
	}
	return d.DialContext(ctx, network, addr)
}

// controlCheck is the last check, of the address a socket connects to.
func (g *Guard) controlCheck(address string, p Policy) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return g.refused(&ForbiddenError{Host: address, Reason: fmt.Sprintf("%q is not an address and port", address)})
	}
	if reason, ok := g.allowedAddr(ap, p); !ok {
		return g.refused(&ForbiddenError{Host: address, Addr: ap.Addr(), Reason: reason})
	}
	return nil
}

func (g *Guard) refused(err *ForbiddenError) error {
	g.log.Info("egress refused", "host", err.Host, "reason", err.Reason)
	return err
}

func proxyAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if strings.EqualFold(u.Scheme, "https") {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// LimitBody returns a reader of r's first max bytes that fails with a
// *TooLargeError (wrapping ErrTooLarge) instead of ending when r has more.
func LimitBody(r io.Reader, max int64) io.Reader {
	return &limitReader{r: r, left: max, limit: max}
}

type limitReader struct {
	r     io.Reader
	left  int64
	limit int64
	url   string
}

func (l *limitReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if l.left <= 0 {
		// At the cap: one more byte means over it.
		var one [1]byte
		for {
			n, err := l.r.Read(one[:])
			if n > 0 {
				return 0, &TooLargeError{Limit: l.limit, URL: l.url}
			}
			if err != nil {
				return 0, err
			}
		}
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

type limitedBody struct {
	r limitReader
	c io.Closer
}

func (b *limitedBody) Read(p []byte) (int, error) { return b.r.Read(p) }
func (b *limitedBody) Close() error               { return b.c.Close() }
