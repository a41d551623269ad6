package telemetry

import (
	"io"
	"log/slog"
	"os"
)

// LogFormat is how a logger encodes records.
type LogFormat string

// Log formats accepted by NewLogger.
const (
	// FormatAuto picks JSON inside AWS Lambda, text on a terminal and JSON
	// everywhere else (pipes, files, log collectors).
	FormatAuto LogFormat = "auto"
	// FormatJSON writes one JSON object per record.
	FormatJSON LogFormat = "json"
	// FormatText writes key=value pairs for humans.
	FormatText LogFormat = "text"
)

// LoggerOptions configures NewLogger. The zero value logs JSON at info level
// to os.Stderr.
type LoggerOptions struct {
	// Level is the minimum level written; nil means slog.LevelInfo. A
	// *slog.LevelVar allows changing it while the process runs.
	Level slog.Leveler
	// Format selects the encoding; "" means FormatAuto.
	Format LogFormat
	// Writer receives the records; nil means os.Stderr.
	Writer io.Writer
	// IsTerminal reports that Writer is an interactive terminal (see
	// IsTerminal). It only matters for FormatAuto.
	IsTerminal bool
	// InLambda reports that the process runs in AWS Lambda (config.Log
	// reads it from AWS_LAMBDA_FUNCTION_NAME). It only matters for
	// FormatAuto and wins over IsTerminal.
	InLambda bool
}

// NewLogger returns a logger that adds the context fields set by
// WithRequestID, WithCorrelationID, WithExecutionID and WithStep to records
// logged with a context (logger.InfoContext(ctx, ...)), and redacts secrets
// as the package documentation describes.
func NewLogger(opts LoggerOptions) *slog.Logger {
	w := opts.Writer
	if w == nil {
		w = os.Stderr
	}
	hopts := &slog.HandlerOptions{
		Level:       opts.Level,
		ReplaceAttr: redactAttr,
	}
	var inner slog.Handler
	switch resolveFormat(opts) {
	case FormatText:
		inner = slog.NewTextHandler(w, hopts)
	default:
		inner = slog.NewJSONHandler(w, hopts)
	}
	return slog.New(newContextHandler(inner))
}

// resolveFormat turns FormatAuto (or an empty or unknown format) into a
// concrete one. Lambda wins over a terminal because CloudWatch parses JSON
// and a Lambda's stdout is never a human.
func resolveFormat(opts LoggerOptions) LogFormat {
	switch opts.Format {
	case FormatJSON, FormatText:
		return opts.Format
	}
	switch {
	case opts.InLambda:
		return FormatJSON
	case opts.IsTerminal:
		return FormatText
	default:
		return FormatJSON
	}
}

// IsTerminal reports whether f is a character device, which for os.Stderr
// and os.Stdout means an interactive terminal. It is a heuristic without
// ioctl calls: /dev/null is a character device too, which only makes a
// discarded log human readable. A nil f or a failed Stat reports false.
func IsTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	return fi.Mode()&os.ModeCharDevice != 0
}
