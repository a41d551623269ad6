package httpapi

import (
	"encoding/base64"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/control"
	"github.com/aiflow/aiflow/internal/textgate"
)

// publishRequest is the JSON form of POST /v1/workflows.
type publishRequest struct {
	// Definition is the workflow's text, YAML or JSON.
	Definition string `json:"definition"`
}

// publishWorkflow validates, type-checks and compiles a definition, then
// (unless ?dry_run=true) creates or updates its state machine and stores
// an immutable version. Definitions come as application/yaml (the
// document itself) or application/json ({"definition": "..."}).
func (s *Server) publishWorkflow(w http.ResponseWriter, r *http.Request) {
	dryRun, err := boolParam(r, "dry_run")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	src, err := readDefinition(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, _ := auth.FromContext(r.Context())
	res, err := s.control.Publish(r.Context(), control.PublishParams{Definition: src, DryRun: dryRun, Principal: p.Subject})
	if res.Name != "" {
		auditNote(r, "workflow", res.Name)
		auditNote(r, "dry_run", dryRun)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if dryRun {
		writeJSON(w, http.StatusOK, map[string]any{"valid": true, "workflow": res.Name, "asl": res.ASL, "graph": res.Graph})
		return
	}
	auditNote(r, "version", res.Version.Version)
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	w.Header().Set("Location", versionPath(res.Name, res.Version.Version))
	writeJSON(w, status, map[string]any{
		"workflow": res.Workflow,
		"version":  versionSummary(res.Version),
		"created":  res.Created,
	})
}

// readDefinition returns the definition's text from a YAML or JSON body.
func readDefinition(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mt = ""
	}
	switch mt {
	case "application/yaml", "application/x-yaml", "text/yaml":
		data, err := readBody(w, r, MaxDefinitionBytes, "the definition")
		if err != nil {
			return nil, err
		}
		if err := checkDefinitionText(data); err != nil {
			return nil, err
		}
		return data, nil
	case "application/json":
		// A definition's text escaped in JSON may grow; its own size is
		// checked once decoded.
		data, err := readBody(w, r, 2*MaxDefinitionBytes+envelopeBytes, "the request body")
		if err != nil {
			return nil, err
		}
		var req publishRequest
		if err := decodeStrict(data, &req); err != nil {
			return nil, err
		}
		if strings.TrimSpace(req.Definition) == "" {
			return nil, badRequest("the definition is empty", FieldError{Pointer: "/definition", Detail: "required"})
		}
		if len(req.Definition) > MaxDefinitionBytes {
			return nil, tooLarge("the definition", MaxDefinitionBytes)
		}
		return []byte(req.Definition), nil
	default:
		return nil, &apiError{Status: http.StatusUnsupportedMediaType, Title: "Unsupported Media Type",
			Detail: `send the definition as application/yaml, or as application/json {"definition": "..."}`}
	}
}

func versionPath(name string, v int) string {
	return "/v1/workflows/" + name + "/versions/" + strconv.Itoa(v)
}

// versionSummary is a version without its texts.
func versionSummary(v apistore.Version) map[string]any {
	return map[string]any{"version": v.Version, "checksum": v.Checksum, "created_by": v.CreatedBy,
		"created_at": v.CreatedAt, "href": versionPath(v.Workflow, v.Version)}
}

func (s *Server) listWorkflows(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	after, err := cursorParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items, err := s.opts.Store.Workflows(r.Context(), after, limit+1)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := map[string]any{}
	if len(items) > limit {
		items = items[:limit]
		page["next_cursor"] = encodeCursor(items[limit-1].Name)
	}
	if items == nil {
		items = []apistore.Workflow{}
	}
	page["items"] = items
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) getWorkflow(w http.ResponseWriter, r *http.Request) {
	wf, err := s.opts.Store.Workflow(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.opts.Store.Version(r.Context(), wf.Name, wf.LatestVersion)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name": wf.Name, "state_machine_arn": wf.StateMachineARN, "latest_version": wf.LatestVersion,
		"created_at": wf.CreatedAt, "updated_at": wf.UpdatedAt, "latest": versionSummary(v),
	})
}

func (s *Server) getVersion(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || n < 1 {
		s.fail(w, r, &apiError{Status: http.StatusBadRequest, Title: "Invalid request",
			Detail: "a version is a number from 1", Errors: []FieldError{{Location: "path:version", Detail: "not a positive integer"}}})
		return
	}
	v, err := s.opts.Store.Version(r.Context(), r.PathValue("name"), n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// Pagination: limit is 1 to 100 (default 20); a cursor is opaque.
const (
	defaultLimit = 20
	maxLimit     = 100
)

func limitParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxLimit {
		return 0, &apiError{Status: http.StatusBadRequest, Title: "Invalid request",
			Detail: fmt.Sprintf("limit is a number from 1 to %d", maxLimit), Errors: []FieldError{{Location: "query:limit", Detail: "out of range"}}}
	}
	return n, nil
}

func boolParam(r *http.Request, name string) (bool, error) {
	switch v := r.URL.Query().Get(name); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, &apiError{Status: http.StatusBadRequest, Title: "Invalid request",
			Detail: name + " is true or false", Errors: []FieldError{{Location: "query:" + name, Detail: fmt.Sprintf("%q is not true or false", v)}}}
	}
}

func encodeCursor(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func cursorParam(r *http.Request) (string, error) {
	v := r.URL.Query().Get("cursor")
	if v == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || !textgate.Valid(string(raw)) {
		return "", badCursor()
	}
	return string(raw), nil
}

func badCursor() *apiError {
	return &apiError{Status: http.StatusBadRequest, Title: "Invalid request",
		Detail: "the cursor is not one this API returned", Errors: []FieldError{{Location: "query:cursor", Detail: "invalid cursor"}}}
}
