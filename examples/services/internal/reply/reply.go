// Package reply writes the example services' answers: JSON bodies, and
// errors as RFC 9457 problem details (application/problem+json with type,
// title, status, detail and instance), the shape aiflow's own API answers
// with, which the service step reads into a Service.HTTP4xx or
// Service.HTTP5xx error's cause.
package reply

import (
	"encoding/json"
	"net/http"
)

// JSON answers with status and v as application/json.
func JSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		Problem(w, nil, http.StatusInternalServerError, "encoding the response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// Problem answers with status and detail as application/problem+json;
// r, when given, names the instance (the request's path).
func Problem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	body := map[string]any{
		"type":   "about:blank",
		"title":  http.StatusText(status),
		"status": status,
		"detail": detail,
	}
	if r != nil {
		body["instance"] = r.URL.EscapedPath()
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// Methods answers 405 with the Allow header unless r's method is one of
// allowed, and reports whether it did.
func Methods(w http.ResponseWriter, r *http.Request, allowed ...string) bool {
	for _, m := range allowed {
		if r.Method == m || (m == http.MethodGet && r.Method == http.MethodHead) {
			return false
		}
	}
	allow := ""
	for i, m := range allowed {
		if i > 0 {
			allow += ", "
		}
		allow += m
	}
	w.Header().Set("Allow", allow)
	Problem(w, r, http.StatusMethodNotAllowed, "the method "+r.Method+" is not allowed here (allowed: "+allow+")")
	return true
}
