package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/clock/clocktest"
	"github.com/aiflow/aiflow/internal/telemetry"
)

type guardBundle struct {
	clock   *clocktest.Manual
	guard   *Guard
	handler http.Handler
	mu      sync.Mutex
	denials []Denial
}

func setupGuard(t *testing.T, perm Permission) *guardBundle {
	t.Helper()
	b := &guardBundle{clock: newClock()}
	b.guard = &Guard{Authenticator: hmacVerifier(t, b.clock), AuditFunc: func(ctx context.Context, d Denial) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.denials = append(b.denials, d)
	}}
	b.handler = b.guard.RequireFunc(perm, func(w http.ResponseWriter, r *http.Request) {
		p, ok := FromContext(r.Context())
		if !ok {
			http.Error(w, "no principal", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("hello " + p.Subject))
	})
	return b
}

func (b *guardBundle) do(t *testing.T, authorization string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/v1/workflows/w/executions", nil)
	r = r.WithContext(telemetry.WithRequestID(r.Context(), "req-1"))
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	w := httptest.NewRecorder()
	b.handler.ServeHTTP(w, r)
	var body map[string]any
	if w.Header().Get("Content-Type") == "application/problem+json" {
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	}
	return w, body
}

func (b *guardBundle) lastDenial(t *testing.T) Denial {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	require.NotEmpty(t, b.denials)
	return b.denials[len(b.denials)-1]
}

func TestGuardLetsAnAllowedCallerThrough(t *testing.T) {
	t.Parallel()
	b := setupGuard(t, PermExecutionsStart)
	w, _ := b.do(t, "Bearer "+sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(b.clock, nil)))
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, "hello alice", w.Body.String())
	require.Empty(t, b.denials)
}

func TestGuardWithoutToken(t *testing.T) {
	t.Parallel()
	b := setupGuard(t, PermExecutionsStart)
	w, body := b.do(t, "")
	require.Equal(t, http.StatusUnauthorized, w.Code)
	require.Equal(t, `Bearer realm="aiflow"`, w.Header().Get("WWW-Authenticate"))
	require.Equal(t, map[string]any{
		"type": "about:blank", "title": "Unauthorized", "status": float64(401),
		"detail":   "the request has no bearer token; send Authorization: Bearer <token>",
		"instance": "/v1/workflows/w/executions", "request_id": "req-1",
	}, body)
	d := b.lastDenial(t)
	require.Equal(t, "", d.Principal.Subject)
	require.Equal(t, PermExecutionsStart, d.Permission)
	require.Equal(t, http.StatusUnauthorized, d.Status)
	require.Equal(t, "/v1/workflows/w/executions", d.Request.URL.Path)
}

func TestGuardWithInvalidToken(t *testing.T) {
	t.Parallel()
	b := setupGuard(t, PermExecutionsStart)
	tok := sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(b.clock, func(m jwt.MapClaims) { m["exp"] = b.clock.Now().Add(-5 * time.Minute).Unix() }))
	w, body := b.do(t, "Bearer "+tok)
	require.Equal(t, http.StatusUnauthorized, w.Code)
	require.Equal(t, `Bearer realm="aiflow", error="invalid_token", error_description="the token has expired"`, w.Header().Get("WWW-Authenticate"))
	require.Equal(t, "the token has expired", body["detail"])
	require.NotContains(t, w.Body.String(), tok)
	d := b.lastDenial(t)
	require.Equal(t, "the token has expired", d.Reason)
	require.NotContains(t, d.Reason, tok)
}

func TestGuardNamesTheServiceRole(t *testing.T) {
	t.Parallel()
	b := setupGuard(t, PermServicesManage)
	w, body := b.do(t, "Bearer "+sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(b.clock, nil)))
	require.Equal(t, http.StatusForbidden, w.Code)
	require.Equal(t, "services:manage requires the admin role or a higher one, or the service role; the caller has the roles operator", body["detail"])
	w, _ = b.do(t, "Bearer "+sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(b.clock, func(m jwt.MapClaims) {
		m["sub"], m["roles"] = "service:threat-intel", []string{"service"}
	})))
	require.Equal(t, http.StatusOK, w.Code, "the service role holds services:manage")
}

