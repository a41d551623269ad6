package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aiflow/aiflow/internal/audit"
	"github.com/aiflow/aiflow/internal/auth"
)

type auditKey struct{}

// auditNote adds a detail to the audit record of a mutating request.
func auditNote(r *http.Request, key string, value any) {
	if m, ok := r.Context().Value(auditKey{}).(map[string]any); ok {
		m[key] = value
	}
}

// auditMode says which answers of a mutating route are audited.
type auditMode int

const (
	// auditMutations audits every answer.
	auditMutations auditMode = iota
	// auditFailures audits the answers of 400 and more only.
	auditFailures
)

// audited appends a record of every request next answers (of those that
// failed, under auditFailures): the
// permission as the action, succeeded below 400 and failed otherwise,
// with the status and what the handler noted. Denials never reach it: the
// guard audits those. The answer is held until the record is written, so
// that no mutation is acknowledged without its record: when the record
// cannot be written, a mutation that succeeded is answered 503 (or 500)
// instead, and the caller's retry (with its idempotency key for a start)
// is audited.
func (s *Server) audited(perm auth.Permission, mode auditMode, next http.Handler) http.Handler {
	if s.opts.Audit == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		details := map[string]any{}
		r = r.WithContext(context.WithValue(r.Context(), auditKey{}, details))
		rec := newHeldResponse()
		next.ServeHTTP(rec, r)
		if mode == auditFailures && rec.status < 400 {
			rec.sendTo(w)
			return
		}
		entry := audit.FromRequest(r)
		entry.Action = string(perm)
		entry.Outcome = audit.OutcomeSucceeded
		if rec.status >= 400 {
			entry.Outcome = audit.OutcomeFailed
		}
		details["status"] = rec.status
		entry.Details = marshalDetails(details)
		// The record is written even when the caller has hung up.
		if _, err := s.opts.Audit.Append(context.WithoutCancel(r.Context()), entry); err != nil {
			s.opts.Logger.ErrorContext(r.Context(), "auditing a request", "error", err)
			if entry.Outcome == audit.OutcomeSucceeded {
				s.fail(w, r, fmt.Errorf("auditing a mutation that succeeded: %w", err))
				return
			}
		}
		rec.sendTo(w)
	})
}
