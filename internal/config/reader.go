package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/telemetry"
)

// examplePostgresURL is the example shown for a bad PostgreSQL URL.
const examplePostgresURL = "postgres://aiflow:secret@localhost:5432/aiflow?sslmode=disable"

// reader reads typed values from the environment and collects a Problem for
// each bad one instead of stopping, so a Load function reports all of them.
// Each method returns its default (or the zero value) when the variable is
// unset or invalid.
//
// A variable set to an empty or blank string counts as unset, so
// `AIFLOW_LOG_LEVEL= aiflow dev` falls back to the default; surrounding
// whitespace is trimmed from every value.
type reader struct {
	lookup   LookupFunc
	problems []Problem
}

func newReader(lookup LookupFunc) *reader {
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	return &reader{lookup: lookup}
}

// err returns the collected problems as an *Error, or nil.
func (r *reader) err(binary string) error {
	if len(r.problems) == 0 {
		return nil
	}
	return &Error{Binary: binary, Problems: r.problems}
}

func (r *reader) get(key string) (string, bool) {
	v, ok := r.lookup(key)
	if !ok {
		return "", false
	}
	v = strings.TrimSpace(v)
	return v, v != ""
}

func (r *reader) problem(key, example, format string, args ...any) {
	r.problems = append(r.problems, Problem{Var: key, Problem: fmt.Sprintf(format, args...), Example: example})
}

// isSecretVar reports whether a variable's value must never be echoed.
func isSecretVar(key string) bool {
	for _, part := range []string{"PASSWORD", "SECRET", "TOKEN", "KEY", "DATABASE_URL"} {
		if strings.Contains(key, part) {
			return true
		}
	}
	return false
}

// show returns the value of key as it may appear in a message: quoted, or
// for a secret variable redacted or hidden. A DATABASE_URL that looks like a
// URL is shown through telemetry.RedactURL, which masks its password; any
// other shape (a keyword/value DSN, a typo) could hold a password where
// RedactURL does not look, so it is hidden.
func show(key, value string) string {
	if !isSecretVar(key) {
		return strconv.Quote(value)
	}
	if strings.Contains(key, "DATABASE_URL") && strings.Contains(value, "://") {
		return strconv.Quote(telemetry.RedactURL(value))
	}
	return "(value hidden)"
}

// string returns the value of key, or def when unset.
func (r *reader) string(key, def string) string {
	if v, ok := r.get(key); ok {
		return v
	}
	return def
}

// requiredString returns the value of key and reports a problem when unset.
func (r *reader) requiredString(key, example string) string {
	v, ok := r.get(key)
	if !ok {
		r.problem(key, example, "required but not set")
	}
	return v
}

// enum returns the value of key, which must be one of allowed (compared
// ignoring case, returned as spelled in allowed), or def when unset or
// invalid. The example is def, or allowed[0] when def is empty.
func (r *reader) enum(key, def string, allowed ...string) string {
	v, ok := r.get(key)
	if !ok {
		return def
	}
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a
		}
	}
	example := def
	if example == "" && len(allowed) > 0 {
		example = allowed[0]
	}
	r.problem(key, example, "%s is not one of %s", show(key, v), strings.Join(allowed, ", "))
	return def
}

// duration returns the value of key in Go duration syntax (90s, 1m30s),
// which must be greater than zero, or def when unset or invalid.
func (r *reader) duration(key string, def time.Duration) time.Duration {
	v, ok := r.get(key)
	if !ok {
		return def
	}
	example := def.String()
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		r.problem(key, example, "%s is not a duration such as 10s or 1m30s", show(key, v))
		return def
	case d <= 0:
		r.problem(key, example, "%s is not greater than zero", show(key, v))
		return def
	}
	return d
}

// hostPort returns the value of key as host:port, where the host may be
// empty (all interfaces) and the port is a number from 0 to 65535, or def
// when unset or invalid.
func (r *reader) hostPort(key, def string) string {
	v, ok := r.get(key)
	if !ok {
		return def
	}
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		r.problem(key, def, "%s is not host:port", show(key, v))
		return def
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n > 65535 {
		r.problem(key, def, "%s is not host:port: the port must be a number from 0 to 65535", show(key, v))
		return def
	}
	return v
}

