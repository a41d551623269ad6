package egress_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/egress"
	"github.com/aiflow/aiflow/internal/egress/egresstest"
)

// outcome is what a policy does with a spelling.
type outcome int

const (
	refusedAlways  outcome = iota // refused even with AllowPrivate
	allowedPrivate                // refused by default, allowed with AllowPrivate
	allowedAlways                 // a public address or name
)

// spellings covers every way of writing an address the guard must see
// through. want is the address the spelling means, where it means one.
var spellings = []struct {
	host string
	want string
	out  outcome
}{
	// Loopback, every spelling.
	{"127.0.0.1", "127.0.0.1", allowedPrivate},
	{"127.1", "127.0.0.1", allowedPrivate},
	{"127.0.1", "127.0.0.1", allowedPrivate},
	{"2130706433", "127.0.0.1", allowedPrivate},
	{"0x7f000001", "127.0.0.1", allowedPrivate},
	{"0X7F000001", "127.0.0.1", allowedPrivate},
	{"0x7f.1", "127.0.0.1", allowedPrivate},
	{"0x7F.0.0.1", "127.0.0.1", allowedPrivate},
	{"0177.0.0.1", "127.0.0.1", allowedPrivate},
	{"0177.1", "127.0.0.1", allowedPrivate},
	{"017700000001", "127.0.0.1", allowedPrivate},
	{"127.000.000.001", "127.0.0.1", allowedPrivate},
	{"127.0.0.1.", "127.0.0.1", allowedPrivate},
	{"127.1.", "127.0.0.1", allowedPrivate},
	{"127.0.0.0x", "127.0.0.0", allowedPrivate},
	{"127.255.255.254", "127.255.255.254", allowedPrivate},
	{"１２７.０.０.１", "127.0.0.1", allowedPrivate},
	{"127。0。0。1", "127.0.0.1", allowedPrivate},
	{"localhost", "", allowedPrivate},
	{"LOCALHOST.", "", allowedPrivate},
	{"api.localhost", "", allowedPrivate},
	{"[::1]", "::1", allowedPrivate},
	{"[0:0:0:0:0:0:0:1]", "::1", allowedPrivate},
	{"[::ffff:127.0.0.1]", "127.0.0.1", allowedPrivate},
	{"[::ffff:7f00:1]", "127.0.0.1", allowedPrivate},
	{"[::FFFF:7F00:0001]", "127.0.0.1", allowedPrivate},
	{"[0:0:0:0:0:ffff:127.0.0.1]", "127.0.0.1", allowedPrivate},
	{"[2002:7f00:1::1]", "", allowedPrivate}, // 6to4 of 127.0.0.1
	// Private ranges.
	{"10.0.0.1", "10.0.0.1", allowedPrivate},
	{"10.1", "10.0.0.1", allowedPrivate},
	{"012.0.0.1", "10.0.0.1", allowedPrivate},
	{"0xa.0.0.1", "10.0.0.1", allowedPrivate},
	{"167772161", "10.0.0.1", allowedPrivate},
	{"172.16.0.1", "172.16.0.1", allowedPrivate},
	{"172.31.255.255", "172.31.255.255", allowedPrivate},
	{"192.168.1.1", "192.168.1.1", allowedPrivate},
	{"3232235777", "192.168.1.1", allowedPrivate},
	{"0xc0a80101", "192.168.1.1", allowedPrivate},
	{"[fd12:3456::1]", "fd12:3456::1", allowedPrivate},
	{"[FC00::1]", "fc00::1", allowedPrivate},
	{"[::ffff:10.0.0.1]", "10.0.0.1", allowedPrivate},
	{"[::ffff:c0a8:101]", "192.168.1.1", allowedPrivate},
	{"[64:ff9b::a00:1]", "", allowedPrivate}, // NAT64 of 10.0.0.1
	// Cloud metadata: refused whatever the policy.
	{"169.254.169.254", "169.254.169.254", refusedAlways},
	{"169.254.43518", "169.254.169.254", refusedAlways},
	{"0xa9fea9fe", "169.254.169.254", refusedAlways},
	{"2852039166", "169.254.169.254", refusedAlways},
	{"0251.0376.0251.0376", "169.254.169.254", refusedAlways},
	{"0xa9.0xfe.0xa9.0xfe", "169.254.169.254", refusedAlways},
	{"169.254.169.254.", "169.254.169.254", refusedAlways},
	{"[::ffff:169.254.169.254]", "169.254.169.254", refusedAlways},
	{"[::ffff:a9fe:a9fe]", "169.254.169.254", refusedAlways},
	{"[64:ff9b::a9fe:a9fe]", "", refusedAlways},
	{"[2002:a9fe:a9fe::]", "", refusedAlways},
	{"[fd00:ec2::254]", "fd00:ec2::254", refusedAlways},
	{"[FD00:EC2:0:0:0:0:0:254]", "fd00:ec2::254", refusedAlways},
	{"[fd00:ec2::23]", "fd00:ec2::23", refusedAlways},
	{"100.100.100.200", "100.100.100.200", refusedAlways},
	{"169.254.170.2", "169.254.170.2", refusedAlways},
	{"metadata.google.internal", "", refusedAlways},
	{"METADATA.GOOGLE.INTERNAL.", "", refusedAlways},
	{"metadata", "", refusedAlways},
	{"instance-data", "", refusedAlways},
	// Other special addresses: refused whatever the policy.
	{"0.0.0.0", "0.0.0.0", refusedAlways},
	{"0", "0.0.0.0", refusedAlways},
	{"0x0", "0.0.0.0", refusedAlways},
	{"0.1.2.3", "0.1.2.3", refusedAlways},
	{"[::]", "::", refusedAlways},
	{"[0::0]", "::", refusedAlways},
	{"169.254.1.1", "169.254.1.1", refusedAlways},
	{"[fe80::1]", "fe80::1", refusedAlways},
	{"[fe80::1%25eth0]", "fe80::1", refusedAlways},
	{"[FE80::ABCD%25en0]", "fe80::abcd", refusedAlways},
	{"100.64.0.1", "100.64.0.1", refusedAlways},
	{"100.127.255.254", "100.127.255.254", refusedAlways},
	{"224.0.0.1", "224.0.0.1", refusedAlways},
	{"239.255.255.250", "239.255.255.250", refusedAlways},
	{"[ff02::1]", "ff02::1", refusedAlways},
	{"[::ffff:224.0.0.1]", "224.0.0.1", refusedAlways},
	{"255.255.255.255", "255.255.255.255", refusedAlways},
	{"4294967295", "255.255.255.255", refusedAlways},
	{"240.0.0.1", "240.0.0.1", refusedAlways},
	{"192.0.0.192", "192.0.0.192", refusedAlways},
	{"192.0.2.1", "192.0.2.1", refusedAlways},
	{"198.51.100.7", "198.51.100.7", refusedAlways},
	{"203.0.113.9", "203.0.113.9", refusedAlways},
	{"198.18.0.1", "198.18.0.1", refusedAlways},
	{"[2001:db8::1]", "2001:db8::1", refusedAlways},
	{"[::127.0.0.1]", "::7f00:1", refusedAlways},
	{"[::7f00:1]", "::7f00:1", refusedAlways},
	{"[2001::1]", "2001::1", refusedAlways},
	{"[64:ff9b:1::a00:1]", "64:ff9b:1::a00:1", refusedAlways},
	{"[fec0::1]", "fec0::1", refusedAlways},
	{"[100::1]", "100::1", refusedAlways},
	// Malformed numbers are refused, never looked up as names.
	{"1.2.3.4.5", "", refusedAlways},
	{"256.0.0.1", "", refusedAlways},
	{"0x100.0.0.1", "", refusedAlways},
	{"08.0.0.1", "", refusedAlways},
	{"4294967296", "", refusedAlways},
	{"1.2.3.999", "", refusedAlways},
	{"example.123", "", refusedAlways},
	{"127.0.0.1..", "", refusedAlways},
	{"[127.0.0.1]", "", refusedAlways},
	{"[::ffff:127.1]", "", refusedAlways},
	{"a..b", "", refusedAlways},
	// Public addresses and names.
	{"8.8.8.8", "8.8.8.8", allowedAlways},
	{"134744072", "8.8.8.8", allowedAlways},
	{"0x8.0x8.0x8.0x8", "8.8.8.8", allowedAlways},
	{"010.010.010.010", "8.8.8.8", allowedAlways},
	{"1.1.1.1", "1.1.1.1", allowedAlways},
	{"[2606:4700:4700::1111]", "2606:4700:4700::1111", allowedAlways},
	{"[::ffff:8.8.8.8]", "8.8.8.8", allowedAlways},
	{"[64:ff9b::808:808]", "", allowedAlways},
	{"[2002:808:808::1]", "", allowedAlways},
	{"example.com", "", allowedAlways},
	{"EXAMPLE.COM.", "", allowedAlways},
	{"münchen.de", "", allowedAlways},
	{"xn--mnchen-3ya.de", "", allowedAlways},
	{"1.2.0x1g", "", allowedAlways}, // does not end in a number: a name
	{"internal-service", "", allowedAlways},
}

