package ratelimit

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSourceAddress(t *testing.T) {
	t.Parallel()
	proxies := Source{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}}
	cases := []struct {
		name   string
		source Source
		remote string
		xff    []string
		want   string
	}{
		{"the connection's address, without its port", Source{}, "203.0.113.7:5123", nil, "203.0.113.7"},
		{"on Lambda: API Gateway's sourceIp, no port", Source{}, "203.0.113.7", nil, "203.0.113.7"},
		{"X-Forwarded-For from an untrusted peer is ignored", Source{}, "203.0.113.7:1", []string{"198.51.100.1"}, "203.0.113.7"},
		{"an untrusted peer, even with proxies configured", proxies, "203.0.113.7:1", []string{"198.51.100.1"}, "203.0.113.7"},
		{"a trusted proxy: the address it saw", proxies, "10.1.2.3:1", []string{"198.51.100.1"}, "198.51.100.1"},
		{"what the client wrote before the proxy's entry is not believed", proxies, "10.1.2.3:1", []string{"192.0.2.66, 198.51.100.1"}, "198.51.100.1"},
		{"a chain of trusted proxies", proxies, "10.1.2.3:1", []string{"198.51.100.1, 10.9.9.9", "10.8.8.8"}, "198.51.100.1"},
		{"only trusted proxies: the first", proxies, "10.1.2.3:1", []string{"10.9.9.9"}, "10.9.9.9"},
		{"a trusted proxy without the header", proxies, "10.1.2.3:1", nil, "10.1.2.3"},
		{"a malformed entry ends what is believed", proxies, "10.1.2.3:1", []string{"198.51.100.1, not-an-address"}, "10.1.2.3"},
		{"IPv6 with a port and a trusted IPv6 proxy", proxies, "[fd00::1]:443", []string{"2001:db8::5"}, "2001:db8::5"},
		{"IPv4 in IPv6 is unmapped", Source{}, "[::ffff:203.0.113.7]:1", nil, "203.0.113.7"},
		{"an unparsable remote address is kept", Source{}, "pipe", nil, "pipe"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/v1/workflows", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			require.Equal(t, tc.want, tc.source.Address(r))

			var seen string
			tc.source.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = r.RemoteAddr })).
				ServeHTTP(httptest.NewRecorder(), r)
			require.Equal(t, tc.want, seen, "the middleware puts the source in RemoteAddr")
		})
	}
}

func TestAddressKeyGroupsIPv6By64(t *testing.T) {
	t.Parallel()
	key := func(remote string) string {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = remote
		return AddressKey(r)
	}
	require.Equal(t, "ip:203.0.113.7", key("203.0.113.7:80"))
	require.Equal(t, "ip:2001:db8:1:2::/64", key("[2001:db8:1:2::1]:80"))
	require.Equal(t, key("[2001:db8:1:2::1]:80"), key("[2001:db8:1:2:ffff::9]:80"), "one /64, one bucket")
	require.NotEqual(t, key("[2001:db8:1:2::1]:80"), key("[2001:db8:1:3::1]:80"))
}

func TestFailureLimitCountsPerAddress(t *testing.T) {
	t.Parallel()
	l, c := setup(t, Options{Rate: DefaultFailureRate, Burst: DefaultFailureBurst})
	f := NewFailureLimit(l)
	from := func(addr string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = addr
		return r
	}
	for i := range DefaultFailureBurst {
		ok, _ := f.AllowFailure(from("203.0.113.7:1"))
		require.True(t, ok, i)
	}
	ok, wait := f.AllowFailure(from("203.0.113.7:2"))
	require.False(t, ok, "the port does not make another source")
	require.Positive(t, wait)
	ok, _ = f.AllowFailure(from("198.51.100.1:1"))
	require.True(t, ok, "another address has its own bucket")
	c.Advance(wait)
	ok, _ = f.AllowFailure(from("203.0.113.7:1"))
	require.True(t, ok, "one more after Retry-After")
}
