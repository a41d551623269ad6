package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// logTo returns a logger writing format to the returned buffer at debug
// level.
func logTo(t *testing.T, format LogFormat) (*slog.Logger, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	return NewLogger(LoggerOptions{Level: slog.LevelDebug, Format: format, Writer: &buf}), &buf
}

// decodeLine decodes the only JSON record in buf.
func decodeLine(t *testing.T, buf *bytes.Buffer) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 1, "output: %s", buf.String())
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &rec), "line: %s", lines[0])
	return rec
}

func ctxWithAllFields() context.Context {
	ctx := WithRequestID(context.Background(), "req-1")
	ctx = WithCorrelationID(ctx, "corr-2")
	ctx = WithExecutionID(ctx, "exec-3")
	return WithStep(ctx, "Summarize")
}

func TestContextGetters(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	require.Empty(t, RequestID(ctx))
	require.Empty(t, CorrelationID(ctx))
	require.Empty(t, ExecutionID(ctx))
	require.Empty(t, Step(ctx))

	ctx = ctxWithAllFields()
	require.Equal(t, "req-1", RequestID(ctx))
	require.Equal(t, "corr-2", CorrelationID(ctx))
	require.Equal(t, "exec-3", ExecutionID(ctx))
	require.Equal(t, "Summarize", Step(ctx))

	// Setting one field keeps the others, and the parent is unchanged.
	child := WithStep(ctx, "Notify")
	require.Equal(t, "Notify", Step(child))
	require.Equal(t, "req-1", RequestID(child))
	require.Equal(t, "Summarize", Step(ctx))

	require.Empty(t, RequestID(WithRequestID(ctx, "")))
}

func TestNewLoggerJSONContextFields(t *testing.T) {
	t.Parallel()

	logger, buf := logTo(t, FormatJSON)
	logger.InfoContext(ctxWithAllFields(), "step started", "attempt", 2)

	rec := decodeLine(t, buf)
	require.Equal(t, "step started", rec["msg"])
	require.Equal(t, "INFO", rec["level"])
	require.Equal(t, "req-1", rec["request_id"])
	require.Equal(t, "corr-2", rec["correlation_id"])
	require.Equal(t, "exec-3", rec["execution_id"])
	require.Equal(t, "Summarize", rec["step"])
	require.InDelta(t, 2, rec["attempt"], 0)
}

func TestNewLoggerContextFieldsOnlyWhenSet(t *testing.T) {
	t.Parallel()

	logger, buf := logTo(t, FormatJSON)
	logger.InfoContext(WithExecutionID(context.Background(), "exec-3"), "hello")

	rec := decodeLine(t, buf)
	require.Equal(t, "exec-3", rec["execution_id"])
	for _, key := range []string{"request_id", "correlation_id", "step"} {
		require.NotContains(t, rec, key)
	}

	buf.Reset()
	logger.Info("no context")
	rec = decodeLine(t, buf)
	require.NotContains(t, rec, "execution_id")
}

func TestNewLoggerText(t *testing.T) {
	t.Parallel()

	logger, buf := logTo(t, FormatText)
	logger.WarnContext(WithRequestID(context.Background(), "req-1"), "slow query", "table", "events")

	line := strings.TrimSpace(buf.String())
	require.NotContains(t, line, "{")
	require.Contains(t, line, "level=WARN")
	require.Contains(t, line, `msg="slow query"`)
	require.Contains(t, line, "table=events")
	require.Contains(t, line, "request_id=req-1")
}

func TestNewLoggerLevel(t *testing.T) {
	t.Parallel()

	var buf bytes.Buffer
	logger := NewLogger(LoggerOptions{Level: slog.LevelWarn, Format: FormatJSON, Writer: &buf})
	logger.Info("dropped")
	require.Empty(t, buf.String())
	logger.Warn("kept")
	require.Contains(t, buf.String(), "kept")
}

