package engine

import "strings"

// isStatesARN reports whether arn is a Step Functions ARN of one of kinds
// with parts names after it: arn:aws[a-z-]*:states:REGION:ACCOUNT:KIND
// followed by parts non-empty names without a colon, each after a colon.
// It is what stateMachineARN (one part, "stateMachine") and executionARN
// (two, "execution" or "express") match, without a regular expression's
// cost on every call that names an execution.
func isStatesARN(arn string, parts int, kinds ...string) bool {
	rest, ok := strings.CutPrefix(arn, "arn:aws")
	if !ok {
		return false
	}
	i := 0
	for i < len(rest) && (rest[i] >= 'a' && rest[i] <= 'z' || rest[i] == '-') {
		i++
	}
	if rest, ok = strings.CutPrefix(rest[i:], ":states:"); !ok {
		return false
	}
	i = 0
	for i < len(rest) && (rest[i] >= 'a' && rest[i] <= 'z' || rest[i] >= '0' && rest[i] <= '9' || rest[i] == '-') {
		i++
	}
	if i == 0 || i+14 > len(rest) || rest[i] != ':' || rest[i+13] != ':' {
		return false
	}
	for _, c := range []byte(rest[i+1 : i+13]) {
		if c < '0' || c > '9' {
			return false
		}
	}
	rest = rest[i+14:]
	kind, rest, ok := strings.Cut(rest, ":")
	if !ok {
		return false
	}
	found := false
	for _, k := range kinds {
		found = found || kind == k
	}
	if !found {
		return false
	}
	for n := range parts {
		name, after, more := strings.Cut(rest, ":")
		if name == "" || more != (n < parts-1) {
			return false
		}
		rest = after
	}
	return true
}
