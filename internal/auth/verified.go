package auth

import (
	"slices"
	"sync"
	"time"
)

// maxVerified bounds the tokens a Verifier remembers; when full, it starts
// again empty.
const maxVerified = 4096

// verifiedTokens remembers the tokens a Verifier accepted, by their raw
// text, until they expire: a caller sends the same token with every
// request, and parsing its claims again costs more than the rest of a
// read. Only tokens whose signature and claims were checked enter it, so
// a caller without a valid token cannot fill it.
//
// What a remembered token is accepted on is what Verify checks again:
// its exp (with the leeway) against the clock, and, with a JWKS, the key
// set it was verified with, still held and still fresh. A token whose
// keys were fetched again since, or are due to be, is verified in full,
// so a key the issuer withdraws stops its tokens as it did without the
// cache. The other checks (the signature, iss, aud, nbf, iat, the
// algorithm) cannot turn from passing to failing as time goes on.
type verifiedTokens struct {
	mu     sync.RWMutex
	tokens map[string]verifiedToken
}

type verifiedToken struct {
	principal Principal
	// until is the first instant the token is refused as expired.
	until time.Time
	// keys is when the key set that verified it was fetched (zero with
	// an HMAC key).
	keys time.Time
}

// lookup returns the Principal of a token accepted before and accepted
// still.
func (v *Verifier) lookupVerified(token string) (Principal, bool) {
	v.verified.mu.RLock()
	t, ok := v.verified.tokens[token]
	v.verified.mu.RUnlock()
	if !ok || !v.opts.NowFunc().Before(t.until) {
		return Principal{}, false
	}
	if v.keys != nil {
		fetched, fresh := v.keys.held()
		if !fresh || !fetched.Equal(t.keys) {
			return Principal{}, false
		}
	}
	p := t.principal
	p.Roles = slices.Clone(p.Roles)
	return p, true
}

// rememberVerified keeps a token Verify accepted, with the key set it
// was verified with (fetched is zero with an HMAC key). A token without
// an exp is not kept: Verify refuses those.
func (v *Verifier) rememberVerified(token string, p Principal, fetched time.Time) {
	if p.ExpiresAt.IsZero() {
		return
	}
	t := verifiedToken{principal: p, until: p.ExpiresAt.Add(v.opts.Leeway), keys: fetched}
	t.principal.Roles = slices.Clone(p.Roles)
	v.verified.mu.Lock()
	defer v.verified.mu.Unlock()
	if v.verified.tokens == nil || len(v.verified.tokens) >= maxVerified {
		v.verified.tokens = make(map[string]verifiedToken)
	}
	v.verified.tokens[token] = t
}

// held returns when the keys held were fetched, and whether they are
// fresh (lookup uses them without fetching).
func (s *keySet) held() (fetchedAt time.Time, fresh bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.fetchedAt, s.keys != nil && s.now().Sub(s.fetchedAt) < s.ttl
}
