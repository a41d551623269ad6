package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/control"
	"github.com/aiflow/aiflow/internal/outage"
	"github.com/aiflow/aiflow/internal/sfn"
)

// FieldError names one thing wrong with a request: Pointer is a JSON
// pointer (RFC 6901) into the body, Location a file:line:col of a
// definition, or a query parameter or header as "query:limit",
// "header:Idempotency-Key".
type FieldError struct {
	Pointer  string `json:"pointer,omitempty"`
	Location string `json:"location,omitempty"`
	Detail   string `json:"detail"`
}

// apiError is an error a handler answers as it is: a caller's mistake
// whose detail is written for the caller.
type apiError struct {
	Status int
	Type   string
	Title  string
	Detail string
	Errors []FieldError
}

func (e *apiError) Error() string { return e.Detail }

// Problem types of the errors a caller can cause, beside about:blank.
const (
	typeInvalidBody       = "https://aiflow.dev/problems/invalid-body"
	typeInvalidDefinition = "https://aiflow.dev/problems/invalid-definition"
	typeInvalidInput      = "https://aiflow.dev/problems/invalid-input"
	typeTooLarge          = "https://aiflow.dev/problems/too-large"
	typeIdempotency       = "https://aiflow.dev/problems/idempotency-key-reused"
	typeDecided           = "https://aiflow.dev/problems/approval-decided"
)

func badRequest(detail string, errs ...FieldError) *apiError {
	return &apiError{Status: http.StatusBadRequest, Type: typeInvalidBody, Title: "Invalid request", Detail: detail, Errors: errs}
}

func notFound(detail string) *apiError {
	return &apiError{Status: http.StatusNotFound, Title: "Not Found", Detail: detail}
}

// engineStatus is the one table from the engine's (and Step Functions')
// error codes to answers. show says whether the engine's message is the
// caller's to read (it describes what the caller sent); otherwise the
// detail is the table's.
var engineStatus = map[string]struct {
	status int
	detail string
	show   bool
}{
	sfn.CodeExecutionDoesNotExist:     {http.StatusNotFound, "the execution does not exist", false},
	sfn.CodeExecutionNotRedrivable:    {http.StatusConflict, "", true},
	sfn.CodeStateMachineDoesNotExist:  {http.StatusNotFound, "the workflow's state machine does not exist", false},
	sfn.CodeTaskDoesNotExist:          {http.StatusConflict, "the task is no longer waiting", false},
	sfn.CodeTaskTimedOut:              {http.StatusConflict, "the task is no longer waiting", false},
	sfn.CodeInvalidToken:              {http.StatusConflict, "the task is no longer waiting", false},
	sfn.CodeExecutionAlreadyExists:    {http.StatusConflict, "an execution of that name exists already with another input", false},
	sfn.CodeStateMachineAlreadyExists: {http.StatusConflict, "the state machine exists already with another definition", false},
	sfn.CodeConflict:                  {http.StatusConflict, "the request conflicts with the state machine's current state", false},
	sfn.CodeStateMachineDeleting:      {http.StatusConflict, "the workflow's state machine is being deleted", false},
	sfn.CodeInvalidArn:                {http.StatusNotFound, "no such execution", false},
	sfn.CodeInvalidName:               {http.StatusBadRequest, "", true},
	sfn.CodeInvalidExecutionInput:     {http.StatusBadRequest, "", true},
	sfn.CodeValidation:                {http.StatusBadRequest, "", true},
	sfn.CodeInvalidDefinition:         {http.StatusUnprocessableEntity, "", true},
	sfn.CodeExecutionLimitExceeded:    {http.StatusTooManyRequests, "too many executions are running; try again later", false},
	sfn.CodeServiceUnavailable:        {http.StatusServiceUnavailable, "the workflow engine is unavailable; try again", false},
}

// controlStatus is the one table from the use cases' error codes to
// answers; the JSON pointers into an input are put under /input, where
// the request's body holds it.
var controlStatus = map[control.Code]struct {
	status     int
	typ, title string
}{
	control.CodeInvalidDefinition:     {http.StatusUnprocessableEntity, typeInvalidDefinition, "Invalid definition"},
	control.CodeInvalidInput:          {http.StatusUnprocessableEntity, typeInvalidInput, "Invalid input"},
	control.CodeInputNotJSON:          {http.StatusBadRequest, typeInvalidBody, "Invalid request"},
	control.CodeInputTooLarge:         {http.StatusRequestEntityTooLarge, typeTooLarge, "Content Too Large"},
	control.CodeInvalidIdempotencyKey: {http.StatusBadRequest, "", "Invalid request"},
	control.CodeIdempotencyKeyReused:  {http.StatusConflict, typeIdempotency, "Conflict"},
	control.CodeNameTaken:             {http.StatusConflict, "", "Conflict"},
	control.CodeApprovalDecided:       {http.StatusConflict, typeDecided, "Conflict"},
	control.CodeNotFound:              {http.StatusNotFound, "", "Not Found"},
}

