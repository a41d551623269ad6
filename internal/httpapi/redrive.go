package httpapi

import (
	"net/http"

	"github.com/aiflow/aiflow/internal/control"
	"github.com/aiflow/aiflow/internal/sfn"
)

// maxRedriveKey is the longest Idempotency-Key of a redrive: Step
// Functions' clientToken holds 1 to 64 printable ASCII characters.
const maxRedriveKey = 64

// redriveExecution is POST /v1/executions/{id}/redrive: it carries a
// FAILED, TIMED_OUT or ABORTED execution on from the steps that did not
// succeed (Step Functions' RedriveExecution). The Idempotency-Key header,
// if any, is the redrive's client token. There is no body.
func (s *Server) redriveExecution(w http.ResponseWriter, r *http.Request) {
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
	if data != nil {
		var none struct{}
		if err := decodeStrict(data, &none); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	key := r.Header.Get("Idempotency-Key")
	if !validRedriveKey(key) {
		s.fail(w, r, badRequest("the Idempotency-Key of a redrive is 1 to 64 printable ASCII characters",
			FieldError{Pointer: "", Detail: "header Idempotency-Key"}))
		return
	}
	if key != "" {
		auditNote(r, "idempotency_key", key)
	}
	e, err := s.control.Redrive(r.Context(), control.RedriveParams{ExecutionARN: arn, ClientToken: key})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.view(e))
}

func validRedriveKey(key string) bool {
	if len(key) > maxRedriveKey {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < '!' || key[i] > '~' {
			return false
		}
	}
	return true
}

// redriven shows how often an execution was redriven, and when last.
func (v *executionView) redriven(e sfn.Execution) {
	v.RedriveCount = e.RedriveCount
	if !e.RedriveDate.IsZero() {
		t := e.RedriveDate.UTC()
		v.RedrivenAt = &t
	}
}
