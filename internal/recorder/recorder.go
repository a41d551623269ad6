// Package recorder copies the history of Step Functions executions into the
// event store: functions/recorder runs it on the EventBridge "Step
// Functions Execution Status Change" events of AWS Step Functions, so that
// the executions Step Functions runs on AWS have the same history in
// PostgreSQL as those the local engine runs.
//
// Each history event becomes one event of the execution's stream, the
// stream the local engine writes (eventstore.ExecutionStreamID), with the
// history event's type as its type and {"events": [<the history event>]} as its
// data: the shape of the engine's batches, which hold one or more history
// events under "events". A projection that reads "events" so serves both.
// The stream's version k holds the k-th history event, and the event's id
// is derived from the execution's ARN and the history event's id (EventID),
// so a re-delivered status change, a re-run, or two recorders racing on
// one execution never store an event twice.
package recorder

import (
	"context"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/metrics"
	"github.com/aiflow/aiflow/internal/sfn"
)

// Actor is the metadata actor of the events the recorder appends.
const Actor = "recorder"

// DefaultPageSize is the number of history events asked for per
// GetExecutionHistory call: the most Step Functions returns.
const DefaultPageSize = 1000

// appendChunk bounds the events of one append, keeping each transaction
// short for the longest histories (25,000 events).
const appendChunk = 500

// maxAttempts bounds the tries of a recording that races another writer
// of the same stream.
const maxAttempts = 5

// History reads an execution's history: the awssfn client (AWS Step
// Functions or any endpoint of its API) and the local engine both have it.
type History interface {
	GetExecutionHistory(ctx context.Context, in sfn.GetExecutionHistoryInput) (sfn.GetExecutionHistoryOutput, error)
}

// Store is the part of the event store the recorder writes through;
// *eventstore.Store is one.
type Store interface {
	ReadStream(ctx context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.Event, error)
	Append(ctx context.Context, streamID string, expected eventstore.ExpectedVersion, events ...eventstore.NewEvent) (eventstore.AppendResult, error)
}

// Config configures New.
type Config struct {
	// History is where histories are read; required.
	History History
	// Store is where they are written; required.
	Store Store
	// PageSize is the MaxResults of each GetExecutionHistory call (1 to
	// 1000); 0 means DefaultPageSize.
	PageSize int
	// Logger receives one record per recording; nil discards.
	Logger *slog.Logger
	// Metrics counts the executions and states of the events stored (see
	// count); nil counts nothing.
	Metrics *metrics.Recorder
}

// Recorder copies executions' histories into the event store. It is safe
// for concurrent use.
type Recorder struct {
	history  History
	store    Store
	pageSize int
	log      *slog.Logger
	metrics  *metrics.Recorder
}

// New returns a Recorder. It returns an error when History or Store is
// missing or PageSize is out of range.
func New(cfg Config) (*Recorder, error) {
	if cfg.History == nil || cfg.Store == nil {
		return nil, errors.New("making the recorder: Config.History and Config.Store are required")
	}
	if cfg.PageSize < 0 || cfg.PageSize > DefaultPageSize {
		return nil, fmt.Errorf("making the recorder: PageSize %d is not from 1 to %d", cfg.PageSize, DefaultPageSize)
	}
	r := &Recorder{history: cfg.History, store: cfg.Store, pageSize: cfg.PageSize, log: cfg.Logger, metrics: cfg.Metrics}
	if r.pageSize == 0 {
		r.pageSize = DefaultPageSize
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r, nil
}

// Result says what a recording did; the Lambda returns it, which
// EventBridge ignores and `aiflow invoke` prints.
type Result struct {
	ExecutionARN string `json:"executionArn"`
	// Status is the status the event reported.
	Status string `json:"status,omitempty"`
	// StreamID is the execution's stream.
	StreamID string `json:"streamId"`
	// HistoryEvents is the length of the history read.
	HistoryEvents int `json:"historyEvents"`
	// Appended is how many of them this call stored; the others were
	// stored already.
	Appended int `json:"appended"`
	// Version is the stream's version after the call.
	Version int64 `json:"version"`
}

// Handle records the execution of a status change event. It returns an
// error for an event that is not a Step Functions status change or has no
// execution ARN, and the errors of Record.
func (r *Recorder) Handle(ctx context.Context, ev events.EventBridgeEvent) (Result, error) {
	if ev.Source != sfn.StatusChangeSource || ev.DetailType != sfn.StatusChangeDetailType {
		return Result{}, fmt.Errorf("handling event %s: it is %q from %q, not %q from %q", ev.ID, ev.DetailType, ev.Source, sfn.StatusChangeDetailType, sfn.StatusChangeSource)
	}
	var d sfn.ExecutionStatusChange
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return Result{}, fmt.Errorf("decoding the detail of event %s: %w", ev.ID, err)
	}
	if d.ExecutionARN == "" {
		return Result{}, fmt.Errorf("handling event %s: the detail has no executionArn", ev.ID)
	}
	res, err := r.Record(ctx, d.ExecutionARN)
	res.Status = d.Status
	if err != nil {
		return res, err
	}
	r.log.InfoContext(ctx, "execution recorded", "event_id", ev.ID, "execution_arn", res.ExecutionARN, "status", d.Status,
		"stream_id", res.StreamID, "history_events", res.HistoryEvents, "appended", res.Appended, "version", res.Version)
	return res, nil
}

