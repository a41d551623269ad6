package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// DefaultThreshold is the size of a step's result (its JSON text, in
// bytes) above which a step marked large stores it and passes a
// reference: Step Functions' 256 KiB less 32 KiB kept for the rest of the
// execution's state (its input, the other steps' results) and the task's
// envelope.
const DefaultThreshold = 256*1024 - 32*1024

// DefaultMaxResolvedBytes is the most bytes a payload may have once its
// references are resolved, unless the caller sets another limit.
const DefaultMaxResolvedBytes = 64 << 20

// OffloadParams are what Offload stores.
type OffloadParams struct {
	// Execution is the ARN of the value's execution and Step the id of the
	// step that made it: the first parts of its key.
	Execution, Step string
	// Value is the value's JSON text.
	Value json.RawMessage
}

// Offload stores p.Value in store under its content-addressed key and
// returns the reference to it. It returns an error when Value is not
// JSON, and the store's error.
func Offload(ctx context.Context, store Store, p OffloadParams) (json.RawMessage, Ref, error) {
	if !json.Valid(p.Value) {
		return nil, Ref{}, fmt.Errorf("storing the result of step %s: it is not JSON", p.Step)
	}
	sum := sha256.Sum256(p.Value)
	sha := hex.EncodeToString(sum[:])
	uri, err := store.Put(ctx, Key(p.Execution, p.Step, sha), p.Value)
	if err != nil {
		return nil, Ref{}, fmt.Errorf("storing the result of step %s: %w", p.Step, err)
	}
	r := Ref{URI: uri, Bytes: int64(len(p.Value)), SHA256: sha, ContentType: ContentType}
	return MarshalReference(r), r, nil
}

// Resolve returns doc, a JSON text, with every reference in it replaced
// by the value it names, read from store and checked against the
// reference's size and SHA-256; the other values keep their text and
// their members' order (white space between them goes). A document
// without references is returned as it is, unparsed. maxBytes bounds the
// resolved document (0 means DefaultMaxResolvedBytes): a reference that
// would make it larger is not read, and the error wraps ErrTooLarge.
// Errors name the reference's URI and wrap the store's (ErrNotFound,
// ErrForeign) or ErrCorrupt; with a nil store, a document holding a
// reference is refused with ErrForeign. Values are not resolved again: a
// stored value holding a reference keeps it.
func Resolve(ctx context.Context, store Getter, doc []byte, maxBytes int64) ([]byte, error) {
	if !MayHoldReference(doc) {
		return doc, nil
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxResolvedBytes
	}
	r := &resolver{ctx: ctx, store: store, max: maxBytes, size: int64(len(doc))}
	var out bytes.Buffer
	if err := r.value(&out, bytes.TrimSpace(doc)); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// References returns the references in doc, in document order, without
// reading them.
func References(doc []byte) ([]Ref, error) {
	r := &resolver{collect: true}
	if !MayHoldReference(doc) {
		return nil, nil
	}
	var out bytes.Buffer
	if err := r.value(&out, bytes.TrimSpace(doc)); err != nil {
		return nil, err
	}
	return r.refs, nil
}

type resolver struct {
	ctx   context.Context
	store Getter
	max   int64
	// size is what the resolved document will have, as far as known.
	size int64
	// collect lists the references instead of reading them.
	collect bool
	refs    []Ref
}

func (r *resolver) value(out *bytes.Buffer, raw []byte) error {
	if len(raw) == 0 || !MayHoldReference(raw) || (raw[0] != '{' && raw[0] != '[') {
		out.Write(raw)
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("reading JSON for blob references: %w: %w", ErrMalformed, err)
	}
	type member struct {
		key string
		raw json.RawMessage
	}
	var members []member
	for dec.More() {
		var m member
		if raw[0] == '{' {
			tok, err := dec.Token()
			if err != nil {
				return fmt.Errorf("reading JSON for blob references: %w: %w", ErrMalformed, err)
			}
			m.key, _ = tok.(string)
		}
		if err := dec.Decode(&m.raw); err != nil {
			return fmt.Errorf("reading JSON for blob references: %w: %w", ErrMalformed, err)
		}
		members = append(members, m)
	}
	if raw[0] == '{' && len(members) == 1 && members[0].key == Member {
		return r.reference(out, raw)
	}
	open, closing := byte('['), byte(']')
	if raw[0] == '{' {
		open, closing = '{', '}'
	}
	out.WriteByte(open)
	for i, m := range members {
		if i > 0 {
			out.WriteByte(',')
		}
		if raw[0] == '{' {
			writeKey(out, m.key)
			out.WriteByte(':')
		}
		if err := r.value(out, m.raw); err != nil {
			return err
		}
	}
	out.WriteByte(closing)
	return nil
}

// reference writes the value the reference raw names.
func (r *resolver) reference(out *bytes.Buffer, raw []byte) error {
	ref, _, err := ParseReference(raw)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if r.collect {
		r.refs = append(r.refs, ref)
		out.Write(raw)
		return nil
	}
	if r.store == nil {
		return fmt.Errorf("reading %s: %w: no blob store is configured here", ref.URI, ErrForeign)
	}
	r.size += ref.Bytes - int64(len(raw))
	if r.size > r.max {
		return fmt.Errorf("reading %s: %w: with its %d bytes the payload would have %d bytes, over the limit of %d", ref.URI, ErrTooLarge, ref.Bytes, r.size, r.max)
	}
	body, err := r.store.Get(r.ctx, ref.URI)
	if err != nil {
		return err
	}
	if err := ref.check(body); err != nil {
		return err
	}
	if !json.Valid(body) {
		return fmt.Errorf("reading %s: %w: it is not JSON", ref.URI, ErrCorrupt)
	}
	out.Write(bytes.TrimSpace(body))
	return nil
}

func writeKey(out *bytes.Buffer, key string) {
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(key)         // a string always encodes
	out.Truncate(out.Len() - 1) // Encode ends with a newline
}

// Permanent reports whether err, from Resolve, will not pass by trying
// again: the value is gone, in another store, not the one referenced, or
// too large. Any other error (the store could not be reached) may pass.
func Permanent(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrForeign) || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrMalformed)
}