// int returns the value of key as a decimal integer from lo to hi, or def
// when unset or invalid.
func (r *reader) int(key string, def, lo, hi int) int {
	v, ok := r.get(key)
	if !ok {
		return def
	}
	example := strconv.Itoa(def)
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		r.problem(key, example, "%s is not an integer", show(key, v))
		return def
	case n < lo || n > hi:
		r.problem(key, example, "%s is not between %d and %d", show(key, v), lo, hi)
		return def
	}
	return n
}

// bool returns the value of key as a boolean (true, false, 1, 0, yes, no,
// ignoring case), or def when unset or invalid.
func (r *reader) bool(key string, def bool) bool {
	v, ok := r.get(key)
	if !ok {
		return def
	}
	switch strings.ToLower(v) {
	case "true", "1", "yes":
		return true
	case "false", "0", "no":
		return false
	}
	r.problem(key, strconv.FormatBool(!def), "%s is not one of true, false, 1, 0, yes, no", show(key, v))
	return def
}

// postgresURL returns the value of key, which must be a postgres:// or
// postgresql:// URL naming a host in its authority or in a host query
// parameter (postgres:///aiflow?host=/var/run/postgresql). An unset
// variable is a problem only when required. Invalid values yield "".
func (r *reader) postgresURL(key string, required bool) string {
	v, ok := r.get(key)
	if !ok {
		if required {
			r.problem(key, examplePostgresURL, "required but not set")
		}
		return ""
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
		// err quotes the value, password and all, so it is not shown.
		r.problem(key, examplePostgresURL, "%s is not a valid URL", show(key, v))
		return ""
	case u.Scheme != "postgres" && u.Scheme != "postgresql":
		r.problem(key, examplePostgresURL, "%s is not a PostgreSQL URL: the scheme must be postgres or postgresql", show(key, v))
		return ""
	case u.Hostname() == "" && u.Query().Get("host") == "":
		r.problem(key, examplePostgresURL, "%s has no host", show(key, v))
		return ""
	}
	return v
}

// secret returns the value of key as a telemetry.Secret, or "" when unset.
func (r *reader) secret(key string) telemetry.Secret {
	v, _ := r.get(key)
	return telemetry.Secret(v)
}

// dir returns the value of key, which must name an existing directory, or
// "" when unset or invalid.
func (r *reader) dir(key, example string) string {
	v, ok := r.get(key)
	if !ok {
		return ""
	}
	fi, err := os.Stat(v)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.problem(key, example, "%s does not exist", show(key, v))
		return ""
	case err != nil:
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err // the path is already quoted
		}
		r.problem(key, example, "%s cannot be read: %v", show(key, v), err)
		return ""
	case !fi.IsDir():
		r.problem(key, example, "%s is not a directory", show(key, v))
		return ""
	}
	return v
}

// awsRegionRE matches AWS region names: us-east-1, eu-central-2,
// us-gov-west-1.
var awsRegionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)

// exampleAWSRegion is the example shown for a bad AWS region.
const exampleAWSRegion = "us-east-1"

// awsRegion returns the AWS region from the first of keys that is set,
// which is how the AWS SDKs fall back from AWS_REGION to
// AWS_DEFAULT_REGION. When none is set it reports a problem on keys[0] if
// required, with why saying when it is required. Invalid values yield "".
func (r *reader) awsRegion(required bool, why string, keys ...string) string {
	for _, key := range keys {
		v, ok := r.get(key)
		if !ok {
			continue
		}
		if !awsRegionRE.MatchString(v) {
			r.problem(key, exampleAWSRegion, "%s is not an AWS region", show(key, v))
			return ""
		}
		return v
	}
	if required {
		msg := "required " + why + " but not set"
		if len(keys) > 1 {
			msg += " (nor " + strings.Join(keys[1:], ", ") + ")"
		}
		r.problem(keys[0], exampleAWSRegion, "%s", msg)
	}
	return ""
}