func TestCheckURLSpellings(t *testing.T) {
	t.Parallel()
	g := egress.New(egress.Config{})
	for _, tc := range spellings {
		t.Run(tc.host, func(t *testing.T) {
			t.Parallel()
			for _, scheme := range []string{"http", "https"} {
				raw := scheme + "://" + tc.host + "/v1/x"
				errDefault := g.CheckURL(raw, egress.Policy{})
				errPrivate := g.CheckURL(raw, egress.Policy{AllowPrivate: true})
				switch tc.out {
				case refusedAlways:
					require.ErrorIs(t, errDefault, egress.ErrForbidden, raw)
					require.ErrorIs(t, errPrivate, egress.ErrForbidden, raw)
				case allowedPrivate:
					require.ErrorIs(t, errDefault, egress.ErrForbidden, raw)
					require.NoError(t, errPrivate, raw)
				case allowedAlways:
					require.NoError(t, errDefault, raw)
					require.NoError(t, errPrivate, raw)
				}
				if errDefault != nil {
					var fe *egress.ForbiddenError
					require.ErrorAs(t, errDefault, &fe)
					require.NotEmpty(t, fe.Reason)
					require.Contains(t, errDefault.Error(), scheme+"://", "the error names the URL")
				}
			}
		})
	}
}

