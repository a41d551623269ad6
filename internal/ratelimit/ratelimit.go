// Package ratelimit owns the API's rate limits: a token bucket per key (a
// principal's subject, or an address for requests without one) in bounded
// memory, an HTTP middleware that answers 429 with Retry-After as RFC 9457
// problem+json, the limit of failed authentications per source address
// (FailureLimit, which auth.Guard consults), and what a request's source
// address is (Source: the connection's, or X-Forwarded-For from a trusted
// proxy only).
package ratelimit

import (
	"container/list"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aiflow/aiflow/internal/auth"
)

// DefaultMaxKeys is how many keys a Limiter tracks when Options.MaxKeys is
// zero.
const DefaultMaxKeys = 10000

// Options configure New.
type Options struct {
	// Rate is how many requests per second each key may make, on average;
	// it must be positive.
	Rate float64
	// Burst is how many requests a key may make at once after a pause;
	// at least 1.
	Burst int
	// MaxKeys bounds how many keys are tracked; zero means
	// DefaultMaxKeys. When it is reached, the least recently seen key is
	// forgotten (and starts again with a full bucket when it returns).
	MaxKeys int
	// NowFunc is the clock; nil means time.Now.
	NowFunc func() time.Time
}

// Limiter is a set of token buckets, one per key. A key unseen for as
// long as its bucket takes to fill is forgotten: a full bucket is what a
// new key gets, so forgetting it changes nothing. Limiter is safe for
// concurrent use.
type Limiter struct {
	rate    float64
	burst   float64
	maxKeys int
	idle    time.Duration // how long an empty bucket takes to fill
	now     func() time.Time

	mu   sync.Mutex
	keys map[string]*list.Element // of *bucket
	lru  *list.List               // front: most recently seen
}

type bucket struct {
	key    string
	tokens float64
	last   time.Time
}

// New returns a Limiter, or an error naming a bad option.
func New(opts Options) (*Limiter, error) {
	switch {
	case !(opts.Rate > 0) || math.IsInf(opts.Rate, 0):
		return nil, fmt.Errorf("configuring the rate limit: the rate %v is not a positive number of requests per second", opts.Rate)
	case opts.Burst < 1:
		return nil, fmt.Errorf("configuring the rate limit: the burst %d is less than 1", opts.Burst)
	case opts.MaxKeys < 0:
		return nil, errors.New("configuring the rate limit: MaxKeys is negative")
	}
	if opts.MaxKeys == 0 {
		opts.MaxKeys = DefaultMaxKeys
	}
	if opts.NowFunc == nil {
		opts.NowFunc = time.Now
	}
	return &Limiter{
		rate: opts.Rate, burst: float64(opts.Burst), maxKeys: opts.MaxKeys,
		idle: time.Duration(float64(opts.Burst) / opts.Rate * float64(time.Second)),
		now:  opts.NowFunc, keys: make(map[string]*list.Element), lru: list.New(),
	}, nil
}

// Allow takes one token from key's bucket. It returns true when there was
// one; otherwise false and how long until there will be.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forgetIdle(now)
	var b *bucket
	if el, found := l.keys[key]; found {
		b = el.Value.(*bucket)
		if elapsed := now.Sub(b.last); elapsed > 0 {
			b.tokens = math.Min(l.burst, b.tokens+elapsed.Seconds()*l.rate)
			b.last = now
		}
		l.lru.MoveToFront(el)
	} else {
		if l.lru.Len() >= l.maxKeys {
			l.remove(l.lru.Back())
		}
		b = &bucket{key: key, tokens: l.burst, last: now}
		l.keys[key] = l.lru.PushFront(b)
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration(math.Ceil((1 - b.tokens) / l.rate * float64(time.Second)))
}

// forgetIdle drops the keys whose buckets have filled since they were last
// seen, oldest first; each call does only what has become due, so the cost
// is spread over the calls.
func (l *Limiter) forgetIdle(now time.Time) {
	for el := l.lru.Back(); el != nil; el = l.lru.Back() {
		if now.Sub(el.Value.(*bucket).last) < l.idle {
			return
		}
		l.remove(el)
	}
}

func (l *Limiter) remove(el *list.Element) {
	delete(l.keys, el.Value.(*bucket).key)
	l.lru.Remove(el)
}

// Len returns how many keys are tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// KeyFunc names the bucket a request draws from.
type KeyFunc func(r *http.Request) string

// PrincipalKey keys a request by its caller: "sub:" and the subject of the
// Principal auth.Guard put in its context, or, for a request without one,
// "ip:" and its remote address. Apply the limit inside the Guard so that it
// counts per principal.
func PrincipalKey(r *http.Request) string {
	if p, ok := auth.FromContext(r.Context()); ok && p.Subject != "" {
		return "sub:" + p.Subject
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "ip:" + host
}

// Middleware lets a request through to next when its key (keyFunc, or
// PrincipalKey when nil) has a token, and otherwise answers 429 Too Many
// Requests as problem+json, with Retry-After in whole seconds, at least 1.
func (l *Limiter) Middleware(keyFunc KeyFunc, next http.Handler) http.Handler {
	if keyFunc == nil {
		keyFunc = PrincipalKey
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, wait := l.Allow(keyFunc(r))
		if ok {
			next.ServeHTTP(w, r)
			return
		}
		secs := max(1, int64(math.Ceil(wait.Seconds())))
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		auth.WriteProblem(w, r, auth.Problem{
			Status: http.StatusTooManyRequests,
			Title:  "Too Many Requests",
			Detail: fmt.Sprintf("the rate limit is %s requests per second with bursts of %d; retry in %d s",
				strconv.FormatFloat(l.rate, 'f', -1, 64), int(l.burst), secs),
		})
	})
}
