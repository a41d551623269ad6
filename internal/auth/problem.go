package auth

import (
	"encoding/json"
	"net/http"

	"github.com/aiflow/aiflow/internal/telemetry"
)

// Problem is an RFC 9457 problem detail, written by WriteProblem.
type Problem struct {
	// Type is a URI naming the kind of problem; empty means about:blank.
	Type string
	// Title is a short summary; empty means the status's text.
	Title string
	// Status is the HTTP status code.
	Status int
	// Detail explains this occurrence to the caller.
	Detail string
}

// WriteProblem answers r with p as application/problem+json: type, title,
// status, detail, instance (the request's path) and, when the request has
// one, request_id. It is the same shape internal/httpapi writes, so a
// caller sees one kind of error body whichever layer refused it.
func WriteProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	body := map[string]any{
		"type":     p.Type,
		"title":    p.Title,
		"status":   p.Status,
		"detail":   p.Detail,
		"instance": r.URL.Path,
	}
	if id := telemetry.RequestID(r.Context()); id != "" {
		body["request_id"] = id
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(body)
}
