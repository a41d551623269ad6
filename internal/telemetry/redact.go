package telemetry

import (
	"log/slog"
	"regexp"
	"strings"
)

// urlMask replaces passwords, like (*url.URL).Redacted does.
const urlMask = "xxxxx"

// sensitiveKeyParts are the lowercase substrings that mark an attribute
// key (or an enclosing group name) as holding a secret.
var sensitiveKeyParts = []string{
	"password", "passwd", "secret", "token", "api_key", "apikey",
	"authorization", "credential", "private_key",
}

var (
	// urlUserinfoRE matches "scheme://user:" and the password up to the
	// last "@" before the host ends, which is where net/url splits
	// userinfo, so the mask covers what a URL parser would take as the
	// password. It also finds URLs inside longer text, such as an error
	// message quoting a connection string.
	urlUserinfoRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@]*:)[^\s/?#]*@`)
	// passwordKVRE matches a password in a libpq keyword/value DSN
	// (password=p, password = 'p q'), in a URL query (?password=p) and in
	// an environment assignment (PGPASSWORD=p).
	passwordKVRE = regexp.MustCompile(`(?i)((?:^|[\s?&;])[a-z_]*password\s*=\s*)(?:'(?:\\.|[^'\\])*'|[^\s&]*)`)
)

// RedactURL returns s with passwords replaced by xxxxx: the password in a
// URL's userinfo (postgres://u:p@h/db becomes postgres://u:xxxxx@h/db),
// and the value of a password key in a libpq keyword/value DSN
// (host=h password=p becomes host=h password=xxxxx) or a URL query. URLs
// inside longer text are redacted too. Everything else is left as it was,
// so the result stays useful for debugging a connection.
func RedactURL(s string) string {
	if strings.Contains(s, "://") {
		s = urlUserinfoRE.ReplaceAllString(s, "${1}"+urlMask+"@")
	}
	if strings.Contains(s, "=") {
		s = passwordKVRE.ReplaceAllString(s, "${1}"+urlMask)
	}
	return s
}

// isSensitiveKey reports whether an attribute key names a secret.
func isSensitiveKey(key string) bool {
	key = strings.ToLower(key)
	for _, part := range sensitiveKeyParts {
		if strings.Contains(key, part) {
			return true
		}
	}
	return false
}

// redactAttr is the slog.HandlerOptions.ReplaceAttr of NewLogger's handler.
//
// A sensitive key redacts string and arbitrary values but not numbers,
// booleans, durations and times: those are never secrets, and an AI
// workflow logs input_tokens and max_tokens that must stay readable.
// slog has already resolved LogValuers, so a Secret arrives as
// [REDACTED].
func redactAttr(groups []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString, slog.KindAny:
	default:
		return a
	}
	if isSensitiveKey(a.Key) || anySensitive(groups) {
		a.Value = slog.StringValue(redacted)
		return a
	}
	switch a.Value.Kind() {
	case slog.KindString:
		s := a.Value.String()
		if r := RedactURL(s); r != s {
			a.Value = slog.StringValue(r)
		}
	case slog.KindAny:
		// Errors from database drivers and HTTP clients quote the URL
		// they failed on.
		if err, ok := a.Value.Any().(error); ok && err != nil {
			s := err.Error()
			if r := RedactURL(s); r != s {
				a.Value = slog.StringValue(r)
			}
		}
	}
	return a
}

// anySensitive reports whether any enclosing group names a secret, as in
// slog.Group("credentials", "user", u, "pass", p).
func anySensitive(groups []string) bool {
	for _, g := range groups {
		if isSensitiveKey(g) {
			return true
		}
	}
	return false
}
