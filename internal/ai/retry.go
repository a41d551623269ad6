package ai

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// The Retrier's defaults, used when a field is zero.
const (
	DefaultMaxAttempts = 3
	DefaultBaseDelay   = time.Second
	DefaultMaxDelay    = 30 * time.Second
)

// Retrier makes a model call again when it fails with a retryable code
// (AI.Throttled, AI.Unavailable, AI.Timeout), waiting between attempts with
// exponential backoff and full jitter: before attempt n+1 it waits a random
// duration in [0, min(MaxDelay, BaseDelay·2^(n-1))], or the provider's
// Retry-After if that is longer. It never waits past ctx's deadline.
//
// The zero value is usable: zero fields take the defaults above and real
// time. Tests set SleepFunc, RandFunc and NowFunc so no test waits and every
// delay is known.
type Retrier struct {
	// MaxAttempts counts every call, the first included; 1 disables
	// retries.
	MaxAttempts int
	// BaseDelay is the backoff's first ceiling; each retry doubles it.
	BaseDelay time.Duration
	// MaxDelay caps the backoff ceiling (not a Retry-After the provider
	// asked for, which is honoured as long as ctx's deadline allows it).
	MaxDelay time.Duration
	// SleepFunc waits d or until ctx is done, returning ctx's error then;
	// nil means Sleep.
	SleepFunc func(ctx context.Context, d time.Duration) error
	// RandFunc returns a uniform random int64 in [0, n) for the jitter;
	// nil means math/rand/v2's Int64N.
	RandFunc func(n int64) int64
	// NowFunc tells the time, to compare a wait with ctx's deadline; nil
	// means time.Now.
	NowFunc func() time.Time
	// OnRetryFunc, if set, is called before each wait with what failed
	// and how long the Retrier will wait, so a step can record attempts.
	OnRetryFunc func(RetryEvent)
}

// RetryEvent describes a failed attempt that the Retrier is about to
// retry.
type RetryEvent struct {
	// Attempt is the number of the attempt that failed, from 1.
	Attempt int
	// Err is its error.
	Err *Error
	// Delay is the wait before the next attempt.
	Delay time.Duration
}

// RetryResult is what DoResult returns besides the error.
type RetryResult struct {
	Response Response
	// Attempts is how many calls were made, the last included.
	Attempts int
}

// Do calls call until it succeeds, fails with a code that is not
// retryable, MaxAttempts calls were made, or ctx ends; see DoResult.
func (r Retrier) Do(ctx context.Context, call func(context.Context) (Response, error)) (Response, error) {
	res, err := r.DoResult(ctx, call)
	return res.Response, err
}

// DoResult is Do that also reports how many attempts were made. Its error
// is always an *Error: the last attempt's (an error that is not an *Error
// gets the code CodeOf gives it), or AI.Timeout wrapping the last error when
// ctx's deadline passed during a call or a wait. When the next wait would
// end after ctx's deadline, DoResult does not wait and returns the last
// error as it is, so its code (AI.Throttled, say) still tells a workflow's
// retry what went wrong. A cancelled ctx ends it with an error that
// errors.Is matches with context.Canceled.
func (r Retrier) DoResult(ctx context.Context, call func(context.Context) (Response, error)) (RetryResult, error) {
	maxAttempts := r.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	for attempt := 1; ; attempt++ {
		resp, err := call(ctx)
		if err == nil {
			return RetryResult{Response: resp, Attempts: attempt}, nil
		}
		last := asError(err)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return RetryResult{Response: resp, Attempts: attempt}, contextError(ctxErr, last, attempt)
		}
		if !last.Code.Retryable() || attempt >= maxAttempts {
			return RetryResult{Response: resp, Attempts: attempt}, last
		}
		delay := max(r.backoff(attempt), last.RetryAfter)
		if deadline, ok := ctx.Deadline(); ok && !r.now().Add(delay).Before(deadline) {
			return RetryResult{Response: resp, Attempts: attempt}, last
		}
		if r.OnRetryFunc != nil {
			r.OnRetryFunc(RetryEvent{Attempt: attempt, Err: last, Delay: delay})
		}
		if err := r.sleep(ctx, delay); err != nil {
			return RetryResult{Response: resp, Attempts: attempt}, contextError(err, last, attempt)
		}
	}
}

// backoff is the full-jitter wait after the given failed attempt.
func (r Retrier) backoff(attempt int) time.Duration {
	base, ceiling := r.BaseDelay, r.MaxDelay
	if base <= 0 {
		base = DefaultBaseDelay
	}
	if ceiling <= 0 {
		ceiling = DefaultMaxDelay
	}
	limit := base
	for i := 1; i < attempt && limit < ceiling; i++ {
		limit *= 2
	}
	limit = min(limit, ceiling)
	randFunc := r.RandFunc
	if randFunc == nil {
		randFunc = rand.Int64N
	}
	return time.Duration(randFunc(int64(limit) + 1))
}

func (r Retrier) sleep(ctx context.Context, d time.Duration) error {
	if r.SleepFunc != nil {
		return r.SleepFunc(ctx, d)
	}
	return Sleep(ctx, d)
}

func (r Retrier) now() time.Time {
	if r.NowFunc != nil {
		return r.NowFunc()
	}
	return time.Now()
}

// Sleep waits d, or until ctx is done and then returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// asError returns err as an *Error, giving a foreign error the code CodeOf
// finds for it.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeOf(err), Message: err.Error(), Err: err}
}

// contextError is the error for a ctx that ended after attempt attempts:
// AI.Timeout for a deadline, the last error joined with context.Canceled
// for a cancellation.
func contextError(ctxErr error, last *Error, attempts int) *Error {
	if errors.Is(ctxErr, context.DeadlineExceeded) {
		if last.Code == CodeTimeout {
			return last
		}
		return &Error{
			Code:     CodeTimeout,
			Provider: last.Provider,
			Message:  fmt.Sprintf("deadline exceeded after %d attempts; last error: %s", attempts, last.Message),
			Err:      errors.Join(ctxErr, last),
		}
	}
	return &Error{
		Code:       last.Code,
		Provider:   last.Provider,
		Message:    fmt.Sprintf("cancelled after %d attempts; last error: %s", attempts, last.Message),
		StatusCode: last.StatusCode,
		Err:        errors.Join(ctxErr, last),
	}
}
