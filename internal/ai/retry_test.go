package ai_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
)

// retryBundle is a Retrier whose sleeps only advance a fake clock and
// whose jitter always picks the top of the range, so delays are known.
type retryBundle struct {
	retrier ai.Retrier
	now     time.Time
	slept   []time.Duration
	events  []ai.RetryEvent
	randArg []int64
}

func setupRetry(t *testing.T) *retryBundle {
	t.Helper()
	// The fake clock is far ahead of the real one, so a context deadline
	// set from it has not passed for real.
	b := &retryBundle{now: time.Date(2100, 1, 2, 3, 4, 5, 0, time.UTC)}
	b.retrier = ai.Retrier{
		MaxAttempts: 4,
		BaseDelay:   time.Second,
		MaxDelay:    3 * time.Second,
		SleepFunc: func(ctx context.Context, d time.Duration) error {
			b.slept = append(b.slept, d)
			b.now = b.now.Add(d)
			return ctx.Err()
		},
		RandFunc: func(n int64) int64 {
			b.randArg = append(b.randArg, n)
			return n - 1
		},
		NowFunc:     func() time.Time { return b.now },
		OnRetryFunc: func(ev ai.RetryEvent) { b.events = append(b.events, ev) },
	}
	return b
}

// failing returns a call that fails with errs in turn and then answers.
func failing(errs ...error) (func(context.Context) (ai.Response, error), *int) {
	calls := 0
	return func(context.Context) (ai.Response, error) {
		calls++
		if calls <= len(errs) {
			return ai.Response{}, errs[calls-1]
		}
		return ai.Response{Text: "ok", StopReason: ai.StopEndTurn}, nil
	}, &calls
}

func TestRetrierBacksOffWithFullJitterUpToMaxDelay(t *testing.T) {
	t.Parallel()
	b := setupRetry(t)
	call, calls := failing(ai.Errorf(ai.CodeThrottled, "slow down"), ai.Errorf(ai.CodeUnavailable, "down"), ai.Errorf(ai.CodeTimeout, "late"))

	res, err := b.retrier.DoResult(context.Background(), call)
	require.NoError(t, err)
	require.Equal(t, "ok", res.Response.Text)
	require.Equal(t, 4, res.Attempts)
	require.Equal(t, 4, *calls)
	// Ceilings 1s, 2s, then 4s capped at 3s; RandFunc gets ceiling+1 so
	// the ceiling itself can be drawn.
	require.Equal(t, []int64{int64(time.Second) + 1, int64(2*time.Second) + 1, int64(3*time.Second) + 1}, b.randArg)
	require.Equal(t, []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}, b.slept)
	require.Len(t, b.events, 3)
	require.Equal(t, 1, b.events[0].Attempt)
	require.Equal(t, ai.CodeThrottled, b.events[0].Err.Code)
	require.Equal(t, time.Second, b.events[0].Delay)
	require.Equal(t, 3, b.events[2].Attempt)
}

func TestRetrierJitterCanPickZero(t *testing.T) {
	t.Parallel()
	b := setupRetry(t)
	b.retrier.RandFunc = func(int64) int64 { return 0 }
	call, _ := failing(ai.Errorf(ai.CodeThrottled, "slow down"))

	_, err := b.retrier.Do(context.Background(), call)
	require.NoError(t, err)
	require.Equal(t, []time.Duration{0}, b.slept)
}

func TestRetrierStopsAtMaxAttempts(t *testing.T) {
	t.Parallel()
	b := setupRetry(t)
	b.retrier.MaxAttempts = 2
	call, calls := failing(ai.Errorf(ai.CodeUnavailable, "one"), ai.Errorf(ai.CodeUnavailable, "two"), ai.Errorf(ai.CodeUnavailable, "three"))

	res, err := b.retrier.DoResult(context.Background(), call)
	var aerr *ai.Error
	require.ErrorAs(t, err, &aerr)
	require.Equal(t, ai.CodeUnavailable, aerr.Code)
	require.Equal(t, "two", aerr.Message)
	require.Equal(t, 2, res.Attempts)
	require.Equal(t, 2, *calls)
	require.Len(t, b.slept, 1)
}

func TestRetrierDoesNotRetryOtherCodes(t *testing.T) {
	t.Parallel()
	for _, code := range []ai.Code{ai.CodeInvalidRequest, ai.CodeAuth, ai.CodeContentFiltered, ai.CodeOutputInvalid, ai.CodeBudgetExceeded} {
		t.Run(string(code), func(t *testing.T) {
			t.Parallel()
			b := setupRetry(t)
			call, calls := failing(ai.Errorf(code, "no"))
			res, err := b.retrier.DoResult(context.Background(), call)
			var aerr *ai.Error
			require.ErrorAs(t, err, &aerr)
			require.Equal(t, code, aerr.Code)
			require.Equal(t, 1, res.Attempts)
			require.Equal(t, 1, *calls)
			require.Empty(t, b.slept)
			require.Empty(t, b.events)
		})
	}
}

func TestRetrierHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	b := setupRetry(t)
	throttled := &ai.Error{Code: ai.CodeThrottled, Message: "rate limited", RetryAfter: 20 * time.Second}
	call, _ := failing(throttled)

	_, err := b.retrier.Do(context.Background(), call)
	require.NoError(t, err)
	// Retry-After is longer than the backoff (and MaxDelay), so it wins.
	require.Equal(t, []time.Duration{20 * time.Second}, b.slept)
}