// TestDialSeesThroughSpellings dials a real loopback server through each
// loopback spelling: refused by default, and, with AllowPrivate, reaching
// the very server, which proves the guard read the spelling as the
// address it dialed.
func TestDialSeesThroughSpellings(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	port := strconv.Itoa(int(egresstest.ServerAddr(t, srv).Port()))
	g := egress.New(egress.Config{Resolver: egresstest.Resolver{"localhost": {netip.MustParseAddr("127.0.0.1")}}})
	t.Cleanup(g.CloseIdleConnections)
	for _, host := range []string{"127.0.0.1", "127.1", "2130706433", "0x7f000001", "0x7f.1", "0177.0.0.1", "017700000001", "127.0.0.1.", "１２７.０.０.１", "localhost", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]"} {
		raw := "http://" + host + ":" + port + "/"
		// Straight to the transport, past CheckURL, to prove the dial-time check.
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, raw, nil)
		require.NoError(t, err)
		before := hits.Load()
		_, err = g.Client(egress.Policy{}).Do(req)
		require.ErrorIs(t, err, egress.ErrForbidden, raw)
		require.Equal(t, before, hits.Load(), "%s reached the server", raw)

		resp, err := g.Client(egress.Policy{AllowPrivate: true}).Get(raw)
		require.NoError(t, err, raw)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, "ok", string(body))
	}
}

