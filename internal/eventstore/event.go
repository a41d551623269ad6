package eventstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/aiflow/aiflow/internal/jsonvalid"
)

// Limits on what an event may hold. They are checked before anything is
// written.
const (
	// MaxEventBytes bounds one event's data and metadata together (1 MiB).
	MaxEventBytes = 1 << 20
	// MaxStreamIDBytes bounds a stream id.
	MaxStreamIDBytes = 200
	// MaxTypeBytes bounds an event type name.
	MaxTypeBytes = 200
)

// Metadata travels with every event: who caused it and how to find its
// trace.
type Metadata struct {
	// CorrelationID ties together every event of one request or execution.
	CorrelationID string `json:"correlation_id,omitempty"`
	// CausationID is the id of the event or command that caused this one.
	CausationID string `json:"causation_id,omitempty"`
	// TraceID is the OpenTelemetry (X-Ray format) trace the append ran in.
	TraceID string `json:"trace_id,omitempty"`
	// Actor is who caused the event: a user, a service, a worker.
	Actor string `json:"actor,omitempty"`
}

// NewEvent is an event to append.
type NewEvent struct {
	// ID identifies the event forever. Appending an event whose ID is
	// stored already, with the same content, does nothing and succeeds, so
	// a retried writer never duplicates history. The zero ID means the
	// store makes one (UUIDv7).
	ID uuid.UUID
	// Type names what happened, e.g. "TaskSucceeded".
	Type string
	// SchemaVersion is the version of Data's shape; zero means 1.
	SchemaVersion int
	// Data is a JSON object.
	Data json.RawMessage
	// Metadata is stored beside Data.
	Metadata Metadata
	// ExactData skips the re-encoding of Data into the store's canonical
	// form (keys sorted, compact), which costs a full decode and encode:
	// the store only checks that Data is one JSON object without \u0000,
	// and a retried append with this ID must carry the same bytes, not
	// only the same meaning. For writers that produce the same bytes for
	// the same event, such as the local engine.
	ExactData bool
}

// Event is a stored event.
type Event struct {
	ID            uuid.UUID
	StreamID      string
	Version       int64 // 1 for a stream's first event
	Type          string
	SchemaVersion int
	Data          json.RawMessage
	Metadata      Metadata
	RecordedAt    time.Time
	// Position is the event's place in the global log. Positions grow in
	// the order appends took them; see Checkpoint for the order in which
	// they become visible.
	Position int64
	// TxID is the appending transaction, used by subscriptions.
	TxID uint64
}

// Checkpoint is a place in the global log in commit-safe order: events are
// ordered by (TxID, Position), and an event is delivered only after every
// transaction that could still add an event before it has ended.
type Checkpoint struct {
	TxID     uint64
	Position int64
}

// After reports whether e comes after c in commit-safe order.
func (c Checkpoint) After(e Event) bool {
	return e.TxID > c.TxID || (e.TxID == c.TxID && e.Position > c.Position)
}

// ExpectedVersion is what an append expects of its stream: Any, NoStream,
// or the exact version the stream must be at (see Exact).
type ExpectedVersion int64

const (
	// Any appends whatever the stream's version.
	Any ExpectedVersion = -1
	// NoStream appends only when the stream has no event yet.
	NoStream ExpectedVersion = 0
)

// Exact expects the stream to be at version v (its last event's version).
// Exact(0) is NoStream.
func Exact(v int64) ExpectedVersion { return ExpectedVersion(v) }

func (e ExpectedVersion) String() string {
	switch {
	case e == Any:
		return "any"
	case e == NoStream:
		return "no stream"
	case e < 0:
		return fmt.Sprintf("invalid (%d)", int64(e))
	default:
		return fmt.Sprintf("version %d", int64(e))
	}
}

// ErrConflict is matched (errors.Is) by every *ConflictError.
var ErrConflict = errors.New("eventstore: version conflict")

// ConflictError is returned when a stream is not at the version an append
// expected. Nothing of the append was written.
type ConflictError struct {
	StreamID string
	Expected ExpectedVersion
	Actual   int64 // 0 when the stream does not exist
}

