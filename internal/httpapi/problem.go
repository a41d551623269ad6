package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

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

// fail answers err as a problem: the API's own errors as they are, the
// store's and the engine's through one table, anything else as a 500
// whose cause goes only to the log.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var ee *sfn.Error
	p := Problem{Status: http.StatusInternalServerError, Title: "Internal Server Error",
		Detail: "the request could not be completed; the request id names it in the server's log"}
	switch {
	case errors.As(err, &ae):
		p = Problem{Status: ae.Status, Type: ae.Type, Title: ae.Title, Detail: ae.Detail}
		if len(ae.Errors) > 0 {
			p.Extra = map[string]any{"errors": ae.Errors}
		}
	case errors.Is(err, ErrNotFound):
		p = Problem{Status: http.StatusNotFound, Title: "Not Found", Detail: "no such " + resourceName(r)}
	case errors.Is(err, ErrConflict):
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
	case errors.Is(err, context.Canceled):
		p = Problem{Status: 499, Title: "Client Closed Request", Detail: "the request was cancelled"}
	case errors.Is(err, context.DeadlineExceeded):
		p = Problem{Status: http.StatusServiceUnavailable, Title: "Service Unavailable", Detail: "the request took too long; try again"}
	}
	if p.Status >= 500 {
		s.opts.Logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", p.Status, "error", err)
	}
	writeProblem(w, r, p)
}

// resourceName names what a path is about, for generic details.
func resourceName(r *http.Request) string {
	switch {
	case strings.HasPrefix(r.URL.Path, "/v1/approvals"):
		return "approval"
	case strings.HasPrefix(r.URL.Path, "/v1/executions"), strings.HasSuffix(r.URL.Path, "/executions"):
		return "execution"
	default:
		return "workflow"
	}
}