func TestRetrierRetryAfterShorterThanBackoff(t *testing.T) {
	t.Parallel()
	b := setupRetry(t)
	throttled := &ai.Error{Code: ai.CodeThrottled, Message: "rate limited", RetryAfter: 10 * time.Millisecond}
	call, _ := failing(throttled)

	_, err := b.retrier.Do(context.Background(), call)
	require.NoError(t, err)
	require.Equal(t, []time.Duration{time.Second}, b.slept)
}

func TestRetrierNeverSleepsPastTheDeadline(t *testing.T) {
	t.Parallel()
	b := setupRetry(t)
	ctx, cancel := context.WithDeadline(context.Background(), b.now.Add(5*time.Second))
	defer cancel()
	throttled := &ai.Error{Code: ai.CodeThrottled, Message: "rate limited", RetryAfter: 30 * time.Second}
	call, calls := failing(throttled)

	res, err := b.retrier.DoResult(ctx, call)
	require.Same(t, throttled, err, "the last error comes back as it is")
	require.Equal(t, 1, res.Attempts)
	require.Equal(t, 1, *calls)
	require.Empty(t, b.slept)
}

func TestRetrierDeadlineDuringWaitIsTimeout(t *testing.T) {
	t.Parallel()
	b := setupRetry(t)
	ctx, cancel := context.WithDeadline(context.Background(), b.now.Add(time.Hour))
	defer cancel()
	calls := 0
	call := func(context.Context) (ai.Response, error) {
		calls++
		return ai.Response{}, &ai.Error{Code: ai.CodeUnavailable, Provider: "openai", Message: "connection reset"}
	}
	// The deadline passes while the first wait runs.
	b.retrier.SleepFunc = func(context.Context, time.Duration) error { return context.DeadlineExceeded }

	res, err := b.retrier.DoResult(ctx, call)
	var aerr *ai.Error
	require.ErrorAs(t, err, &aerr)
	require.Equal(t, ai.CodeTimeout, aerr.Code)
	require.Equal(t, "openai", aerr.Provider)
	require.Contains(t, aerr.Message, "connection reset")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Equal(t, 1, res.Attempts)
	require.Equal(t, 1, calls)
}

func TestRetrierExpiredContextAfterCall(t *testing.T) {
	t.Parallel()
	b := setupRetry(t)
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	call, calls := failing(fmt.Errorf("reading body: %w", io.ErrUnexpectedEOF))

	_, err := b.retrier.Do(ctx, call)
	var aerr *ai.Error
	require.ErrorAs(t, err, &aerr)
	require.Equal(t, ai.CodeTimeout, aerr.Code)
	require.Equal(t, 1, *calls)
	require.Empty(t, b.slept)
}

func TestRetrierCancelled(t *testing.T) {
	t.Parallel()
	b := setupRetry(t)
	ctx, cancel := context.WithCancel(context.Background())
	call := func(context.Context) (ai.Response, error) {
		cancel()
		return ai.Response{}, ai.Errorf(ai.CodeThrottled, "slow down")
	}

	_, err := b.retrier.Do(ctx, call)
	require.ErrorIs(t, err, context.Canceled)
	var aerr *ai.Error
	require.ErrorAs(t, err, &aerr)
	require.Empty(t, b.slept)
}

func TestRetrierForeignErrorsGetACode(t *testing.T) {
	t.Parallel()
	b := setupRetry(t)
	b.retrier.MaxAttempts = 1
	boom := errors.New("boom")
	call, _ := failing(boom)

	_, err := b.retrier.Do(context.Background(), call)
	var aerr *ai.Error
	require.ErrorAs(t, err, &aerr)
	require.Equal(t, ai.CodeUnavailable, aerr.Code)
	require.ErrorIs(t, err, boom)
}

func TestRetrierZeroValueUsesDefaults(t *testing.T) {
	t.Parallel()
	var r ai.Retrier
	call, calls := failing()
	res, err := r.DoResult(context.Background(), call)
	require.NoError(t, err)
	require.Equal(t, 1, res.Attempts)
	require.Equal(t, 1, *calls)
}

func TestSleepStopsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, ai.Sleep(ctx, time.Hour), context.Canceled)
	require.NoError(t, ai.Sleep(context.Background(), 0))
}

func BenchmarkRetrierSuccess(b *testing.B) {
	b.ReportAllocs()
	r := ai.Retrier{}
	call := func(context.Context) (ai.Response, error) { return ai.Response{Text: "ok"}, nil }
	ctx := context.Background()
	for b.Loop() {
		if _, err := r.Do(ctx, call); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleRetrier() {
	calls := 0
	call := func(context.Context) (ai.Response, error) {
		calls++
		if calls < 3 {
			return ai.Response{}, &ai.Error{Code: ai.CodeThrottled, Provider: "openai", Message: "rate limited", RetryAfter: 2 * time.Second}
		}
		return ai.Response{Text: "done", StopReason: ai.StopEndTurn}, nil
	}
	r := ai.Retrier{
		MaxAttempts: 5,
		// A real step leaves these nil (real time and randomness).
		SleepFunc: func(context.Context, time.Duration) error { return nil },
		RandFunc:  func(n int64) int64 { return n / 2 },
		OnRetryFunc: func(ev ai.RetryEvent) {
			fmt.Printf("attempt %d failed with %s, waiting %s\n", ev.Attempt, ev.Err.Code, ev.Delay)
		},
	}
	res, err := r.DoResult(context.Background(), call)
	fmt.Println(res.Response.Text, res.Attempts, err)
	// Output:
	// attempt 1 failed with AI.Throttled, waiting 2s
	// attempt 2 failed with AI.Throttled, waiting 2s
	// done 3 <nil>
}