func (e *ConflictError) Error() string {
	actual := "it does not exist"
	if e.Actual > 0 {
		actual = fmt.Sprintf("it is at version %d", e.Actual)
	}
	return fmt.Sprintf("appending to stream %q: expected %s, but %s", e.StreamID, e.Expected, actual)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// ErrDuplicateEvent is matched by every *DuplicateEventError.
var ErrDuplicateEvent = errors.New("eventstore: event id already used")

// DuplicateEventError is returned when an event's ID is stored already with
// other content (another stream, type, data or metadata). Nothing of the
// append was written.
type DuplicateEventError struct {
	ID             uuid.UUID
	StoredStreamID string
	StoredVersion  int64
}

func (e *DuplicateEventError) Error() string {
	return fmt.Sprintf("event %s is stored already (stream %q, version %d) with other content", e.ID, e.StoredStreamID, e.StoredVersion)
}

// Is makes errors.Is(err, ErrDuplicateEvent) true.
func (e *DuplicateEventError) Is(target error) bool { return target == ErrDuplicateEvent }

// ErrInvalid is matched by every *InvalidError.
var ErrInvalid = errors.New("eventstore: invalid input")

// InvalidError names what was wrong with an append and where. Nothing of
// the append was written.
type InvalidError struct {
	StreamID string
	Index    int    // the event's index in its append, or -1 for the stream itself
	Field    string // "stream id", "type", "data", "metadata", ...
	Reason   string
}

func (e *InvalidError) Error() string {
	where := fmt.Sprintf("stream %q", e.StreamID)
	if e.Index >= 0 {
		where += fmt.Sprintf(", event %d", e.Index)
	}
	return fmt.Sprintf("%s: %s: %s", where, e.Field, e.Reason)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// validateStreamID checks a stream id: 1 to MaxStreamIDBytes bytes of UTF-8
// without control characters.
func validateStreamID(id string) error {
	bad := func(reason string) error {
		return &InvalidError{StreamID: truncate(id, 60), Index: -1, Field: "stream id", Reason: reason}
	}
	switch {
	case id == "":
		return bad("is empty")
	case len(id) > MaxStreamIDBytes:
		return bad(fmt.Sprintf("is %d bytes, more than %d", len(id), MaxStreamIDBytes))
	case !utf8.ValidString(id):
		return bad("is not valid UTF-8")
	case strings.IndexFunc(id, isControl) >= 0:
		return bad("holds a control character")
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// prepared is a NewEvent checked and made ready to store.
type prepared struct {
	id            uuid.UUID
	typ           string
	schemaVersion int
	data          []byte // compact JSON
	metadata      []byte // compact JSON
	meta          Metadata
	hash          []byte
}

// metadataEncoder checks and encodes events' metadata, remembering the last
// it encoded: the events of one append mostly carry the same metadata,
// which is then checked and encoded once and its bytes shared (nothing
// writes them).
type metadataEncoder struct {
	last    Metadata
	encoded []byte // nil until the first
}

// preparing is what prepare keeps from one event of an append to the next.
type preparing struct {
	// checkJSON asks for the whole check of an ExactData event's Data;
	// without it only what PostgreSQL's json input does not check is
	// checked here (see exactObjectQuick), and lazy counts those events.
	checkJSON bool
	lazy      int
	meta      metadataEncoder
	scratch   []byte // where contentHash lays out an event's content
	hashes    []byte // the events' hashes, 32 bytes each, allocated once
}

// encode returns m as compact JSON; bad makes the error of a field that is
// not UTF-8 or holds a NUL.
func (e *metadataEncoder) encode(m Metadata, bad func(field, reason string) error) ([]byte, error) {
	if e.encoded != nil && m == e.last {
		return e.encoded, nil
	}
	for _, f := range [...]struct{ name, value string }{
		{"metadata.correlation_id", m.CorrelationID}, {"metadata.causation_id", m.CausationID},
		{"metadata.trace_id", m.TraceID}, {"metadata.actor", m.Actor},
	} {
		if strings.ContainsRune(f.value, 0) || !utf8.ValidString(f.value) {
			return nil, bad(f.name, "must be UTF-8 without \\u0000")
		}
	}
	encoded, err := json.Marshal(m)
	if err != nil {
		return nil, bad("metadata", err.Error())
	}
	e.last, e.encoded = m, encoded
	return encoded, nil
}

func prepare(stream string, i int, ev NewEvent, newID func() (uuid.UUID, error), st *preparing) (prepared, error) {
	bad := func(field, reason string) error {
		return &InvalidError{StreamID: truncate(stream, 60), Index: i, Field: field, Reason: reason}
	}
	switch {
	case ev.Type == "":
		return prepared{}, bad("type", "is empty")
	case len(ev.Type) > MaxTypeBytes:
		return prepared{}, bad("type", fmt.Sprintf("is %d bytes, more than %d", len(ev.Type), MaxTypeBytes))
	case !utf8.ValidString(ev.Type) || strings.IndexFunc(ev.Type, isControl) >= 0:
		return prepared{}, bad("type", "must be UTF-8 without control characters")
	case ev.SchemaVersion < 0:
		return prepared{}, bad("schema version", fmt.Sprintf("is %d; it must be 1 or more (0 means 1)", ev.SchemaVersion))
	}
	if len(ev.Data) > MaxEventBytes {
		return prepared{}, bad("data", fmt.Sprintf("is %d bytes, more than the %d-byte limit of an event", len(ev.Data), MaxEventBytes))
	}
	var data []byte
	var err error
	switch {
	case ev.ExactData && st.checkJSON:
		data, err = exactObject(ev.Data)
	case ev.ExactData:
		data, err = exactObjectQuick(ev.Data)
		st.lazy++
	case isCanonicalObject(ev.Data):
		data = bytes.Clone(ev.Data)
	default:
		data, err = canonicalObject(ev.Data)
	}
	if err != nil {
		return prepared{}, bad("data", err.Error())
	}
	metadata, err := st.meta.encode(ev.Metadata, bad)
	if err != nil {
		return prepared{}, err
	}
	if n := len(data) + len(metadata); n > MaxEventBytes {
		return prepared{}, bad("data", fmt.Sprintf("with its metadata is %d bytes, more than the %d-byte limit of an event", n, MaxEventBytes))
	}
	p := prepared{id: ev.ID, typ: ev.Type, schemaVersion: ev.SchemaVersion, data: data, metadata: metadata, meta: ev.Metadata}
	if p.schemaVersion == 0 {
		p.schemaVersion = 1
	}
	if p.id == uuid.Nil {
		if p.id, err = newID(); err != nil {
			return prepared{}, fmt.Errorf("making an event id: %w", err)
		}
	}
	p.hash, st.scratch, st.hashes = contentHash(stream, p, st.scratch, st.hashes)
	return p, nil
}

// contentHash identifies an event's content, to tell a retried append (same
// id, same content) from a reused id: the SHA-256 of the stream id, the
// type, the data and the metadata, each after its length (8 bytes, big
// endian), then the schema version (8 bytes). It lays them out in scratch,
// which it returns grown, and appends the hash to hashes.
func contentHash(stream string, p prepared, scratch, hashes []byte) (hash, scratchOut, hashesOut []byte) {
	b := slices.Grow(scratch[:0], 5*8+len(stream)+len(p.typ)+len(p.data)+len(p.metadata))
	for _, part := range [...]string{stream, p.typ} {
		b = binary.BigEndian.AppendUint64(b, uint64(len(part)))
		b = append(b, part...)
	}
	for _, part := range [...][]byte{p.data, p.metadata} {
		b = binary.BigEndian.AppendUint64(b, uint64(len(part)))
		b = append(b, part...)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(p.schemaVersion))
	sum := sha256.Sum256(b)
	start := len(hashes)
	hashes = append(hashes, sum[:]...)
	return hashes[start:len(hashes):len(hashes)], b, hashes
}

// exactObjectQuick is exactObject for an append that PostgreSQL checks
// next: the data column's json input refuses what is not JSON, its CHECK
// what is not an object, and the append is then prepared again with
// exactObject to name the event (Store.appendMany). It checks here what
// those do not: that raw is not empty, begins and ends as an object, and
// holds no \u0000 (which json accepts and jsonb, which reads of the
// store may cast to, does not). Whatever fails that goes to exactObject.
func exactObjectQuick(raw []byte) ([]byte, error) {
	d := bytes.TrimSpace(raw)
	if len(d) < 2 || d[0] != '{' || d[len(d)-1] != '}' || bytes.Contains(d, []byte(`\u0000`)) {
		return exactObject(raw)
	}
	return d, nil
}

// exactObject checks, without decoding it, that raw is one JSON object
// whose strings hold no \u0000, and returns it as it is.
func exactObject(raw []byte) ([]byte, error) {
	d := bytes.TrimSpace(raw)
	if len(d) == 0 {
		return nil, errors.New("is empty; it must be a JSON object")
	}
	if !jsonvalid.Valid(d) {
		// The decoder names what is wrong and where.
		return canonicalObject(raw)
	}
	if d[0] != '{' {
		return canonicalObject(raw) // names the kind of value
	}
	if bytes.Contains(d, []byte(`\u0000`)) {
		return canonicalObject(raw) // finds the \u0000, if it is one
	}
	return d, nil
}

// canonicalObject checks that raw is one JSON object whose strings hold no
// \u0000 (PostgreSQL's jsonb cannot store it), and returns it compact with
// object keys sorted, so equal content has equal bytes.
func canonicalObject(raw []byte) ([]byte, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, errors.New("is empty; it must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("has data after the JSON object")
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, fmt.Errorf("is a JSON %s; it must be a JSON object", jsonKind(v))
	}
	// The decoder refuses raw control bytes, so a NUL can only arrive as
	// the escape; look for where only when it is there.
	if bytes.Contains(raw, []byte(`\u0000`)) {
		if path, ok := findNUL(v, ""); ok {
			return nil, fmt.Errorf("holds \\u0000 at %s, which PostgreSQL cannot store", path)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("re-encoding: %v", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return "value"
}

// pointerEscaper escapes a key for a JSON pointer (RFC 6901).
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// findNUL returns the JSON pointer of the first string or key holding NUL.
func findNUL(v any, path string) (string, bool) {
	switch t := v.(type) {
	case string:
		if strings.ContainsRune(t, 0) {
			return orRoot(path), true
		}
	case map[string]any:
		for k, child := range t {
			p := path + "/" + pointerEscaper.Replace(k)
			if strings.ContainsRune(k, 0) {
				return p, true
			}
			if found, ok := findNUL(child, p); ok {
				return found, true
			}
		}
	case []any:
		for i, child := range t {
			if found, ok := findNUL(child, fmt.Sprintf("%s/%d", path, i)); ok {
				return found, true
			}
		}
	}
	return "", false
}

func orRoot(p string) string {
	if p == "" {
		return "/"
	}
	return p
}
