package httpapi

import (
	"bytes"
	"net/http"
)

// heldResponse keeps a handler's answer (status, headers, body) until it
// is sent, so that a mutation is acknowledged only once its audit record
// is written.
type heldResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newHeldResponse() *heldResponse {
	return &heldResponse{header: http.Header{}, status: http.StatusOK}
}

func (h *heldResponse) Header() http.Header { return h.header }

func (h *heldResponse) WriteHeader(code int) { h.status = code }

func (h *heldResponse) Write(b []byte) (int, error) { return h.body.Write(b) }

// sendTo writes the held answer to w.
func (h *heldResponse) sendTo(w http.ResponseWriter) {
	dst := w.Header()
	for k, v := range h.header {
		dst[k] = v
	}
	w.WriteHeader(h.status)
	_, _ = w.Write(h.body.Bytes())
}
