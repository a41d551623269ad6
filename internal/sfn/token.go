package sfn

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
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

// ErrTaskTokenRefused is wrapped by CheckTaskToken's error for a token
// that no task awaits or that belongs to another execution.
var ErrTaskTokenRefused = errors.New("task token refused")

// TaskHeartbeater is what CheckTaskToken needs of the Callbacks port.
type TaskHeartbeater interface {
	SendTaskHeartbeat(ctx context.Context, token string) error
}

// CheckTaskToken is the check a worker makes before it runs anything of a
// task message: the token must be one Step Functions issued for a task it
// still awaits and, when the token names its execution (the local
// engine's do, TaskTokenExecution; a token of Step Functions on AWS is
// opaque), one of executionARN. Step Functions has no call that describes
// a token, but a heartbeat answers TaskTimedOut or InvalidToken (or a
// ValidationException for a token of the wrong length) for a token no
// task awaits, so the check costs one SendTaskHeartbeat.
//
// It returns nil for a token that passes; an error wrapping
// ErrTaskTokenRefused for one that fails, whose message must then be
// dropped with no effect and no callback (a forged token, another
// execution's token, the token of a task that closed); and any other
// error when the check could not be made, so that the message is tried
// again later.
func CheckTaskToken(ctx context.Context, h TaskHeartbeater, token, executionARN string) error {
	if arn, ok := TaskTokenExecution(token); ok && arn != executionARN {
		return fmt.Errorf("%w: it belongs to execution %s, not %s", ErrTaskTokenRefused, arn, executionARN)
	}
	err := h.SendTaskHeartbeat(ctx, token)
	var e *Error
	switch {
	case err == nil:
		return nil
	case TaskGone(err) || (errors.As(err, &e) && e.Code == CodeValidation):
		return fmt.Errorf("%w: no task awaits it (%w)", ErrTaskTokenRefused, err)
	}
	return fmt.Errorf("checking the task token: %w", err)
}