func TestNewLoggerWithAttrsAndGroups(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		build func(*slog.Logger) *slog.Logger
		check func(t *testing.T, rec map[string]any)
	}{
		{
			name:  "WithAttrs",
			build: func(l *slog.Logger) *slog.Logger { return l.With("component", "engine") },
			check: func(t *testing.T, rec map[string]any) {
				require.Equal(t, "engine", rec["component"])
				require.Equal(t, "v", rec["k"])
			},
		},
		{
			name:  "WithGroup",
			build: func(l *slog.Logger) *slog.Logger { return l.WithGroup("db") },
			check: func(t *testing.T, rec map[string]any) {
				require.Equal(t, map[string]any{"k": "v"}, rec["db"])
			},
		},
		{
			name: "WithAttrsThenGroupThenAttrs",
			build: func(l *slog.Logger) *slog.Logger {
				return l.With("component", "engine").WithGroup("db").With("pool", "main")
			},
			check: func(t *testing.T, rec map[string]any) {
				require.Equal(t, "engine", rec["component"])
				require.Equal(t, map[string]any{"pool": "main", "k": "v"}, rec["db"])
			},
		},
		{
			name: "NestedGroups",
			build: func(l *slog.Logger) *slog.Logger {
				return l.WithGroup("a").WithGroup("b")
			},
			check: func(t *testing.T, rec map[string]any) {
				require.Equal(t, map[string]any{"b": map[string]any{"k": "v"}}, rec["a"])
			},
		},
		{
			name: "EmptyGroupAndNoAttrs",
			build: func(l *slog.Logger) *slog.Logger {
				return l.WithGroup("").With()
			},
			check: func(t *testing.T, rec map[string]any) {
				require.Equal(t, "v", rec["k"])
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			logger, buf := logTo(t, FormatJSON)
			tt.build(logger).InfoContext(ctxWithAllFields(), "hello", "k", "v")

			rec := decodeLine(t, buf)
			// Context fields stay at the top level, whatever group is open.
			require.Equal(t, "req-1", rec["request_id"])
			require.Equal(t, "corr-2", rec["correlation_id"])
			require.Equal(t, "exec-3", rec["execution_id"])
			require.Equal(t, "Summarize", rec["step"])
			tt.check(t, rec)
		})
	}
}

func TestNewLoggerGroupWithoutContextFields(t *testing.T) {
	t.Parallel()

	logger, buf := logTo(t, FormatJSON)
	logger.WithGroup("db").Info("hello", "k", "v")

	rec := decodeLine(t, buf)
	require.Equal(t, map[string]any{"k": "v"}, rec["db"])
	require.NotContains(t, rec, "request_id")
}

func TestNewLoggerRedactsByKey(t *testing.T) {
	t.Parallel()

	tests := []struct {
		key  string
		want string
	}{
		{key: "password", want: redacted},
		{key: "DB_PASSWORD", want: redacted},
		{key: "passwd", want: redacted},
		{key: "client_secret", want: redacted},
		{key: "accessToken", want: redacted},
		{key: "OPENAI_API_KEY", want: redacted},
		{key: "apikey", want: redacted},
		{key: "Authorization", want: redacted},
		{key: "aws_credentials", want: redacted},
		{key: "private_key", want: redacted},
		{key: "user", want: "hunter2"},
		{key: "key", want: "hunter2"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()

			for _, format := range []LogFormat{FormatJSON, FormatText} {
				logger, buf := logTo(t, format)
				logger.Info("hello", tt.key, "hunter2")
				out := buf.String()
				require.Contains(t, out, tt.want, "format %s", format)
				if tt.want == redacted {
					require.NotContains(t, out, "hunter2", "format %s", format)
				}
			}
		})
	}
}

func TestNewLoggerRedactsInsideSensitiveGroup(t *testing.T) {
	t.Parallel()

	logger, buf := logTo(t, FormatJSON)
	logger.Info("hello", slog.Group("credentials", "user", "alice", "pass", "hunter2"))

	rec := decodeLine(t, buf)
	require.Equal(t, map[string]any{"user": redacted, "pass": redacted}, rec["credentials"])
}