// controlProblem answers a use case's error: its detail and fields are
// the caller's to read.
func controlProblem(ce *control.Error) (Problem, bool) {
	row, ok := controlStatus[ce.Code]
	if !ok {
		return Problem{}, false
	}
	p := Problem{Status: row.status, Type: row.typ, Title: row.title, Detail: ce.Detail}
	if len(ce.Fields) > 0 {
		errs := make([]FieldError, len(ce.Fields))
		for i, f := range ce.Fields {
			errs[i] = FieldError{Detail: f.Detail}
			switch f.Param {
			case control.ParamInput:
				errs[i].Pointer = "/input" + f.Pointer
			case control.ParamIdempotencyKey:
				errs[i].Location = "header:Idempotency-Key"
			default:
				errs[i].Pointer, errs[i].Location = f.Pointer, f.Location
			}
		}
		p.Extra = map[string]any{"errors": errs}
	}
	return p, true
}

// fail answers err as a problem: the API's own errors as they are, the
// use cases' (workflows' and the registry's), the store's and the
// engine's through one table each, anything else as a 500
// whose cause goes only to the log.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var ce *control.Error
	var ee *sfn.Error
	p := Problem{Status: http.StatusInternalServerError, Title: "Internal Server Error",
		Detail: "the request could not be completed; the request id names it in the server's log"}
	switch {
	case errors.As(err, &ae):
		p = Problem{Status: ae.Status, Type: ae.Type, Title: ae.Title, Detail: ae.Detail}
		if len(ae.Errors) > 0 {
			p.Extra = map[string]any{"errors": ae.Errors}
		}
	case errors.As(err, &ce):
		if cp, ok := controlProblem(ce); ok {
			p = cp
		}
	case isRegistryError(err):
		p, _ = registryProblem(r, err)
	case errors.Is(err, apistore.ErrNotFound):
		p = Problem{Status: http.StatusNotFound, Title: "Not Found", Detail: "no such " + resourceName(r)}
	case errors.Is(err, apistore.ErrConflict):
		p = Problem{Status: http.StatusConflict, Title: "Conflict", Detail: "the request conflicts with the " + resourceName(r) + "'s current state"}
	case errors.As(err, &ee):
		if row, ok := engineStatus[ee.Code]; ok {
			p = Problem{Status: row.status, Title: http.StatusText(row.status), Detail: row.detail}
			if row.show {
				p.Detail = ee.Message
			}
			if row.status == http.StatusServiceUnavailable || row.status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "1")
			}
		}
	case outage.Is(err):
		p = Problem{Status: http.StatusServiceUnavailable, Title: "Service Unavailable", Detail: "a dependency of the API is unavailable; try again"}
		w.Header().Set("Retry-After", strconv.Itoa(outage.RetryAfterSeconds))
	case errors.Is(err, context.Canceled):
		p = Problem{Status: 499, Title: "Client Closed Request", Detail: "the request was cancelled"}
	case errors.Is(err, context.DeadlineExceeded):
		p = Problem{Status: http.StatusServiceUnavailable, Title: "Service Unavailable", Detail: "the request took too long; try again"}
		w.Header().Set("Retry-After", strconv.Itoa(outage.RetryAfterSeconds))
	}
	if p.Status >= 500 {
		s.opts.Logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", p.Status, "error", err)
	}
	writeProblem(w, r, p)
}

// resourceName names what a path is about, for generic details.
func resourceName(r *http.Request) string {
	switch {
	case strings.HasPrefix(r.URL.Path, "/v1/services"):
		return "service"
	case strings.HasPrefix(r.URL.Path, "/v1/approvals"):
		return "approval"
	case strings.HasPrefix(r.URL.Path, "/v1/executions"), strings.HasSuffix(r.URL.Path, "/executions"):
		return "execution"
	default:
		return "workflow"
	}
}
