package telemetry

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
)

// redacted replaces secret values in every output.
const redacted = "[REDACTED]"

// Secret is a string that must not be printed: an API key, a password, a
// token. Every way of formatting it (fmt verbs, String, GoString, slog,
// encoding/json, encoding.TextMarshaler) yields [REDACTED]; Reveal returns
// the value for the one place that needs it. Compare with "" to test
// whether it is set.
//
// fmt cannot call methods on unexported struct fields, so a Secret kept in
// an unexported field of a struct printed with %v is shown; keep Secrets in
// exported fields or never print the struct.
type Secret string

// Reveal returns the secret value. Call it only where the value is used,
// never to log it.
func (s Secret) Reveal() string { return string(s) }

// String returns [REDACTED].
func (s Secret) String() string { return redacted }

// GoString returns [REDACTED], for %#v.
func (s Secret) GoString() string { return redacted }

// LogValue returns [REDACTED], so slog never resolves the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON returns the JSON string "[REDACTED]".
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

// MarshalText returns [REDACTED], for encoders that use
// encoding.TextMarshaler (TOML, XML, slog map keys).
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Format writes [REDACTED] for every verb and flag, %x and %q included.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// Compile-time checks that Secret hides itself from every printer.
var (
	_ fmt.Stringer   = Secret("")
	_ fmt.GoStringer = Secret("")
	_ fmt.Formatter  = Secret("")
	_ slog.LogValuer = Secret("")
	_ json.Marshaler = Secret("")
)
