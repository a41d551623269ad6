package blob

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Member is the name of a reference's single member.
const Member = "$aiflow_blob"

// ContentType is the content type of every stored value: JSON text.
const ContentType = "application/json"

// LocalScheme starts the URI of a value in a store other than S3.
const LocalScheme = "aiflow-blob:"

// Ref describes a stored value: the member of a reference.
type Ref struct {
	// URI names the value in its store: s3://bucket/key or
	// aiflow-blob:key.
	URI string `json:"uri"`
	// Bytes is the length of the stored JSON text.
	Bytes int64 `json:"bytes"`
	// SHA256 is the hex SHA-256 of the stored JSON text.
	SHA256 string `json:"sha256"`
	// ContentType is ContentType.
	ContentType string `json:"content_type"`
}

// reference is a Ref as it travels.
type reference struct {
	Blob *Ref `json:"$aiflow_blob"`
}

// MarshalReference returns the reference to r: {"$aiflow_blob": r}.
func MarshalReference(r Ref) json.RawMessage {
	out, _ := json.Marshal(reference{Blob: &r}) // a Ref of strings and a number always marshals
	return out
}

// marker is how a JSON text holding a reference must spell its member.
var marker = []byte(`"` + Member + `"`)

// MayHoldReference reports whether doc may hold a reference: it spells
// the member's name. A document without it is returned as it is by
// Resolve, unread.
func MayHoldReference(doc []byte) bool { return bytes.Contains(doc, marker) }

// ParseReference reads v as a reference. It returns false when v is not
// an object whose single member is "$aiflow_blob", and an error when it is
// one but its Ref is not well formed (no uri, a negative size, a sha256
// that is not 64 hex digits).
func ParseReference(v json.RawMessage) (Ref, bool, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || v[0] != '{' || !MayHoldReference(v) {
		return Ref{}, false, nil
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(v, &members); err != nil || len(members) != 1 || members[Member] == nil {
		return Ref{}, false, nil
	}
	var r Ref
	dec := json.NewDecoder(bytes.NewReader(members[Member]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Ref{}, true, fmt.Errorf("reading a blob reference: %w", err)
	}
	if err := r.validate(); err != nil {
		return Ref{}, true, err
	}
	return r, true, nil
}

func (r Ref) validate() error {
	switch {
	case r.URI == "":
		return errors.New("reading a blob reference: it has no uri")
	case !strings.HasPrefix(r.URI, "s3://") && !strings.HasPrefix(r.URI, LocalScheme):
		return fmt.Errorf("reading a blob reference: uri %q is neither s3://bucket/key nor %skey", r.URI, LocalScheme)
	case r.Bytes < 0:
		return fmt.Errorf("reading the blob reference %s: bytes is %d", r.URI, r.Bytes)
	case len(r.SHA256) != sha256.Size*2 || strings.ToLower(r.SHA256) != r.SHA256:
		return fmt.Errorf("reading the blob reference %s: sha256 is not 64 lowercase hex digits", r.URI)
	}
	if _, err := hex.DecodeString(r.SHA256); err != nil {
		return fmt.Errorf("reading the blob reference %s: sha256 is not 64 lowercase hex digits", r.URI)
	}
	return nil
}

// check reports whether body is the value r describes.
func (r Ref) check(body []byte) error {
	sum := sha256.Sum256(body)
	if int64(len(body)) != r.Bytes || hex.EncodeToString(sum[:]) != r.SHA256 {
		return fmt.Errorf("reading %s: %w: it has %d bytes of SHA-256 %x, the reference says %d bytes of %s",
			r.URI, ErrCorrupt, len(body), sum, r.Bytes, r.SHA256)
	}
	return nil
}

// ExecutionPrefix is the first part of the keys of an execution's values:
// 32 hex digits of the SHA-256 of its ARN. An ARN has characters (":")
// that are awkward in a key, and a key must not say more than the
// execution does.
func ExecutionPrefix(executionARN string) string {
	sum := sha256.Sum256([]byte(executionARN))
	return hex.EncodeToString(sum[:16])
}

// Key is the key of a value of execution's step: ExecutionPrefix, the
// step id, and the value's SHA-256, as "prefix/step/sha256.json".
func Key(executionARN, stepID, sha string) string {
	return ExecutionPrefix(executionARN) + "/" + url.PathEscape(stepID) + "/" + sha + ".json"
}