func TestDialRefusesMetadataWhateverThePolicy(t *testing.T) {
	t.Parallel()
	res := egresstest.Resolver{
		"imds.example":    {netip.MustParseAddr("169.254.169.254")},
		"imds6.example":   {netip.MustParseAddr("fd00:ec2::254")},
		"alibaba.example": {netip.MustParseAddr("100.100.100.200")},
		"mapped.example":  {netip.MustParseAddr("::ffff:169.254.169.254")},
	}
	g := egress.New(egress.Config{Resolver: res})
	for _, p := range []egress.Policy{{}, {AllowPrivate: true}} {
		for _, raw := range []string{
			"http://imds.example/latest/meta-data/", "http://imds6.example/", "http://alibaba.example/",
			"http://mapped.example/", "http://169.254.169.254/latest/meta-data/", "http://metadata.google.internal/computeMetadata/v1/",
			"http://[fd00:ec2::254]/", "http://0xa9fea9fe/",
		} {
			_, err := g.Client(p).Get(raw)
			require.ErrorIs(t, err, egress.ErrForbidden, "%s with %+v", raw, p)
		}
	}
}

// TestNameResolvingToInternalIsRefused: a name passes CheckURL and is
// refused when it is dialed, whatever it resolves to this time; one
// internal address among public ones refuses them all.
func TestNameResolvingToInternalIsRefused(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	port := strconv.Itoa(int(egresstest.ServerAddr(t, srv).Port()))
	g := egress.New(egress.Config{Resolver: egresstest.Resolver{
		"rebind.example": {netip.MustParseAddr("127.0.0.1")},
		"mixed.example":  {netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("127.0.0.1")},
		"ula.example":    {netip.MustParseAddr("fd00::1")},
	}})
	for _, host := range []string{"rebind.example", "mixed.example", "ula.example"} {
		raw := "http://" + host + ":" + port + "/"
		require.NoError(t, g.CheckURL(raw, egress.Policy{}), "a name passes the registration check")
		_, err := g.Client(egress.Policy{}).Get(raw)
		require.ErrorIs(t, err, egress.ErrForbidden, raw)
		var fe *egress.ForbiddenError
		require.ErrorAs(t, err, &fe)
		require.Contains(t, fe.Reason, "resolves to")
	}
	require.Zero(t, hits.Load())
}

func TestSchemesOtherThanHTTPAreRefused(t *testing.T) {
	t.Parallel()
	g := egress.New(egress.Config{})
	for _, raw := range []string{
		"file:///etc/passwd", "gopher://example.com:70/_x", "ftp://example.com/file", "javascript:alert(1)",
		"data:text/plain,hi", "ws://example.com/", "//example.com/", "example.com", "http:example.com",
		"http:///nohost", "", "http://example.com:0/", "http://exa mple.com/", "http://evil.com\\@127.0.0.1/",
	} {
		err := g.CheckURL(raw, egress.Policy{AllowPrivate: true})
		require.ErrorIs(t, err, egress.ErrForbidden, "%q", raw)
	}
	for _, raw := range []string{"HTTP://example.com/", "HttpS://example.com:8443/x?y=1", "https://user:pw@example.com/"} {
		require.NoError(t, g.CheckURL(raw, egress.Policy{}), raw)
	}
	_, err := g.Client(egress.Policy{}).Get("gopher://example.com/")
	require.ErrorIs(t, err, egress.ErrForbidden)
}

