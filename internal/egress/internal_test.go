package egress

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/idna"
)

// TestNoProxyFromEnvironment: the guarded transports never read
// HTTP_PROXY and its siblings (http.ProxyFromEnvironment reads them once
// per process, so setting them here would prove nothing either way).
func TestNoProxyFromEnvironment(t *testing.T) {
	t.Parallel()
	g := New(Config{})
	require.Nil(t, g.public.base.Proxy)
	require.Nil(t, g.private.base.Proxy)
}

// TestControlHookRefusesTheDialedAddress checks the last line on its own:
// the dialer's Control hook refuses a forbidden address even when nothing
// before it did.
func TestControlHookRefusesTheDialedAddress(t *testing.T) {
	t.Parallel()
	var accepted atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			accepted.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	g := New(Config{})
	_, err := g.dialChecked(t.Context(), "tcp", addr, Policy{})
	require.ErrorIs(t, err, ErrForbidden)
	c, err := g.dialChecked(t.Context(), "tcp", addr, Policy{AllowPrivate: true})
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.Eventually(t, func() bool { return accepted.Load() == 1 }, 10*time.Second, 5*time.Millisecond,
		"only the allowed dial reached the server")
	_, err = g.dialChecked(t.Context(), "tcp", "169.254.169.254:80", Policy{AllowPrivate: true})
	require.ErrorIs(t, err, ErrForbidden)
}

// oracleForbidden is an independent reading of the final address, with
// the standard library's predicates and the few ranges it has none for: a
// dialed address it forbids must never pass the guard.
func oracleForbidden(a netip.Addr, p Policy) bool {
	a = a.Unmap().WithZone("")
	switch {
	case a.IsLoopback(), a.IsPrivate():
		return !p.AllowPrivate
	case a.IsUnspecified(), a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast(),
		a.IsMulticast(), !a.IsGlobalUnicast():
		return true
	}
	for _, pr := range []string{"100.64.0.0/10", "169.254.0.0/16", "0.0.0.0/8", "240.0.0.0/4", "::/96", "fd00:ec2::/32"} {
		if netip.MustParsePrefix(pr).Contains(a) {
			return true
		}
	}
	return a == netip.MustParseAddr("100.100.100.200")
}

var errRecorded = errors.New("recorded, not dialed")

// FuzzCheckURLAgreesWithDial: whatever the spelling, a URL that passes
// CheckURL is dialed (as Go's transport hands its host to the dialer) only
// at addresses the independent oracle allows, and the dial-time check
// agrees with CheckURL; and a host Go's own parsers read as a forbidden
// address never passes CheckURL.
func FuzzCheckURLAgreesWithDial(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1/", "http://2130706433/", "http://0x7f.1/", "http://0177.0.0.1/", "http://127.1/",
		"http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://[fe80::1%25eth0]/", "http://127.0.0.1./",
		"http://169.254.169.254/", "http://metadata.google.internal/", "http://[fd00:ec2::254]/", "https://example.com/",
		"http://１２７.０.０.１/", "http://8.8.8.8:8080/x", "http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::]/",
		"http://0/", "http://a.b.c.0x1/", "http://localhost/", "HTTP://EXAMPLE.COM./", "http://[::]/",
	} {
		f.Add(s)
	}
	public := netip.MustParseAddr("93.184.215.14")
	f.Fuzz(func(t *testing.T, raw string) {
		for _, p := range []Policy{{}, {AllowPrivate: true}} {
			g := New(Config{Resolver: resolverFunc(func(context.Context, string, string) ([]netip.Addr, error) {
				return []netip.Addr{public}, nil
			})})
			var dialed []netip.AddrPort
			g.dialFunc = func(_ context.Context, _, addr string, p Policy) (net.Conn, error) {
				ap, err := netip.ParseAddrPort(addr)
				require.NoError(t, err)
				dialed = append(dialed, ap)
				if err := g.controlCheck(addr, p); err != nil {
					return nil, err
				}
				return nil, errRecorded
			}
			if g.CheckURL(raw, p) != nil {
				continue
			}
			u, err := url.Parse(raw)
			require.NoError(t, err)
			host := u.Hostname()
			if a, err := netip.ParseAddr(host); err == nil {
				require.False(t, oracleForbidden(a, p), "%q passed CheckURL with %+v but is %s", raw, p, a)
			}
			if ip := net.ParseIP(host); ip != nil {
				a, _ := netip.AddrFromSlice(ip)
				require.False(t, oracleForbidden(a, p), "%q passed CheckURL with %+v but is %s", raw, p, a)
			}
			// What net/http hands the dialer: the IDNA lookup form of the
			// host, and the port or the scheme's.
			if ascii, err := idna.Lookup.ToASCII(host); err == nil && !isASCII(host) {
				host = ascii
			}
			port := u.Port()
			if port == "" {
				port = map[string]string{"http": "80", "https": "443"}[lower(u.Scheme)]
			}
			_, err = g.dial(t.Context(), "tcp", net.JoinHostPort(host, port), p)
			require.ErrorIs(t, err, errRecorded, "%q passed CheckURL with %+v but its dial was refused: %v", raw, p, err)
			for _, ap := range dialed {
				require.False(t, oracleForbidden(ap.Addr(), p), "%q passed CheckURL with %+v and dialed %s", raw, p, ap)
			}
		}
	})
}

type resolverFunc func(ctx context.Context, network, host string) ([]netip.Addr, error)

func (f resolverFunc) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	return f(ctx, network, host)
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func TestClassifyEmbeddings(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]class{
		"64:ff9b::808:808":   classPublic,
		"64:ff9b::7f00:1":    classLoopback,
		"64:ff9b::a9fe:a9fe": classMetadata,
		"2002:0a00:0001::":   classPrivate,
		"2002:0808:0808::":   classPublic,
		"::ffff:100.64.0.1":  classRefused,
		"2606:4700::1":       classPublic,
		"4000::1":            classRefused,
	} {
		require.Equal(t, want, classify(netip.MustParseAddr(addr)).class, addr)
	}
}
