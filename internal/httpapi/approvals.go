package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/control"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/task"
)

// approvalView is an approval as the API shows it: never its task token.
type approvalView struct {
	apistore.Approval
	Execution string `json:"execution"`
	Workflow  string `json:"workflow"`
}

func (s *Server) approvalView(a apistore.Approval) approvalView {
	if a.Approvers == nil {
		a.Approvers = []string{}
	}
	return approvalView{Approval: a, Execution: ExecutionID(a.ExecutionARN), Workflow: s.workflowOf(a.ExecutionARN)}
}

// listApprovals lists approvals (pending by default) in id order, of one
// execution with ?execution=<id>.
func (s *Server) listApprovals(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
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
	f := apistore.ApprovalFilter{Status: q.Get("status"), After: after, Limit: limit + 1}
	switch f.Status {
	case "", apistore.ApprovalPending, apistore.ApprovalDeciding, apistore.ApprovalApproved, apistore.ApprovalRejected, apistore.ApprovalExpired:
	default:
		s.fail(w, r, &apiError{Status: http.StatusBadRequest, Title: "Invalid request",
			Detail: "status is one of pending, deciding, approved, rejected, expired", Errors: []FieldError{{Location: "query:status", Detail: "unknown status"}}})
		return
	}
	if id := q.Get("execution"); id != "" {
		if f.ExecutionARN, err = executionARN(id); err != nil {
			s.fail(w, r, &apiError{Status: http.StatusBadRequest, Title: "Invalid request",
				Detail: "execution is an execution id", Errors: []FieldError{{Location: "query:execution", Detail: "not an execution id"}}})
			return
		}
	}
	list, err := s.opts.Store.Approvals(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := map[string]any{}
	if len(list) > limit {
		list = list[:limit]
		page["next_cursor"] = encodeCursor(list[limit-1].ID)
	}
	items := make([]approvalView, len(list))
	for i, a := range list {
		items[i] = s.approvalView(a)
	}
	page["items"] = items
	writeJSON(w, http.StatusOK, page)
}

// decideRequest is the body of POST /v1/approvals/{id}.
type decideRequest struct {
	Approve *bool  `json:"approve"`
	Comment string `json:"comment"`
}

// maxComment bounds a decision's comment.
const maxComment = 4096

// decideApproval approves or rejects a pending approval: the approval
// step's task succeeds with {"approved", "approver", "comment"} (see
// control.Decide: the decision is recorded first, then delivered). An
// approval decided (or being decided) otherwise, or whose step stopped
// waiting, is a 409; the same decision again is answered 200.
func (s *Server) decideApproval(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	auditNote(r, "approval", id)
	data, err := readJSONBody(w, r, maxSmallBody, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req decideRequest
	if err := decodeStrict(data, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Approve == nil {
		s.fail(w, r, badRequest("say whether to approve", FieldError{Pointer: "/approve", Detail: "required: true or false"}))
		return
	}
	if len(req.Comment) > maxComment {
		s.fail(w, r, badRequest("the comment is too long", FieldError{Pointer: "/comment", Detail: fmt.Sprintf("at most %d bytes", maxComment)}))
		return
	}
	p, _ := auth.FromContext(r.Context())
	status := apistore.ApprovalRejected
	if *req.Approve {
		status = apistore.ApprovalApproved
	}
	auditNote(r, "decision", status)
	a, err := s.control.Decide(r.Context(), control.DecideParams{ID: id, Approve: *req.Approve, Comment: req.Comment, Principal: p.Subject})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.approvalView(a))
}

// ApprovalWorker stores the approval steps' messages as pending approvals:
// it is the handler of the approvals queue (the compiler's
// ${ApprovalQueueUrl}), for a Lambda's SQS event source or the local
// engine's in-process queue.
type ApprovalWorker struct {
	// Store keeps the approvals; required.
	Store *apistore.Store
	// Tokens checks each message's task token before its approval is
	// stored (sfn.CheckTaskToken: one heartbeat): a message whose token no
	// task awaits, or that belongs to another execution, is dropped, so no
	// one is asked to decide it. nil checks none.
	Tokens sfn.TaskHeartbeater
	// NowFunc is the clock; nil means time.Now.
	NowFunc func() time.Time
	// Logger receives messages that could not be stored; nil discards.
	Logger *slog.Logger
}

// approvalSpec and approvalData are what an approval step's task message
// holds in spec and data.
type (
	approvalSpec struct {
		Approvers []string `json:"approvers"`
	}
	approvalData struct {
		Message string `json:"message"`
	}
)

// decodeApproval reads an approval step's task message.
func decodeApproval(body string) (task.Message, approvalSpec, approvalData, error) {
	m, err := task.Decode(body)
	switch {
	case err != nil:
		return m, approvalSpec{}, approvalData{}, err
	case m.Execution.ID == "":
		return m, approvalSpec{}, approvalData{}, errors.New("reading the approval message: it has no execution.id")
	}
	if spec, data, ok := decodeApprovalFast(m.Spec, m.Data); ok {
		return m, spec, data, nil
	}
	return decodeApprovalReflect(m)
}

// decodeApprovalReflect reads an approval message's spec and data with
// encoding/json.
func decodeApprovalReflect(m task.Message) (task.Message, approvalSpec, approvalData, error) {
	var (
		spec approvalSpec
		data approvalData
	)
	if len(m.Spec) > 0 {
		if err := json.Unmarshal(m.Spec, &spec); err != nil {
			return m, spec, data, fmt.Errorf("reading the approval message's spec: %w", err)
		}
	}
	if len(m.Data) > 0 {
		if err := json.Unmarshal(m.Data, &data); err != nil {
			return m, spec, data, fmt.Errorf("reading the approval message's data: %w", err)
		}
	}
	return m, spec, data, nil
}

// Handle stores each message's approval. A message that is not an
// approval step's is dropped with a log line (sending it again cannot
// help); one that could not be stored is reported as a batch item
// failure, so the queue delivers it again. The batch's approvals are
// stored together, in one commit (storeApprovals).
func (a *ApprovalWorker) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	now, log := a.NowFunc, a.Logger
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var resp events.SQSEventResponse
	var pending []pendingApproval
	for _, rec := range ev.Records {
		m, spec, data, err := decodeApproval(rec.Body)
		if err != nil {
			log.WarnContext(ctx, "dropping a message that is not an approval step's", "message_id", rec.MessageId, "error", err)
			continue
		}
		if a.Tokens != nil {
			if err := sfn.CheckTaskToken(ctx, a.Tokens, m.TaskToken, m.Execution.ID); errors.Is(err, sfn.ErrTaskTokenRefused) {
				log.WarnContext(ctx, "dropping an approval message before it is stored", "message_id", rec.MessageId, "error", err)
				continue
			} else if err != nil {
				log.ErrorContext(ctx, "checking an approval message's task token", "message_id", rec.MessageId, "error", err)
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
				continue
			}
		}
		pending = append(pending, pendingApproval{messageID: rec.MessageId, approval: apistore.Approval{
			ID: apistore.ApprovalID(m.TaskToken), ExecutionARN: m.Execution.ID, StepID: m.Step.ID, TaskToken: m.TaskToken,
			Message: data.Message, Approvers: spec.Approvers, CreatedAt: now().UTC(),
		}})
	}
	resp.BatchItemFailures = append(resp.BatchItemFailures, a.storeApprovals(ctx, log, pending)...)
	return resp, nil
}
