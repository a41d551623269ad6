package httpapi

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/workflow"
)

// definitionFile is the file name diagnostics of a published definition
// name: "definition.yaml:12:5".
const definitionFile = "definition.yaml"

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
	checked, err := workflow.Load(definitionFile, src, s.opts.Catalog)
	if err != nil {
		s.fail(w, r, definitionProblem(err))
		return
	}
	name := checked.Workflow.Name
	auditNote(r, "workflow", name)
	auditNote(r, "dry_run", dryRun)
	m, err := workflow.Compile(checked)
	if err != nil {
		s.fail(w, r, definitionProblem(err))
		return
	}
	if problems := asl.Validate(m); len(problems) > 0 {
		s.fail(w, r, fmt.Errorf("compiling %s made an invalid state machine: %v", name, problems[0]))
		return
	}
	raw, err := m.MarshalIndent()
	if err != nil {
		s.fail(w, r, fmt.Errorf("encoding the state machine of %s: %w", name, err))
		return
	}
	compiled := string(raw)
	graph := workflow.Mermaid(checked)
	if dryRun {
		writeJSON(w, http.StatusOK, map[string]any{"valid": true, "workflow": name, "asl": compiled, "graph": graph})
		return
	}
	definition, err := s.substitute(compiled)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	arn, err := s.deploy(r, name, definition)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var schema string
	if checked.Workflow.Input != nil {
		schema = string(checked.Workflow.Input.Raw)
	}
	sum := sha256.Sum256(src)
	p, _ := auth.FromContext(r.Context())
	res, err := s.opts.Store.Publish(r.Context(), Version{
		Workflow: name, Definition: string(src), ASL: compiled, Graph: graph, InputSchema: schema,
		Checksum: "sha256:" + hex.EncodeToString(sum[:]), CreatedBy: p.Subject, CreatedAt: s.opts.NowFunc().UTC(),
	}, arn)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	auditNote(r, "version", res.Version.Version)
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	w.Header().Set("Location", versionPath(name, res.Version.Version))
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
		return readBody(w, r, MaxDefinitionBytes, "the definition")
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

// definitionProblem turns the checker's diagnostics into a 422 naming
// each file:line:col.
func definitionProblem(err error) error {
	var diags workflow.Diagnostics
	if !errors.As(err, &diags) {
		return &apiError{Status: http.StatusUnprocessableEntity, Type: typeInvalidDefinition, Title: "Invalid definition",
			Detail: "the definition could not be compiled", Errors: []FieldError{{Location: definitionFile, Detail: err.Error()}}}
	}
	errs := make([]FieldError, len(diags))
	for i, d := range diags {
		detail := d.Msg
		if d.Step != "" {
			detail += fmt.Sprintf(" (step %q)", d.Step)
		}
		if d.Hint != "" {
			detail += "; hint: " + d.Hint
		}
		errs[i] = FieldError{Location: fmt.Sprintf("%s:%d:%d", d.File, d.Pos.Line, d.Pos.Col), Detail: detail}
	}
	return &apiError{Status: http.StatusUnprocessableEntity, Type: typeInvalidDefinition, Title: "Invalid definition",
		Detail: fmt.Sprintf("the definition has %d error(s)", len(errs)), Errors: errs}
}

// substitute fills the compiler's queue substitutions with the
// deployment's queue URLs. A workflow using a kind of step this
// deployment has no queue for is refused.
func (s *Server) substitute(definition string) (string, error) {
	subs := []string{workflow.AIQueueSubstitution, workflow.MCPQueueSubstitution, workflow.ServiceQueueSubstitution, workflow.ApprovalQueueSubstitution}
	for _, sub := range subs {
		if !strings.Contains(definition, sub) {
			continue
		}
		url := s.opts.QueueURLs[sub]
		if url == "" {
			return "", &apiError{Status: http.StatusUnprocessableEntity, Type: typeInvalidDefinition, Title: "Invalid definition",
				Detail: fmt.Sprintf("this deployment has no queue for the steps that send to %s", sub)}
		}
		definition = strings.ReplaceAll(definition, sub, url)
	}
	return definition, nil
}

// deploy creates the workflow's state machine, or updates the one it was
// published to before, and returns its ARN.
func (s *Server) deploy(r *http.Request, name, definition string) (string, error) {
	ctx := r.Context()
	arn, err := s.opts.Store.StateMachineARN(ctx, name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", err
	}
	if arn != "" {
		_, err := s.opts.Machines.UpdateStateMachine(ctx, sfn.UpdateStateMachineInput{StateMachineARN: arn, Definition: &definition})
		var ee *sfn.Error
		if err == nil || !errors.As(err, &ee) || ee.Code != sfn.CodeStateMachineDoesNotExist {
			return arn, err
		}
		// The engine lost it (a local engine kept in memory): create it again.
	}
	var role string
	if s.opts.StateMachineRoleARN != "" {
		role = s.opts.StateMachineRoleARN
	}
	out, err := s.opts.Machines.CreateStateMachine(ctx, sfn.CreateStateMachineInput{
		Name: s.opts.StateMachinePrefix + name, Definition: definition, RoleARN: role,
	})
	var ee *sfn.Error
	if errors.As(err, &ee) && ee.Code == sfn.CodeStateMachineAlreadyExists {
		return "", &apiError{Status: http.StatusConflict, Title: "Conflict",
			Detail: fmt.Sprintf("a state machine named %s exists that this API did not publish; delete it or publish under another name", s.opts.StateMachinePrefix+name)}
	}
	if err != nil {
		return "", err
	}
	return out.StateMachineARN, nil
}

func versionPath(name string, v int) string {
	return "/v1/workflows/" + name + "/versions/" + strconv.Itoa(v)
}

// versionSummary is a version without its texts.
func versionSummary(v Version) map[string]any {
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
		items = []Workflow{}
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
	if err != nil {
		return "", badCursor()
	}
	return string(raw), nil
}

func badCursor() *apiError {
	return &apiError{Status: http.StatusBadRequest, Title: "Invalid request",
		Detail: "the cursor is not one this API returned", Errors: []FieldError{{Location: "query:cursor", Detail: "invalid cursor"}}}
}
