package ratelimit

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Source tells a request's source address: the address of the connection
// (on Lambda, the adapter sets it to API Gateway's
// requestContext.http.sourceIp, which the caller cannot choose), or, when
// that connection comes from a trusted proxy, the address that proxy saw:
// the rightmost X-Forwarded-For entry that is not itself a trusted proxy.
// With no trusted proxies, X-Forwarded-For is ignored: anyone can write it.
type Source struct {
	// TrustedProxies are the networks of the reverse proxies in front of
	// the server whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
}

// Address returns r's source address without a port, as text ("" when
// the remote address is empty).
func (s Source) Address(r *http.Request) string {
	peer, ok := parseAddr(r.RemoteAddr)
	if !ok {
		return hostOf(r.RemoteAddr)
	}
	if !s.trusted(peer) {
		return peer.String()
	}
	// Each proxy appends the address it received the request from, so the
	// entries are read from the right; the first one that is not a
	// trusted proxy is the client as the last trusted proxy saw it.
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseAddr(strings.TrimSpace(hops[i]))
		if !ok {
			// A malformed entry ends what can be believed: the
			// request is keyed by the last address that was sound.
			break
		}
		peer = hop
		if !s.trusted(hop) {
			break
		}
	}
	return peer.String()
}

// Middleware sets each request's RemoteAddr to its source Address before
// next sees it, so that the rate limits (AddressKey, PrincipalKey) and the
// audit log read one answer.
func (s Source) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := s.Address(r)
		if addr != r.RemoteAddr {
			r = r.WithContext(r.Context()) // a shallow copy, as http.Request asks
			r.RemoteAddr = addr
		}
		next.ServeHTTP(w, r)
	})
}

func (s Source) trusted(a netip.Addr) bool {
	for _, p := range s.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseAddr reads an address with or without a port ("203.0.113.7",
// "203.0.113.7:5123", "[2001:db8::1]:443"), unmapping IPv4-in-IPv6 and
// dropping an IPv6 zone.
func parseAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(hostOf(s))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

func hostOf(s string) string {
	if host, _, err := net.SplitHostPort(s); err == nil {
		return host
	}
	return strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
}

// AddressKey keys a request by its source address (its RemoteAddr; put
// Source.Middleware in front to believe trusted proxies): "ip:" and an
// IPv4 address, or "ip:" and the /64 network of an IPv6 address, because
// one IPv6 host usually holds a whole /64 and could otherwise draw from
// as many buckets as it has addresses.
func AddressKey(r *http.Request) string {
	return "ip:" + AddressGroup(r.RemoteAddr)
}

// AddressGroup is the part of an address AddressKey keys by: an IPv4
// address itself, an IPv6 address's /64 network ("2001:db8:1:2::/64"),
// and anything unparsable as it is.
func AddressGroup(remote string) string {
	a, ok := parseAddr(remote)
	if !ok {
		return hostOf(remote)
	}
	if a.Is6() {
		p, err := a.Prefix(64)
		if err == nil {
			return p.String()
		}
	}
	return a.String()
}

// Default limits of failed authentications per source address
// (NewFailureLimit): a burst of 20, then one every 3 seconds (20 a
// minute). A client whose token expired fails a few times before it
// refreshes; a flood is stopped after 20.
const (
	DefaultFailureRate  = 1.0 / 3
	DefaultFailureBurst = 20
)

// FailureLimit limits, per source address (AddressKey), the requests whose
// credentials are missing or refused; it is an auth.FailureLimit. Only
// failures draw from the buckets, so a caller with a good token is never
// refused by it, even from an address that is being refused.
type FailureLimit struct {
	limiter *Limiter
}

// NewFailureLimit returns a FailureLimit whose buckets are limiter's.
func NewFailureLimit(limiter *Limiter) *FailureLimit {
	return &FailureLimit{limiter: limiter}
}

// AllowFailure counts one failed authentication of r's source address. It
// returns false, and how long until the next failure would be allowed,
// when the address has failed too often.
func (f *FailureLimit) AllowFailure(r *http.Request) (bool, time.Duration) {
	return f.limiter.Allow(AddressKey(r))
}