func TestNewLoggerKeepsNumbersUnderSensitiveKeys(t *testing.T) {
	t.Parallel()

	logger, buf := logTo(t, FormatJSON)
	logger.Info("model call", "input_tokens", 1234, "token_refresh", true)

	rec := decodeLine(t, buf)
	require.InDelta(t, 1234, rec["input_tokens"], 0)
	require.Equal(t, true, rec["token_refresh"])
}

func TestNewLoggerRedactsSecretType(t *testing.T) {
	t.Parallel()

	type withSecret struct {
		Name string
		Key  Secret
	}
	for _, format := range []LogFormat{FormatJSON, FormatText} {
		logger, buf := logTo(t, format)
		s := Secret("sk-live-123")
		logger.Info("hello", "value", s, "any", any(s), "struct", withSecret{Name: "n", Key: s})
		out := buf.String()
		require.NotContains(t, out, "sk-live-123", "format %s", format)
		require.Contains(t, out, redacted, "format %s", format)
	}
}

func TestNewLoggerRedactsURLs(t *testing.T) {
	t.Parallel()

	const dsn = "postgres://aiflow:hunter2@db.internal:5432/aiflow?sslmode=require"
	const want = "postgres://aiflow:xxxxx@db.internal:5432/aiflow?sslmode=require"

	logger, buf := logTo(t, FormatJSON)
	logger.Info("connecting to "+dsn,
		"url", dsn,
		"dsn", "host=db.internal password=hunter2 dbname=aiflow",
		"err", errors.New("dialing "+dsn+": connection refused"),
	)

	out := buf.String()
	require.NotContains(t, out, "hunter2")
	rec := decodeLine(t, buf)
	require.Equal(t, "connecting to "+want, rec["msg"])
	require.Equal(t, want, rec["url"])
	require.Equal(t, "host=db.internal password=xxxxx dbname=aiflow", rec["dsn"])
	require.Equal(t, "dialing "+want+": connection refused", rec["err"])
}

func TestNewLoggerFormatSelection(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		opts LoggerOptions
		want LogFormat
	}{
		{name: "AutoInLambda", opts: LoggerOptions{InLambda: true, IsTerminal: true}, want: FormatJSON},
		{name: "AutoTerminal", opts: LoggerOptions{IsTerminal: true}, want: FormatText},
		{name: "AutoPipe", opts: LoggerOptions{}, want: FormatJSON},
		{name: "ExplicitAuto", opts: LoggerOptions{Format: FormatAuto, IsTerminal: true}, want: FormatText},
		{name: "JSONOnTerminal", opts: LoggerOptions{Format: FormatJSON, IsTerminal: true}, want: FormatJSON},
		{name: "TextInLambda", opts: LoggerOptions{Format: FormatText, InLambda: true}, want: FormatText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			require.Equal(t, tt.want, resolveFormat(tt.opts))

			var buf bytes.Buffer
			opts := tt.opts
			opts.Writer = &buf
			NewLogger(opts).Info("hello")
			isJSON := strings.HasPrefix(buf.String(), "{")
			require.Equal(t, tt.want == FormatJSON, isJSON, "output: %s", buf.String())
		})
	}
}

func TestIsTerminal(t *testing.T) {
	t.Parallel()

	require.False(t, IsTerminal(nil))

	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	require.False(t, IsTerminal(f))

	// A closed file cannot be stat'ed.
	closed, err := os.Create(filepath.Join(t.TempDir(), "closed"))
	require.NoError(t, err)
	require.NoError(t, closed.Close())
	require.False(t, IsTerminal(closed))

	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Skipf("opening %s: %v", os.DevNull, err)
	}
	t.Cleanup(func() { _ = devNull.Close() })
	require.True(t, IsTerminal(devNull), "%s is a character device", os.DevNull)
}
