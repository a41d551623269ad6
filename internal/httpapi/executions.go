package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/control"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/steps/stepevent"
	"github.com/aiflow/aiflow/internal/textgate"
)

// ExecutionID is the id of an execution in URLs: its ARN in unpadded
// base64url, so that it works alike for Step Functions' ARNs and the local
// engine's, and needs no lookup.
func ExecutionID(arn string) string { return base64.RawURLEncoding.EncodeToString([]byte(arn)) }

// executionARN decodes an execution id; anything that is not one (an ARN
// holding a NUL or invalid UTF-8 included: the engine never made one) is a
// 404.
func executionARN(id string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || !strings.HasPrefix(string(raw), "arn:") || !strings.Contains(string(raw), ":execution:") || !textgate.Valid(string(raw)) {
		return "", notFound("no execution has the id " + id)
	}
	return string(raw), nil
}

// startRequest is the body of POST /v1/workflows/{name}/executions.
type startRequest struct {
	// Input is the execution input; absent means {}.
	Input json.RawMessage `json:"input"`
}

func (s *Server) startExecution(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := r.PathValue("name")
	auditNote(r, "workflow", name)
	p, _ := auth.FromContext(ctx)
	key := r.Header.Get("Idempotency-Key")
	res, err := s.control.Start(ctx, control.StartParams{
		Workflow: name, Principal: p.Subject, IdempotencyKey: key,
		ReadInputFunc: func() (json.RawMessage, error) {
			data, err := readJSONBody(w, r, MaxInputBytes+envelopeBytes, false)
			if err != nil || data == nil {
				return nil, err
			}
			var req startRequest
			if !decodeStartFast(data, &req) {
				if err := decodeStrict(data, &req); err != nil {
					return nil, err
				}
			}
			if string(req.Input) == "null" {
				return nil, badRequest("the input is null; send a JSON value, or leave input out to start with {}",
					FieldError{Pointer: "/input", Detail: "must not be null"})
			}
			return req.Input, nil
		},
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if key != "" {
		auditNote(r, "idempotency_key", key)
	}
	id := ExecutionID(res.ExecutionARN)
	auditNote(r, "execution", id)
	status := http.StatusCreated
	if res.Replayed {
		status = http.StatusOK
		w.Header().Set("Idempotent-Replayed", "true")
	}
	href := "/v1/executions/" + id
	w.Header().Set("Location", href)
	writeJSON(w, status, startedView{
		ID: id, ARN: res.ExecutionARN, Name: executionName(res.ExecutionARN), Workflow: res.Workflow.Name,
		Version: res.Workflow.LatestVersion, StartedAt: res.StartDate.UTC(), Href: href,
	})
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
	// RedriveCount and RedrivenAt: see redrive.go.
	RedriveCount int        `json:"redrive_count,omitempty"`
	RedrivenAt   *time.Time `json:"redriven_at,omitempty"`
	// TraceID is the trace the execution runs in (traceIDOf), when it
	// was started in a sampled one.
	TraceID string `json:"trace_id,omitempty"`
	// WorkflowVersion is the workflow version the execution runs, when
	// it was started on that version's state machine version (one
	// execution read alone; see workflowVersion).
	WorkflowVersion int `json:"workflow_version,omitempty"`
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
		TraceID: traceIDOf(e.TraceHeader),
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
	v.redriven(e)
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
	keep, publishes := keepable(r, e), s.control.Publishes()
	if keep {
		if body, ok := s.closed.get(e, publishes); ok {
			writeJSONBody(w, http.StatusOK, body)
			return
		}
	}
	v := s.view(e)
	if v.WorkflowVersion, err = s.workflowVersion(r, e); err != nil {
		s.fail(w, r, err)
		return
	}
	if v.Output, err = s.resolveOutput(r, v.Output); err != nil {
		s.fail(w, r, err)
		return
	}
	if e.Status == sfn.StatusRunning {
		if v.CurrentStep, err = s.currentStep(r, arn); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if s.opts.Details != nil {
		closed := e.Status.Closed()
		if v.Usage = s.usages.get(arn, e.RedriveCount); v.Usage == nil || !closed {
			if v.Usage, err = s.usage(r, arn); err != nil {
				s.fail(w, r, err)
				return
			}
			if closed {
				s.usages.put(arn, e.RedriveCount, v.Usage)
			}
		}
	}
	if keep {
		if body, err := encodeJSON(v); err == nil {
			s.closed.put(e, publishes, body)
			writeJSONBody(w, http.StatusOK, body)
			return
		}
	}
	writeJSON(w, http.StatusOK, v)
}

// workflowVersion returns the workflow version execution e runs: the
// one whose Step Functions version it was started on, as publishing
// recorded it; 0 when it was started on the unqualified state machine (a
// version published before versions were recorded) or that version is
// not this workflow's.
func (s *Server) workflowVersion(r *http.Request, e sfn.Execution) (int, error) {
	if e.StateMachineVersionARN == "" || s.opts.Store == nil {
		return 0, nil
	}
	wf, v, ok, err := s.opts.Store.VersionOfStateMachineVersion(r.Context(), e.StateMachineVersionARN)
	if err != nil || !ok || wf != s.workflowOf(e.ExecutionARN) {
		return 0, err
	}
	return v, nil
}

// usageCacheLimit bounds the usages kept: when full, the cache starts
// again empty.
const usageCacheLimit = 10000

// usageCache keeps the usage of closed executions. Workers record an ai
// step's model calls before they answer its task, so once an execution
// has closed its usage never changes until it is redriven: reading it
// again from the detail events would only cost a query per request. A
// usage is kept with the execution's redrive count, and one kept before
// a redrive is not used after it.
type usageCache struct {
	mu sync.Mutex
	m  map[string]keptUsage
}

type keptUsage struct {
	redriveCount int
	usage        *usageView
}

func (c *usageCache) get(arn string, redriveCount int) *usageView {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.m[arn]; ok && k.redriveCount == redriveCount {
		return k.usage
	}
	return nil
}

func (c *usageCache) put(arn string, redriveCount int, u *usageView) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= usageCacheLimit {
		c.m = make(map[string]keptUsage)
	}
	c.m[arn] = keptUsage{redriveCount: redriveCount, usage: u}
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
		if !textgate.ValidJSON([]byte(raw)) || json.Unmarshal([]byte(raw), &cur) != nil || cur.Workflow == "" {
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
	var batch []apistore.Workflow
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
		batch = []apistore.Workflow{wf}
	case cur.Workflow != "":
		wf, err := s.opts.Store.Workflow(ctx, cur.Workflow)
		if err != nil {
			s.fail(w, r, badCursor())
			return
		}
		batch = []apistore.Workflow{wf}
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
	if err := s.resolveHistory(r, out.Events); err != nil {
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
	data, err := readJSONBody(w, r, maxSmallBody, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req stopRequest
	if data != nil {
		if err := decodeStrict(data, &req); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	p, _ := auth.FromContext(r.Context())
	e, err := s.control.Stop(r.Context(), control.StopParams{ExecutionARN: arn, Error: req.Error, Cause: req.Cause, Principal: p.Subject})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.view(e))
}
