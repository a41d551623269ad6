package eventstore

import "github.com/aiflow/aiflow/internal/jsoncanon"

// isCanonicalObject reports whether raw is already exactly what
// canonicalObject would return for it: one JSON object, no whitespace
// outside strings, object keys in strictly increasing byte order (so no key
// twice), strings written the way encoding/json writes them without HTML
// escaping, and no \u0000. It decodes nothing and allocates nothing, so an
// event whose data is canonical already (what services that marshal Go
// values send) skips the decode and re-encode.
//
// It is conservative: a false answer only means canonicalObject decides,
// with its own errors. Keys holding an escape, deep nesting, and any escape
// encoding/json would not write take that path. It is jsoncanon's check in
// the form of an Encoder without HTML escaping, which canonicalObject uses.
func isCanonicalObject(raw []byte) bool {
	return jsoncanon.Form{}.IsObject(raw)
}
