package lambdaemu

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReportBookReadsTheEmulatorsLines(t *testing.T) {
	t.Parallel()
	b := newReportBook()
	w := &lineWriter{log: slog.New(slog.DiscardHandler), stream: "stderr", book: b}
	b.expect("r1")
	b.expect("r2")
	// Lines as the emulator writes them, in pieces.
	for _, chunk := range []string{
		"06 Dec 2026 03:51:55,348 [INFO] (rapid) INIT REPORT(durationMs: 3.34",
		"0000)\n06 Dec 2026 03:51:55,348 [INFO] (rapid) INVOKE START(requestId: r1)\n",
		"REPORT RequestId: r1\tInit Duration: 0.32 ms\tDuration: 4.53 ms\tBilled Duration: 5 ms\tMemory Size: 3008 MB\tMax Memory Used: 3008 MB\t\n",
		"06 Dec 2026 03:51:56,001 [INFO] (rapid) INVOKE START(requestId: r2)\r\n",
		"REPORT RequestId: r2\tDuration: 0.80 ms\tBilled Duration: 1 ms\tMemory Size: 3008 MB\tMax Memory Used: 3008 MB\t",
	} {
		n, err := w.Write([]byte(chunk))
		require.NoError(t, err)
		require.Equal(t, len(chunk), n)
	}
	w.flush()
	ctx := context.Background()
	r1 := b.wait(ctx, "r1")
	require.Equal(t, 3340*time.Microsecond, r1.init, "the runtime's init, not the REPORT's Init Duration")
	require.Equal(t, 4530*time.Microsecond, r1.duration)
	r2 := b.wait(ctx, "r2")
	require.Zero(t, r2.init)
	require.Equal(t, 800*time.Microsecond, r2.duration)

	// An invocation whose lines never come is waited for within ctx.
	b.expect("r3")
	ctx, cancel := context.WithCancel(ctx)
	cancel()
	require.False(t, b.wait(ctx, "r3").reported)
	require.Equal(t, report{}, b.wait(ctx, "unknown"))

	w.Write([]byte("06 Dec 2026 03:51:55,874 [WARNING] (rapid) Process runtime-1 exited: signal: killed\n"))
	require.Equal(t, "Process runtime-1 exited: signal: killed", b.runtimeExit())
}

func TestErrorBody(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]*FunctionError{
		`{"errorMessage":"boom","errorType":"TicketError"}`:                   {Type: "TicketError", Message: "boom"},
		`{"errorMessage":"boom","errorType":"Runtime.Panic","stackTrace":[]}`: {Type: "Runtime.Panic", Message: "boom"},
		`{"errorMessage":"boom","errorType":"TicketError","ticket":42}`:       nil,
		`{"errorType":"TicketError"}`:                                         nil,
		`{"errorType":1,"errorMessage":"boom"}`:                               nil,
		`{"statusCode":200}`:                                                  nil,
		`[1,2]`:                                                               nil,
		`not json`:                                                            nil,
	} {
		got, ok := errorBody([]byte(body))
		require.Equal(t, want != nil, ok, body)
		require.Equal(t, want, got, body)
	}
}
