package audit

import (
	"context"
	"net"
	"net/http"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// Anonymous is the actor of a request that carried no accepted
// credentials.
const Anonymous = "anonymous"

// FromRequest returns a record of r with its actor (the Principal that
// auth.Guard put in its context, or Anonymous), request id, source ip and
// user agent filled in; the caller sets Action, Outcome and what else it
// knows. Resource is the method and path, such as
// "POST /v1/workflows/summarize/executions".
//
// The source ip is the request's remote address: on Lambda the adapter
// sets it to API Gateway's sourceIp; X-Forwarded-For is believed only
// when httpapi's ratelimit.Source middleware, configured with trusted
// proxies, has put the address they saw there.
func FromRequest(r *http.Request) Record {
	actor := Anonymous
	if p, ok := auth.FromContext(r.Context()); ok && p.Subject != "" {
		actor = p.Subject
	}
	return Record{
		Actor:     actor,
		Resource:  r.Method + " " + r.URL.Path,
		RequestID: telemetry.RequestID(r.Context()),
		SourceIP:  sourceIP(r.RemoteAddr),
		UserAgent: r.UserAgent(),
	}
}

func sourceIP(remote string) string {
	if host, _, err := net.SplitHostPort(remote); err == nil {
		return host
	}
	return remote
}

// DenialFunc returns an auth.AuditFunc that appends every denial of an
// auth.Guard to l, one record each (Denials bounds them per source and
// interval, which a server open to the world needs): the permission as the action, outcome denied, and the
// status and reason in the details. A failed append is passed to
// errorFunc (which may be nil); the denial is answered either way.
func DenialFunc(l *Log, errorFunc func(ctx context.Context, err error)) auth.AuditFunc {
	return func(ctx context.Context, d auth.Denial) {
		// The denial is recorded even when the caller has already hung up.
		if _, err := l.Append(context.WithoutCancel(ctx), denialRecord(d)); err != nil && errorFunc != nil {
			errorFunc(ctx, err)
		}
	}
}
