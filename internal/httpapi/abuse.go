package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aiflow/aiflow/internal/audit"
	"github.com/aiflow/aiflow/internal/ratelimit"
)

// guardAbuse gives the guard its defences against floods of requests
// without accepted credentials: the failure limit per source address
// (Options.FailureLimiter: 429 with Retry-After past it) and the bounded
// audit of denials (audit.Denials: one record for a source's first denial
// in an interval, one with the count of the rest).
func (s *Server) guardAbuse() {
	if s.opts.FailureLimiter != nil {
		s.guard.FailureLimit = ratelimit.NewFailureLimit(s.opts.FailureLimiter)
	}
	if s.opts.Audit == nil {
		return
	}
	logger := s.opts.Logger
	s.denials = audit.NewDenials(s.opts.Audit, audit.DenialsOptions{
		Interval:   s.opts.DenialInterval,
		SourceFunc: func(r *http.Request) string { return ratelimit.AddressGroup(r.RemoteAddr) },
		NowFunc:    s.opts.NowFunc,
		ErrorFunc: func(ctx context.Context, err error) {
			logger.ErrorContext(ctx, "auditing a denial", "error", err)
		},
	})
	s.guard.AuditFunc = s.denials.Audit
}

// sourced writes, before a guarded route, the denial counts of the
// intervals that have closed. (ServeHTTP has set the request's RemoteAddr
// to its source address already.)
func (s *Server) sourced(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.denials != nil {
			s.denials.FlushDue(r.Context())
		}
		next.ServeHTTP(w, r)
	})
}

// Close writes the audit records still pending: the counts of the
// denials of the current interval (see Options.DenialInterval). Call it
// when the server stops; it returns the appends' errors.
func (s *Server) Close(ctx context.Context) error {
	if s.denials == nil {
		return nil
	}
	if err := s.denials.Flush(ctx); err != nil {
		return fmt.Errorf("writing the pending denial counts to the audit log: %w", err)
	}
	return nil
}

// NewFailureLimiter returns the default limit of requests without
// accepted credentials per source address: bursts of
// ratelimit.DefaultFailureBurst, then ratelimit.DefaultFailureRate a
// second.
func NewFailureLimiter() (*ratelimit.Limiter, error) {
	l, err := ratelimit.New(ratelimit.Options{Rate: ratelimit.DefaultFailureRate, Burst: ratelimit.DefaultFailureBurst})
	if err != nil {
		return nil, fmt.Errorf("making the failure limiter: %w", err)
	}
	return l, nil
}