func TestForbiddenErrorNamesTheURLAndWhy(t *testing.T) {
	t.Parallel()
	g := egress.New(egress.Config{})
	err := g.CheckURL("http://0x7f.1:8080/admin", egress.Policy{})
	require.EqualError(t, err, "egress refused for http://0x7f.1:8080/admin: 127.0.0.1 is a loopback address (only an instance an admin registered as internal may use one)")
	err = g.CheckURL("http://[::ffff:a9fe:a9fe]/", egress.Policy{AllowPrivate: true})
	require.EqualError(t, err, "egress refused for http://[::ffff:a9fe:a9fe]/: ::ffff:169.254.169.254 is the IPv4-mapped form of the cloud instance metadata address (AWS, GCP, Azure, OCI)")
	err = g.CheckURL("file:///etc/passwd", egress.Policy{})
	require.EqualError(t, err, `egress refused for file:///etc/passwd: the scheme "file" is not allowed (only http and https are)`)
	err = g.CheckURL("https://admin:secret@10.0.0.1/", egress.Policy{})
	require.NotContains(t, err.Error(), "secret", "the password is redacted")
}

// redirectBundle is a loopback server that stands in for a public host
// (the guard counts its address as public) and a second loopback server
// that stays internal.
type redirectBundle struct {
	public, internal *httptest.Server
	internalHits     *atomic.Int64
	g                *egress.Guard
}

func setupRedirects(t *testing.T) *redirectBundle {
	t.Helper()
	b := &redirectBundle{internalHits: &atomic.Int64{}}
	b.internal = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		b.internalHits.Add(1)
		_, _ = io.WriteString(w, "secret")
	}))
	t.Cleanup(b.internal.Close)
	internalPort := egresstest.ServerAddr(t, b.internal).Port()
	b.public = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/ok":
			_, _ = io.WriteString(w, "public")
		case r.URL.Path == "/to-internal":
			http.Redirect(w, r, fmt.Sprintf("http://127.0.0.1:%d/", internalPort), http.StatusFound)
		case r.URL.Path == "/to-internal-decimal":
			http.Redirect(w, r, fmt.Sprintf("http://2130706433:%d/", internalPort), http.StatusTemporaryRedirect)
		case r.URL.Path == "/to-internal-name":
			http.Redirect(w, r, fmt.Sprintf("http://internal.example:%d/", internalPort), http.StatusMovedPermanently)
		case r.URL.Path == "/to-metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		case r.URL.Path == "/to-file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		case strings.HasPrefix(r.URL.Path, "/hops/"):
			n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hops/"))
			if n == 0 {
				_, _ = io.WriteString(w, "arrived")
				return
			}
			http.Redirect(w, r, fmt.Sprintf("http://public.example:%d/hops/%d", egresstest.ServerAddr(t, b.public).Port(), n-1), http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(b.public.Close)
	b.g = egresstest.Public(t, egress.Config{Resolver: egresstest.Resolver{
		"public.example":   {netip.MustParseAddr("127.0.0.1")},
		"internal.example": {netip.MustParseAddr("127.0.0.1")},
	}}, b.public)
	return b
}

func TestRedirectFromPublicIntoInternalIsRefused(t *testing.T) {
	t.Parallel()
	b := setupRedirects(t)
	publicURL := fmt.Sprintf("http://public.example:%d", egresstest.ServerAddr(t, b.public).Port())

	resp, err := b.g.Client(egress.Policy{}).Get(publicURL + "/ok")
	require.NoError(t, err, "the stand-in for a public host is reachable")
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, "public", string(body))

	for _, path := range []string{"/to-internal", "/to-internal-decimal", "/to-internal-name", "/to-metadata", "/to-file"} {
		_, err := b.g.Client(egress.Policy{}).Get(publicURL + path)
		require.ErrorIs(t, err, egress.ErrForbidden, path)
	}
	require.Zero(t, b.internalHits.Load(), "no redirect reached the internal server")

	// The internal server itself, asked directly, is refused too.
	_, err = b.g.Client(egress.Policy{}).Get(b.internal.URL)
	require.ErrorIs(t, err, egress.ErrForbidden)
	require.Zero(t, b.internalHits.Load())
}