func TestGuardWithoutPermission(t *testing.T) {
	t.Parallel()
	b := setupGuard(t, PermWorkflowsPublish)
	w, body := b.do(t, "Bearer "+sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(b.clock, nil)))
	require.Equal(t, http.StatusForbidden, w.Code)
	require.Equal(t, `Bearer realm="aiflow", error="insufficient_scope", scope="workflows:publish"`, w.Header().Get("WWW-Authenticate"))
	require.Equal(t, "workflows:publish requires the author role or a higher one; the caller has the roles operator", body["detail"])
	require.Equal(t, float64(403), body["status"])
	d := b.lastDenial(t)
	require.Equal(t, "alice", d.Principal.Subject)
	require.Equal(t, http.StatusForbidden, d.Status)

	w, body = b.do(t, "Bearer "+sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(b.clock, func(m jwt.MapClaims) { m["roles"] = []string{"superuser"} })))
	require.Equal(t, http.StatusForbidden, w.Code, "unknown roles grant nothing")
	require.Contains(t, body["detail"], "the caller has no role")
}

// authFunc adapts a function to Authenticator.
type authFunc func(r *http.Request) (Principal, error)

func (f authFunc) Authenticate(r *http.Request) (Principal, error) { return f(r) }

func TestGuardWhenKeysAreUnavailable(t *testing.T) {
	t.Parallel()
	var denied []Denial
	g := &Guard{
		Authenticator: authFunc(func(*http.Request) (Principal, error) {
			return Principal{}, errors.Join(ErrKeysUnavailable, errors.New("dial tcp: refused"))
		}),
		AuditFunc: func(_ context.Context, d Denial) { denied = append(denied, d) },
	}
	w := httptest.NewRecorder()
	g.Require(PermHealth, http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	require.Equal(t, "5", w.Header().Get("Retry-After"))
	require.NotContains(t, w.Body.String(), "dial tcp", "internal errors stay inside")
	require.Len(t, denied, 1)
	require.Equal(t, http.StatusServiceUnavailable, denied[0].Status)
}

func TestGuardRefusesUnknownPermissionAtRegistration(t *testing.T) {
	t.Parallel()
	g := &Guard{Authenticator: authFunc(func(*http.Request) (Principal, error) { return Principal{}, nil })}
	require.PanicsWithValue(t, `auth: Require: unknown permission "workflows:delete"`, func() {
		g.Require("workflows:delete", http.NotFoundHandler())
	})
	require.Panics(t, func() { (&Guard{}).Require(PermHealth, http.NotFoundHandler()) })
}

// failureLimitFunc adapts a function to FailureLimit.
type failureLimitFunc func(r *http.Request) (bool, time.Duration)

func (f failureLimitFunc) AllowFailure(r *http.Request) (bool, time.Duration) { return f(r) }

func TestGuardFailureLimit(t *testing.T) {
	t.Parallel()
	b := setupGuard(t, PermExecutionsStart)
	var asked int
	allow := true
	b.guard.FailureLimit = failureLimitFunc(func(*http.Request) (bool, time.Duration) {
		asked++
		return allow, 1500 * time.Millisecond
	})

	w, _ := b.do(t, "")
	require.Equal(t, http.StatusUnauthorized, w.Code, "within the limit: 401 as before")
	require.Equal(t, 1, asked)

	allow = false
	for _, authz := range []string{"", "Bearer not-a-token"} {
		w, body := b.do(t, authz)
		require.Equal(t, http.StatusTooManyRequests, w.Code)
		require.Equal(t, "2", w.Header().Get("Retry-After"), "whole seconds, rounded up")
		require.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
		require.Equal(t, "Too Many Requests", body["title"])
		require.Equal(t, "too many requests without accepted credentials from this address; retry in 2 s", body["detail"])
		d := b.lastDenial(t)
		require.Equal(t, http.StatusTooManyRequests, d.Status)
		require.Equal(t, PermExecutionsStart, d.Permission)
	}
	require.Equal(t, 3, asked)

	w, _ = b.do(t, "Bearer "+sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(b.clock, nil)))
	require.Equal(t, http.StatusOK, w.Code, "an accepted token is never refused by the failure limit")
	w, _ = b.do(t, "Bearer "+sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(b.clock, func(m jwt.MapClaims) { m["roles"] = []string{"viewer"} })))
	require.Equal(t, http.StatusForbidden, w.Code, "a caller without the permission is authenticated: 403, not counted")
	require.Equal(t, 3, asked)
}
