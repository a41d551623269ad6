package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/steps/stepevent"
)

// ExecutionID is the id of an execution in URLs: its ARN in unpadded
// base64url, so that it works alike for Step Functions' ARNs and the local
// engine's, and needs no lookup.
func ExecutionID(arn string) string { return base64.RawURLEncoding.EncodeToString([]byte(arn)) }

// executionARN decodes an execution id; anything that is not one is a 404.
func executionARN(id string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || !strings.HasPrefix(string(raw), "arn:") || !strings.Contains(string(raw), ":execution:") {
		return "", notFound("no execution has the id " + id)
	}
	return string(raw), nil
}

// startRequest is the body of POST /v1/workflows/{name}/executions.
type startRequest struct {
	// Input is the execution input; absent means {}.
	Input json.RawMessage `json:"input"`
}

// idempotencyKeyMax bounds an Idempotency-Key header.
const idempotencyKeyMax = 255

func (s *Server) startExecution(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := r.PathValue("name")
	auditNote(r, "workflow", name)
	wf, err := s.opts.Store.Workflow(ctx, name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data, err := readBody(w, r, MaxInputBytes+envelopeBytes, "the request body")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req startRequest
	if len(bytes.TrimSpace(data)) > 0 {
		if err := decodeStrict(data, &req); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	input := req.Input
	if len(input) == 0 || string(input) == "null" {
		input = json.RawMessage("{}")
	}
	// Whitespace is not part of the input: a retry that spaces it
	// otherwise is the same request, to Step Functions too.
	var compact bytes.Buffer
	if err := json.Compact(&compact, input); err == nil {
		input = compact.Bytes()
	}
	if len(input) > MaxInputBytes {
		s.fail(w, r, &apiError{Status: http.StatusRequestEntityTooLarge, Type: typeTooLarge, Title: "Content Too Large",
			Detail: fmt.Sprintf("the input has %d bytes; at most %d are allowed", len(input), MaxInputBytes),
			Errors: []FieldError{{Pointer: "/input", Detail: "too large"}}})
		return
	}
	v, err := s.opts.Store.Version(ctx, wf.Name, wf.LatestVersion)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.schemas.check(v, input); err != nil {
		s.fail(w, r, err)
		return
	}

	p, _ := auth.FromContext(ctx)
	in := sfn.StartExecutionInput{StateMachineARN: wf.StateMachineARN, Input: string(input)}
	key := r.Header.Get("Idempotency-Key")
	replayed := false
	var earlier string // the execution a replayed key started
	if key != "" {
		if len(key) > idempotencyKeyMax || !saneKey(key) {
			s.fail(w, r, &apiError{Status: http.StatusBadRequest, Title: "Invalid request",
				Detail: fmt.Sprintf("an Idempotency-Key is 1 to %d printable characters", idempotencyKeyMax),
				Errors: []FieldError{{Location: "header:Idempotency-Key", Detail: "invalid"}}})
			return
		}
		in.Name = idempotentName(p.Subject, key)
		hash := requestHash(wf.Name, input)
		got, created, err := s.opts.Store.ClaimKey(ctx, IdempotencyKey{Principal: p.Subject, Key: key, RequestHash: hash,
			ExecutionARN: executionARNFor(wf.StateMachineARN, in.Name), CreatedAt: s.opts.NowFunc().UTC()})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if got.RequestHash != hash {
			s.fail(w, r, &apiError{Status: http.StatusConflict, Type: typeIdempotency, Title: "Conflict",
				Detail: "this Idempotency-Key was used with a different request; use a new key for a new request",
				Errors: []FieldError{{Location: "header:Idempotency-Key", Detail: "reused with another body or workflow"}}})
			return
		}
		replayed, earlier = !created, got.ExecutionARN
		auditNote(r, "idempotency_key", key)
	}
	var out sfn.StartExecutionOutput
	if replayed {
		// Step Functions refuses to start a closed execution's name again,
		// even with the same input: a replay returns the execution the key
		// started, and starts it only if the first attempt never did.
		e, err := s.opts.Machines.DescribeExecution(ctx, earlier)
		var ee *sfn.Error
		switch {
		case err == nil:
			out = sfn.StartExecutionOutput{ExecutionARN: e.ExecutionARN, StartDate: e.StartDate}
		case errors.As(err, &ee) && ee.Code == sfn.CodeExecutionDoesNotExist:
		default:
			s.fail(w, r, err)
			return
		}
	}
	if out.ExecutionARN == "" {
		var err error
		if out, err = s.opts.Machines.StartExecution(ctx, in); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	id := ExecutionID(out.ExecutionARN)
	auditNote(r, "execution", id)
	status := http.StatusCreated
	if replayed {
		status = http.StatusOK
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Location", "/v1/executions/"+id)
	writeJSON(w, status, map[string]any{
		"id": id, "arn": out.ExecutionARN, "name": executionName(out.ExecutionARN), "workflow": wf.Name,
		"version": wf.LatestVersion, "started_at": out.StartDate.UTC(), "href": "/v1/executions/" + id,
	})
}

// saneKey accepts printable ASCII.
func saneKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if k[i] < ' ' || k[i] > '~' {
			return false
		}
	}
	return true
}

// idempotentName is the execution name of a principal's key: the same key
// always names the same execution, which Step Functions (and the engine)
// return again when started again with the same input.
func idempotentName(principal, key string) string {
	sum := sha256.Sum256([]byte(principal + "\x00" + key))
	return "idem-" + hex.EncodeToString(sum[:20])
}

// requestHash identifies a start request: its workflow and its (compact)
// input.
func requestHash(workflow string, input json.RawMessage) string {
	sum := sha256.Sum256(append([]byte(workflow+"\x00"), input...))
	return hex.EncodeToString(sum[:])
}

// executionARNFor is the ARN an execution of a state machine gets, as Step
// Functions forms it.
func executionARNFor(stateMachineARN, name string) string {
	return strings.Replace(stateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + name
}

// executionName is the last part of an execution ARN.
func executionName(arn string) string { return arn[strings.LastIndexByte(arn, ':')+1:] }

// stateMachineName is the state machine part of an execution ARN.
func stateMachineName(arn string) string {
	_, rest, ok := strings.Cut(arn, ":execution:")
	if !ok {
		return ""
	}
	sm, _, _ := strings.Cut(rest, ":")
	return sm
}

// workflowOf names the workflow of an execution ARN.
func (s *Server) workflowOf(arn string) string {
	return strings.TrimPrefix(stateMachineName(arn), s.opts.StateMachinePrefix)
}

// schemaCache holds the compiled input schemas of versions, by checksum.
type schemaCache struct {
	m sync.Map // checksum -> *jsonschema.Schema
}

// check validates input against the version's input schema, answering a
// 422 that names each mismatch by its JSON pointer under /input.
func (c *schemaCache) check(v Version, input json.RawMessage) error {
	if v.InputSchema == "" {
		return nil
	}
	var schema *jsonschema.Schema
	if got, ok := c.m.Load(v.Checksum); ok {
		schema = got.(*jsonschema.Schema)
	} else {
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(v.InputSchema))
		if err != nil {
			return fmt.Errorf("reading the input schema of %s version %d: %w", v.Workflow, v.Version, err)
		}
		comp := jsonschema.NewCompiler()
		if err := comp.AddResource("input.json", doc); err != nil {
			return fmt.Errorf("reading the input schema of %s version %d: %w", v.Workflow, v.Version, err)
		}
		if schema, err = comp.Compile("input.json"); err != nil {
			return fmt.Errorf("compiling the input schema of %s version %d: %w", v.Workflow, v.Version, err)
		}
		c.m.Store(v.Checksum, schema)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(input))
	if err != nil {
		return badRequest("the input is not JSON", FieldError{Pointer: "/input", Detail: "not JSON"})
	}
	err = schema.Validate(inst)
	var verr *jsonschema.ValidationError
	if err == nil {
		return nil
	}
	if !errors.As(err, &verr) {
		return fmt.Errorf("validating an input of %s: %w", v.Workflow, err)
	}
	var errs []FieldError
	for _, u := range verr.BasicOutput().Errors {
		if u.Error == nil {
			continue
		}
		errs = append(errs, FieldError{Pointer: "/input" + u.InstanceLocation, Detail: u.Error.String()})
	}
	return &apiError{Status: http.StatusUnprocessableEntity, Type: typeInvalidInput, Title: "Invalid input",
		Detail: fmt.Sprintf("the input does not match the input schema of %s version %d", v.Workflow, v.Version), Errors: errs}
}

// executionView is an execution as the API shows it.
type executionView struct {
	ID          string          `json:"id"`
	ARN         string          `json:"arn"`
	Name        string          `json:"name"`
	Workflow    string          `json:"workflow"`
	Status      string          `json:"status"`
	Input       json.RawMessage `json:"input,omitempty"`
	Output      json.RawMessage `json:"output,omitempty"`
	Error       string          `json:"error,omitempty"`
	Cause       string          `json:"cause,omitempty"`
	CurrentStep string          `json:"current_step,omitempty"`
	StartedAt   time.Time       `json:"started_at"`
	StoppedAt   *time.Time      `json:"stopped_at,omitempty"`
	DurationMS  *int64          `json:"duration_ms,omitempty"`
	Usage       *usageView      `json:"usage,omitempty"`
}

// usageView sums the model calls of an execution's ai steps.
type usageView struct {
	InputTokens  int     `json:"input_tokens"`
	OutputTokens int     `json:"output_tokens"`
	CostUSD      float64 `json:"cost_usd"`
	ModelCalls   int     `json:"model_calls"`
}

func (s *Server) view(e sfn.Execution) executionView {
	v := executionView{
		ID: ExecutionID(e.ExecutionARN), ARN: e.ExecutionARN, Name: e.Name, Workflow: s.workflowOf(e.ExecutionARN),
		Status: string(e.Status), Error: e.Error, Cause: e.Cause, StartedAt: e.StartDate.UTC(),
	}
	if json.Valid([]byte(e.Input)) {
		v.Input = json.RawMessage(e.Input)
	}
	if json.Valid([]byte(e.Output)) {
		v.Output = json.RawMessage(e.Output)
	}
	if !e.StopDate.IsZero() {
		t := e.StopDate.UTC()
		v.StoppedAt = &t
		d := e.StopDate.Sub(e.StartDate).Milliseconds()
		v.DurationMS = &d
	}
	return v
}

func (s *Server) getExecution(w http.ResponseWriter, r *http.Request) {
	arn, err := executionARN(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	e, err := s.opts.Machines.DescribeExecution(r.Context(), arn)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.view(e)
	if e.Status == sfn.StatusRunning {
		if v.CurrentStep, err = s.currentStep(r, arn); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if s.opts.Details != nil {
		closed := e.Status.Closed()
		if v.Usage = s.usages.get(arn); v.Usage == nil || !closed {
			if v.Usage, err = s.usage(r, arn); err != nil {
				s.fail(w, r, err)
				return
			}
			if closed {
				s.usages.put(arn, v.Usage)
			}
		}
	}
	writeJSON(w, http.StatusOK, v)
}

// usageCacheLimit bounds the usages kept: when full, the cache starts
// again empty.
const usageCacheLimit = 10000

// usageCache keeps the usage of closed executions. Workers record an ai
// step's model calls before they answer its task, so once an execution
// has closed its usage never changes: reading it again from the detail
// events would only cost a query per request.
type usageCache struct {
	mu sync.Mutex
	m  map[string]*usageView
}

func (c *usageCache) get(arn string) *usageView {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[arn]
}

func (c *usageCache) put(arn string, u *usageView) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= usageCacheLimit {
		c.m = make(map[string]*usageView)
	}
	c.m[arn] = u
}

// currentStep is the state most recently entered and not yet left, from
// the newest page of history.
func (s *Server) currentStep(r *http.Request, arn string) (string, error) {
	h, err := s.opts.Machines.GetExecutionHistory(r.Context(), sfn.GetExecutionHistoryInput{
		ExecutionARN: arn, ReverseOrder: true, MaxResults: 100, ExcludeExecutionData: true})
	if err != nil {
		return "", err
	}
	exited := map[string]int{}
	for _, ev := range h.Events {
		switch {
		case ev.StateExited != nil:
			exited[ev.StateExited.Name]++
		case ev.StateEntered != nil:
			if exited[ev.StateEntered.Name] > 0 {
				exited[ev.StateEntered.Name]--
				continue
			}
			return ev.StateEntered.Name, nil
		}
	}
	return "", nil
}

// usage sums the tokens and cost of the execution's model calls.
func (s *Server) usage(r *http.Request, arn string) (*usageView, error) {
	evs, err := s.opts.Details.Details(r.Context(), arn)
	if err != nil {
		return nil, err
	}
	u := &usageView{}
	for _, ev := range evs {
		if ev.Type != stepevent.DetailModelCalled {
			continue
		}
		var c stepevent.ModelCall
		if err := json.Unmarshal(ev.Data, &c); err != nil {
			return nil, fmt.Errorf("reading a %s detail of %s: %w", ev.Type, arn, err)
		}
		u.InputTokens += c.InputTokens
		u.OutputTokens += c.OutputTokens
		u.CostUSD += c.CostUSD
		u.ModelCalls++
	}
	return u, nil
}

// listCursor is where GET /v1/executions continues: the workflow it was
// reading and the engine's token within it.
type listCursor struct {
	Workflow string `json:"w"`
	Token    string `json:"t,omitempty"`
}

var executionStatuses = map[string]sfn.ExecutionStatus{
	"RUNNING": sfn.StatusRunning, "SUCCEEDED": sfn.StatusSucceeded, "FAILED": sfn.StatusFailed,
	"TIMED_OUT": sfn.StatusTimedOut, "ABORTED": sfn.StatusAborted,
}

// listExecutions lists executions newest first within a workflow; without
// ?workflow=, workflow after workflow in name order.
func (s *Server) listExecutions(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	limit, err := limitParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var status sfn.ExecutionStatus
	if v := q.Get("status"); v != "" {
		var ok bool
		if status, ok = executionStatuses[strings.ToUpper(v)]; !ok {
			s.fail(w, r, &apiError{Status: http.StatusBadRequest, Title: "Invalid request",
				Detail: "status is one of RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED", Errors: []FieldError{{Location: "query:status", Detail: "unknown status"}}})
			return
		}
	}
	var cur listCursor
	if raw, err := cursorParam(r); err != nil {
		s.fail(w, r, err)
		return
	} else if raw != "" {
		if json.Unmarshal([]byte(raw), &cur) != nil || cur.Workflow == "" {
			s.fail(w, r, badCursor())
			return
		}
	}
	only := q.Get("workflow")
	if only != "" && cur.Workflow != "" && cur.Workflow != only {
		s.fail(w, r, badCursor())
		return
	}
	// The workflows to read, in name order from the cursor's, a batch at
	// a time.
	var batch []Workflow
	nextBatch := func(after string) error {
		var err error
		batch, err = s.opts.Store.Workflows(ctx, after, maxLimit)
		return err
	}
	switch {
	case only != "":
		wf, err := s.opts.Store.Workflow(ctx, only)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		batch = []Workflow{wf}
	case cur.Workflow != "":
		wf, err := s.opts.Store.Workflow(ctx, cur.Workflow)
		if err != nil {
			s.fail(w, r, badCursor())
			return
		}
		batch = []Workflow{wf}
	default:
		if err := nextBatch(""); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	items := []executionView{}
	page := map[string]any{"items": items}
	for len(batch) > 0 {
		wf := batch[0]
		batch = batch[1:]
		token := ""
		if wf.Name == cur.Workflow {
			token = cur.Token
		}
		for {
			out, err := s.opts.Machines.ListExecutions(ctx, sfn.ListExecutionsInput{
				StateMachineARN: wf.StateMachineARN, StatusFilter: status, MaxResults: limit - len(items), NextToken: token})
			if err != nil {
				s.fail(w, r, err)
				return
			}
			for _, e := range out.Executions {
				items = append(items, s.view(e))
			}
			if token = out.NextToken; token == "" || len(items) == limit {
				break
			}
		}
		if len(batch) == 0 && only == "" {
			if err := nextBatch(wf.Name); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		if len(items) == limit {
			switch {
			case token != "":
				page["next_cursor"] = encodeListCursor(listCursor{Workflow: wf.Name, Token: token})
			case len(batch) > 0:
				page["next_cursor"] = encodeListCursor(listCursor{Workflow: batch[0].Name})
			}
			break
		}
	}
	page["items"] = items
	writeJSON(w, http.StatusOK, page)
}

func encodeListCursor(c listCursor) string {
	raw, _ := json.Marshal(c)
	return encodeCursor(string(raw))
}

// executionEvents is a page of an execution's history, oldest first, in
// Step Functions' shape.
func (s *Server) executionEvents(w http.ResponseWriter, r *http.Request) {
	arn, err := executionARN(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	limit, err := limitParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	token, err := cursorParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.opts.Machines.GetExecutionHistory(r.Context(), sfn.GetExecutionHistoryInput{ExecutionARN: arn, MaxResults: limit, NextToken: token})
	var ee *sfn.Error
	if errors.As(err, &ee) && ee.Code == sfn.CodeValidation && token != "" {
		err = badCursor()
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := map[string]any{"items": out.Events}
	if out.Events == nil {
		page["items"] = []sfn.HistoryEvent{}
	}
	if out.NextToken != "" {
		page["next_cursor"] = encodeCursor(out.NextToken)
	}
	writeJSON(w, http.StatusOK, page)
}

// stopRequest is the optional body of POST /v1/executions/{id}/stop.
type stopRequest struct {
	Error string `json:"error"`
	Cause string `json:"cause"`
}

func (s *Server) stopExecution(w http.ResponseWriter, r *http.Request) {
	arn, err := executionARN(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	auditNote(r, "execution", r.PathValue("id"))
	data, err := readBody(w, r, maxSmallBody, "the request body")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req stopRequest
	if len(bytes.TrimSpace(data)) > 0 {
		if err := decodeStrict(data, &req); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if req.Error == "" {
		req.Error = "aiflow.Stopped"
	}
	if req.Cause == "" {
		p, _ := auth.FromContext(r.Context())
		req.Cause = "stopped through the API by " + p.Subject
	}
	if _, err := s.opts.Machines.StopExecution(r.Context(), sfn.StopExecutionInput{ExecutionARN: arn, Error: req.Error, Cause: req.Cause}); err != nil {
		s.fail(w, r, err)
		return
	}
	e, err := s.opts.Machines.DescribeExecution(r.Context(), arn)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.view(e))
}