// Record reads the whole history of an execution and appends what the
// execution's stream does not hold yet. It returns the History's errors
// (an *sfn.Error for what the service refused, such as
// ExecutionDoesNotExist), the Store's, and an error when the stream holds
// events the recorder did not write (the local engine's batches, when the
// recorder is pointed at the database of a local engine).
func (r *Recorder) Record(ctx context.Context, executionARN string) (Result, error) {
	res := Result{ExecutionARN: executionARN, StreamID: eventstore.ExecutionStreamID(executionARN)}
	history, err := r.readHistory(ctx, executionARN)
	if err != nil {
		return res, err
	}
	res.HistoryEvents = len(history)
	for attempt := 1; ; attempt++ {
		appended, version, err := r.appendNew(ctx, executionARN, res.StreamID, history)
		res.Appended += appended
		res.Version = version
		if errors.Is(err, eventstore.ErrConflict) && attempt < maxAttempts {
			// Another recorder of the same execution moved the stream
			// first; what it stored is skipped on the next try.
			continue
		}
		return res, err
	}
}

// readHistory reads every page of an execution's history, oldest first.
func (r *Recorder) readHistory(ctx context.Context, executionARN string) ([]sfn.HistoryEvent, error) {
	var out []sfn.HistoryEvent
	token := ""
	for {
		page, err := r.history.GetExecutionHistory(ctx, sfn.GetExecutionHistoryInput{
			ExecutionARN: executionARN, MaxResults: r.pageSize, NextToken: token,
		})
		if err != nil {
			return nil, fmt.Errorf("reading the history of %s: %w", executionARN, err)
		}
		out = append(out, page.Events...)
		if page.NextToken == "" {
			return out, nil
		}
		token = page.NextToken
	}
}

// appendNew appends the events of history past the stream's version, and
// returns how many it appended and the stream's version.
func (r *Recorder) appendNew(ctx context.Context, executionARN, stream string, history []sfn.HistoryEvent) (int, int64, error) {
	last, err := r.store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{Direction: eventstore.Backward, Limit: 1})
	if err != nil {
		return 0, 0, fmt.Errorf("reading the end of stream %s: %w", stream, err)
	}
	var version int64
	if len(last) == 1 {
		version = last[0].Version
		if version > int64(len(history)) || !wrote(last[0].ID, executionARN, &history[version-1]) {
			return 0, version, fmt.Errorf("recording %s: stream %s holds events the recorder did not write (its version %d does not end with history event %d); is it a local engine's stream?",
				executionARN, stream, version, min(version, int64(len(history))))
		}
	}
	appended := 0
	for int(version) < len(history) {
		chunk := history[version:min(int(version)+appendChunk, len(history))]
		evs := make([]eventstore.NewEvent, len(chunk))
		for i, h := range chunk {
			if evs[i], err = NewEvent(executionARN, h); err != nil {
				return appended, version, err
			}
		}
		res, err := r.store.Append(ctx, stream, eventstore.Exact(version), evs...)
		if err != nil {
			return appended, version, fmt.Errorf("appending history events %d to %d of %s: %w", version+1, int(version)+len(chunk), executionARN, err)
		}
		count(r.metrics, executionARN, history, int(version), int(version)+len(chunk))
		appended += len(chunk)
		version = res.Version
	}
	return appended, version, nil
}

// namespace is the namespace of the hash in the recorder's event ids.
var namespace = uuid.MustParse("6f1c9b52-3c1e-4d5a-9f7e-2b8a4c0d7e31")

// EventID is the id of the event that holds history event h of an
// execution, the same on every delivery: eventstore.OrderedID of h's
// timestamp (Step Functions' milliseconds) and of the SHA-1 of namespace
// and the execution's ARN + "#" + h's id, so in the order the events
// happened.
func EventID(executionARN string, h *sfn.HistoryEvent) uuid.UUID {
	sum := nameHash(executionARN, h)
	return eventstore.OrderedID(h.Timestamp, sum[:])
}

// nameHash is the hash in the ids of history event h's event.
func nameHash(executionARN string, h *sfn.HistoryEvent) [sha1.Size]byte {
	return sha1.Sum(append(namespace[:len(namespace):len(namespace)], executionARN+"#"+strconv.FormatInt(h.ID, 10)...))
}

// wrote reports whether id is the recorder's for history event h, of this
// release or an earlier one. The time in the id is not compared: a history
// read again, by another release's client, may decode h's time to another
// millisecond. Releases before EventID's gave the event the UUIDv5 of the
// same name (uuid.NewSHA1 of namespace and it): the hash's first 16 bytes,
// out of any order, with the version and variant set.
func wrote(id uuid.UUID, executionARN string, h *sfn.HistoryEvent) bool {
	sum := nameHash(executionARN, h)
	var earlier uuid.UUID
	copy(earlier[:], sum[:])
	earlier[6] = earlier[6]&0x0f | 0x50 // version 5
	earlier[8] = earlier[8]&0x3f | 0x80 // the RFC 4122 variant
	return eventstore.IsOrderedID(id, sum[:]) || id == earlier
}

// batch is the data of a stored event: the shape of the engine's batches
// as far as history goes.
type batch struct {
	Events []sfn.HistoryEvent `json:"events"`
}

// NewEvent is the event that stores history event h of an execution. It
// returns an error only when h cannot be encoded.
func NewEvent(executionARN string, h sfn.HistoryEvent) (eventstore.NewEvent, error) {
	h.Timestamp = h.Timestamp.UTC().Truncate(time.Millisecond) // Step Functions' precision, whatever the client decoded
	data, err := json.Marshal(batch{Events: []sfn.HistoryEvent{h}})
	if err != nil {
		return eventstore.NewEvent{}, fmt.Errorf("encoding history event %d of %s: %w", h.ID, executionARN, err)
	}
	return eventstore.NewEvent{
		ID:       EventID(executionARN, &h),
		Type:     h.Type,
		Data:     data,
		Metadata: eventstore.Metadata{CorrelationID: executionARN, Actor: Actor},
	}, nil
}