func TestRedirectsAreCapped(t *testing.T) {
	t.Parallel()
	b := setupRedirects(t)
	publicURL := fmt.Sprintf("http://public.example:%d", egresstest.ServerAddr(t, b.public).Port())
	resp, err := b.g.Client(egress.Policy{}).Get(publicURL + "/hops/5")
	require.NoError(t, err, "five redirects are followed")
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, "arrived", string(body))

	_, err = b.g.Client(egress.Policy{}).Get(publicURL + "/hops/6")
	require.ErrorIs(t, err, egress.ErrTooManyRedirects)

	none := egresstest.Public(t, egress.Config{MaxRedirects: -1, Resolver: egresstest.Resolver{"public.example": {netip.MustParseAddr("127.0.0.1")}}}, b.public)
	resp, err = none.Client(egress.Policy{}).Get(publicURL + "/to-internal")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusFound, resp.StatusCode, "with redirects off the redirect itself is the answer")
}

func TestResponseSizeIsCapped(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Get("chunked") != "" {
			// Flushing first sends no Content-Length: the cap applies as
			// the body is read.
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
		} else {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		_, _ = w.Write([]byte(strings.Repeat("x", n)))
	}))
	t.Cleanup(srv.Close)
	g := egresstest.Public(t, egress.Config{MaxResponseBytes: 1024}, srv)
	require.EqualValues(t, 1024, g.MaxResponseBytes())
	client := g.Client(egress.Policy{})

	for _, chunked := range []string{"", "1"} {
		resp, err := client.Get(srv.URL + "/?n=1024&chunked=" + chunked)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err, "exactly the cap is fine")
		require.NoError(t, resp.Body.Close())
		require.Len(t, body, 1024)
	}

	_, err := client.Get(srv.URL + "/?n=1025")
	require.ErrorIs(t, err, egress.ErrTooLarge, "a Content-Length over the cap is refused before reading")

	resp, err := client.Get(srv.URL + "/?n=5000&chunked=1")
	require.NoError(t, err)
	_, err = io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	require.ErrorIs(t, err, egress.ErrTooLarge)
	var tl *egress.TooLargeError
	require.ErrorAs(t, err, &tl)
	require.EqualValues(t, 1024, tl.Limit)

	resp, err = client.Head(srv.URL + "/?n=5000")
	require.NoError(t, err, "a HEAD's Content-Length announces no body")
	require.NoError(t, resp.Body.Close())

	require.EqualValues(t, egress.DefaultMaxResponseBytes, egress.New(egress.Config{}).MaxResponseBytes())
}

func TestLimitBody(t *testing.T) {
	t.Parallel()
	b, err := io.ReadAll(egress.LimitBody(strings.NewReader("12345"), 5))
	require.NoError(t, err)
	require.Equal(t, "12345", string(b))
	b, err = io.ReadAll(egress.LimitBody(strings.NewReader("123456"), 5))
	require.ErrorIs(t, err, egress.ErrTooLarge)
	require.Equal(t, "12345", string(b), "the first max bytes are read")
	b, err = io.ReadAll(egress.LimitBody(strings.NewReader(""), 0))
	require.NoError(t, err)
	require.Empty(t, b)
}

// hang answers nothing until the client goes away or the test ends.
func hang(t *testing.T) *httptest.Server {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() {
		close(done)
		srv.Close()
	})
	return srv
}

func TestRequestTimeIsCapped(t *testing.T) {
	t.Parallel()
	srv := hang(t)
	g := egresstest.Public(t, egress.Config{Timeout: 200 * time.Millisecond}, srv)
	_, err := g.Client(egress.Policy{}).Get(srv.URL + "/")
	requireTimeout(t, err)

	// The cap covers reading the body too. (On a loaded machine the
	// headers themselves may come too late; then the request fails instead.)
	resp, err := g.Client(egress.Policy{}).Get(srv.URL + "/body")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		require.NoError(t, resp.Body.Close())
	}
	requireTimeout(t, err)
}

