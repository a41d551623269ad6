package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/sfn"
)

// streamExecution sends an execution's history as server-sent events as
// it happens, and the model tokens of its ai steps while they stream,
// until the execution closes.
//
// Every event has an id. A history event's id is its history id ("7"), a
// token's the history id it follows and its number after it ("7.3"). A
// client that reconnects with Last-Event-ID gets the history after that
// id; tokens are live only and not sent again.
//
// Event names: "history" (data: the history event in Step Functions'
// shape), "token" (data: {step, attempt, turn, text}), and "end" (data:
// the execution's status) just before the stream closes.
func (s *Server) streamExecution(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	arn, err := executionARN(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	last, err := lastEventID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Subscribe before the first read, so no token between the two is lost.
	var tokens <-chan TokenEvent
	if s.opts.Tokens != nil {
		var stop func()
		tokens, stop = s.opts.Tokens.SubscribeTokens(arn)
		defer stop()
	}
	// The first reads answer 404 for an unknown execution, and 503 for a
	// history store that is unavailable, before the stream starts.
	if _, err := s.opts.Machines.DescribeExecution(ctx, arn); err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.opts.Machines.GetExecutionHistory(ctx, sfn.GetExecutionHistoryInput{ExecutionARN: arn, MaxResults: 1}); err != nil {
		s.fail(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush()

	sent, tokenN := last, 0
	pageToken := ""
	poll := time.NewTimer(0)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case t, ok := <-tokens:
			if !ok {
				tokens = nil
				continue
			}
			tokenN++
			data, _ := json.Marshal(t)
			if writeEvent(w, fmt.Sprintf("%d.%d", sent, tokenN), "token", data) != nil {
				return
			}
			_ = rc.Flush()
		case <-poll.C:
			closed, err := s.sendHistory(w, r, arn, &pageToken, &sent, &tokenN)
			if err != nil {
				s.opts.Logger.WarnContext(ctx, "streaming an execution", "error", err)
				return
			}
			_ = rc.Flush()
			if closed != "" {
				data, _ := json.Marshal(map[string]string{"status": closed})
				_ = writeEvent(w, strconv.FormatInt(sent, 10), "end", data)
				_ = rc.Flush()
				return
			}
			poll.Reset(s.opts.StreamPoll)
		}
	}
}

// sendHistory writes the history events after *sent, reading from the
// page *pageToken onwards, and returns the execution's final status when
// one of them closed it.
func (s *Server) sendHistory(w http.ResponseWriter, r *http.Request, arn string, pageToken *string, sent *int64, tokenN *int) (string, error) {
	const pageSize = 1000
	for {
		out, err := s.opts.Machines.GetExecutionHistory(r.Context(), sfn.GetExecutionHistoryInput{
			ExecutionARN: arn, MaxResults: pageSize, NextToken: *pageToken})
		if err != nil {
			return "", fmt.Errorf("reading the history of %s: %w", arn, err)
		}
		closed := ""
		for _, ev := range out.Events {
			if st := closingStatus(ev.Type); st != "" {
				closed = st
			}
			if ev.ID <= *sent {
				continue // sent before, or before Last-Event-ID
			}
			data, err := json.Marshal(ev)
			if err != nil {
				return "", fmt.Errorf("encoding event %d of %s: %w", ev.ID, arn, err)
			}
			if err := writeEvent(w, strconv.FormatInt(ev.ID, 10), "history", data); err != nil {
				return "", fmt.Errorf("writing the stream: %w", err)
			}
			*sent, *tokenN = ev.ID, 0
		}
		if closed != "" || out.NextToken == "" {
			return closed, nil
		}
		// A full page: later reads start after it.
		*pageToken = out.NextToken
	}
}

// closingStatus is the status an execution event closes it with, or "".
func closingStatus(typ string) string {
	switch typ {
	case "ExecutionSucceeded":
		return string(sfn.StatusSucceeded)
	case "ExecutionFailed":
		return string(sfn.StatusFailed)
	case "ExecutionTimedOut":
		return string(sfn.StatusTimedOut)
	case "ExecutionAborted":
		return string(sfn.StatusAborted)
	}
	return ""
}

// lastEventID reads Last-Event-ID ("7" or "7.3"): the history id to
// continue after.
func lastEventID(r *http.Request) (int64, error) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		return 0, nil
	}
	head, _, _ := strings.Cut(v, ".")
	n, err := strconv.ParseInt(head, 10, 64)
	if err != nil || n < 0 {
		return 0, &apiError{Status: http.StatusBadRequest, Title: "Invalid request",
			Detail: "Last-Event-ID is the id of an event this stream sent", Errors: []FieldError{{Location: "header:Last-Event-ID", Detail: "not an event id"}}}
	}
	return n, nil
}

// writeEvent writes one server-sent event; data is one line of JSON.
func writeEvent(w http.ResponseWriter, id, event string, data []byte) error {
	_, err := fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", id, event, data)
	return err
}
