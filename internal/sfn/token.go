package sfn

import (
	"encoding/base64"
	"strings"
)

// taskTokenRandomBytes is the length of a local task token's random part.
const taskTokenRandomBytes = 18

// NewTaskToken is the local engine's task token for a task of the
// execution executionARN: the ARN and random (taskTokenRandomBytes long,
// so that a token cannot be guessed), base64url without padding. It
// panics when random has another length: that is the engine's bug.
//
// A token of Step Functions on AWS is opaque; only the local engine's
// carry their execution, which lets a callback find its execution and a
// worker check that a task message's token belongs to the message's
// execution (TaskTokenExecution).
func NewTaskToken(executionARN string, random []byte) string {
	if len(random) != taskTokenRandomBytes {
		panic("sfn.NewTaskToken: the random part must have 18 bytes")
	}
	return base64.RawURLEncoding.EncodeToString(append([]byte(executionARN+"|"), random...))
}

// TaskTokenExecution returns the ARN of the execution a token of the local
// engine (NewTaskToken) belongs to, and false for any other token: one of
// Step Functions on AWS, which says nothing of its execution, or a string
// of the wrong shape. The ARN is not checked; the engine does that.
func TaskTokenExecution(token string) (string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", false
	}
	i := strings.IndexByte(string(raw), '|') // ARNs never hold "|"; the random part may
	if i < 0 || len(raw)-i-1 != taskTokenRandomBytes {
		return "", false
	}
	return string(raw[:i]), true
}