func TestHeaderTimeout(t *testing.T) {
	t.Parallel()
	srv := hang(t)
	g := egresstest.Public(t, egress.Config{HeaderTimeout: 100 * time.Millisecond, Timeout: time.Minute}, srv)
	_, err := g.Client(egress.Policy{}).Get(srv.URL + "/")
	requireTimeout(t, err)
}

func requireTimeout(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	var ne net.Error
	require.ErrorAs(t, err, &ne, "%v", err)
	require.True(t, ne.Timeout(), "%v", err)
}

// TestExplicitProxy: a configured proxy is used (the environment's never
// is, see TestNoProxyFromEnvironment), and the target URL is still
// checked before the request reaches it.
func TestExplicitProxy(t *testing.T) {
	t.Parallel()
	var proxied atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		_, _ = io.WriteString(w, "via proxy to "+r.URL.Host)
	}))
	t.Cleanup(proxy.Close)
	proxyURL, err := url.Parse(proxy.URL)
	require.NoError(t, err)
	g := egress.New(egress.Config{Proxy: proxyURL, Resolver: egresstest.Resolver{
		"public.example":   {netip.MustParseAddr("8.8.8.8")},
		"internal.example": {netip.MustParseAddr("10.1.2.3")},
	}})
	t.Cleanup(g.CloseIdleConnections)

	resp, err := g.Client(egress.Policy{}).Get("http://public.example/x")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, "via proxy to public.example", string(body))

	for _, raw := range []string{"http://127.0.0.1/", "http://internal.example/", "http://169.254.169.254/"} {
		_, err := g.Client(egress.Policy{}).Get(raw)
		require.ErrorIs(t, err, egress.ErrForbidden, raw)
	}
	require.EqualValues(t, 1, proxied.Load())
}

func TestCheckURLAcceptsTestPublicAddressOnlyOnItsPort(t *testing.T) {
	t.Parallel()
	g := egress.New(egress.Config{})
	egresstest.TreatAsPublic(g, netip.MustParseAddrPort("127.0.0.1:8080"))
	require.NoError(t, g.CheckURL("http://127.0.0.1:8080/", egress.Policy{}))
	require.NoError(t, g.CheckURL("http://0x7f.1:8080/", egress.Policy{}))
	require.ErrorIs(t, g.CheckURL("http://127.0.0.1:8081/", egress.Policy{}), egress.ErrForbidden)
	require.ErrorIs(t, g.CheckURL("http://127.0.0.1/", egress.Policy{}), egress.ErrForbidden)
	require.ErrorIs(t, egress.New(egress.Config{}).CheckURL("http://127.0.0.1:8080/", egress.Policy{}), egress.ErrForbidden, "another guard is untouched")
}

func TestClientHonoursContext(t *testing.T) {
	t.Parallel()
	srv := hang(t)
	g := egresstest.Public(t, egress.Config{}, srv)
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	errc := make(chan error, 1)
	go func() {
		_, err := g.Client(egress.Policy{}).Do(req)
		errc <- err
	}()
	cancel()
	select {
	case err := <-errc:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(30 * time.Second):
		t.Fatal("the request did not end when its context was cancelled")
	}
}

func BenchmarkCheckURL(b *testing.B) {
	g := egress.New(egress.Config{})
	for _, raw := range []string{"https://threat-intel.example.com:8443/v1/ip/203.0.113.7/reputation", "http://0x7f.1/", "http://[::ffff:7f00:1]/", "https://8.8.8.8/"} {
		b.Run(raw, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = g.CheckURL(raw, egress.Policy{})
			}
		})
	}
}
