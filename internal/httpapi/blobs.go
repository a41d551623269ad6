package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/aiflow/aiflow/internal/blob"
	"github.com/aiflow/aiflow/internal/sfn"
)

// BlobReader reads the values that large step results are stored as
// (package blob): the blob store of the step workers, S3 on AWS or
// PostgreSQL locally.
type BlobReader interface {
	Get(ctx context.Context, uri string) ([]byte, error)
}

// DefaultMaxResolvedBytes is Options.MaxResolvedBytes when unset: a
// response, with its references resolved, stays under the 6 MB a Lambda
// function's response may have behind API Gateway.
const DefaultMaxResolvedBytes = 5 << 20

// The values of ?blobs=.
const (
	blobsResolve   = "resolve"
	blobsReference = "reference"
)

// blobBudget is what is left of a response's bytes for resolved values;
// nil means the request asked for the references (?blobs=reference).
type blobBudget struct {
	left int64
}

// blobsParam reads ?blobs=: resolve (the default) or reference.
func (s *Server) blobsParam(r *http.Request) (*blobBudget, error) {
	switch v := r.URL.Query().Get("blobs"); v {
	case "", blobsResolve:
		limit := s.opts.MaxResolvedBytes
		if limit <= 0 {
			limit = DefaultMaxResolvedBytes
		}
		return &blobBudget{left: limit}, nil
	case blobsReference:
		return nil, nil
	default:
		return nil, &apiError{Status: http.StatusBadRequest, Title: "Invalid request",
			Detail: "blobs is resolve (the default: large step results are shown) or reference (their references are)",
			Errors: []FieldError{{Location: "query:blobs", Detail: fmt.Sprintf("%q is neither resolve nor reference", v)}}}
	}
}

// resolve returns doc, JSON text, with the references to large step
// results in it replaced by the values, within what is left of budget.
func (s *Server) resolve(ctx context.Context, budget *blobBudget, doc []byte) ([]byte, error) {
	if budget == nil || !blob.MayHoldReference(doc) {
		return doc, nil
	}
	var getter blob.Getter
	if s.opts.Blobs != nil {
		getter = s.opts.Blobs
	}
	out, err := blob.Resolve(ctx, getter, doc, budget.left)
	switch {
	case errors.Is(err, blob.ErrTooLarge):
		return nil, &apiError{Status: http.StatusUnprocessableEntity, Type: typeTooLarge, Title: "Content Too Large",
			Detail: fmt.Sprintf("with its large step results read, the answer would be over the API's limit of %d bytes; ask with ?blobs=reference for their references", budget.left),
			Errors: []FieldError{{Location: "query:blobs", Detail: "ask for reference"}}}
	case errors.Is(err, blob.ErrNotFound):
		return nil, &apiError{Status: http.StatusGone, Title: "Gone",
			Detail: "a large step result of this execution is no longer stored (its retention ended); ask with ?blobs=reference for the references"}
	case err != nil:
		return nil, fmt.Errorf("reading the large step results of an answer: %w", err)
	}
	budget.left -= int64(len(out) - len(doc))
	return out, nil
}

// resolveEvents resolves the references in the outputs of the steps
// (TaskSucceeded) and of the execution (ExecutionSucceeded) of a page of
// history. The states' inputs and outputs keep theirs: each would repeat
// the same values.
func (s *Server) resolveEvents(ctx context.Context, budget *blobBudget, evs []sfn.HistoryEvent) error {
	// The events' details may be the engine's own: they are copied, never
	// changed in place.
	for i := range evs {
		switch ev := &evs[i]; {
		case ev.TaskSucceeded != nil:
			d := *ev.TaskSucceeded
			if err := s.resolveString(ctx, budget, &d.Output); err != nil {
				return err
			}
			ev.TaskSucceeded = &d
		case ev.ExecutionSucceeded != nil:
			d := *ev.ExecutionSucceeded
			if err := s.resolveString(ctx, budget, &d.Output); err != nil {
				return err
			}
			ev.ExecutionSucceeded = &d
		}
	}
	return nil
}

// resolveString resolves the references in *doc when it is JSON.
func (s *Server) resolveString(ctx context.Context, budget *blobBudget, doc *string) error {
	if !blob.MayHoldReference([]byte(*doc)) || !json.Valid([]byte(*doc)) {
		return nil
	}
	out, err := s.resolve(ctx, budget, []byte(*doc))
	if err != nil {
		return err
	}
	*doc = string(out)
	return nil
}

// resolveOutput resolves an execution's output as ?blobs= asks.
func (s *Server) resolveOutput(r *http.Request, out json.RawMessage) (json.RawMessage, error) {
	budget, err := s.blobsParam(r)
	if err != nil || out == nil {
		return out, err
	}
	return s.resolve(r.Context(), budget, out)
}

// resolveHistory resolves a page of history's step and execution outputs
// as ?blobs= asks.
func (s *Server) resolveHistory(r *http.Request, evs []sfn.HistoryEvent) error {
	budget, err := s.blobsParam(r)
	if err != nil {
		return err
	}
	if budget == nil {
		return nil
	}
	return s.resolveEvents(r.Context(), budget, evs)
}
