// Package config owns how aiflow's binaries read their settings: from
// environment variables only, into one typed struct per binary or Lambda
// function (Dev, Migrate, Doctor, Engine, Archive, APIFunction, AIStep,
// MCPStep, Recorder, MCPServer, ...), validated up front. It is the one
// place that reads the environment: the packages that build a function or
// a command take these structs, never a lookup.
//
// A Load function reads every variable before it returns, so one run
// reports every problem at once, each with the variable's name and an
// example of a good value. Values of secret variables never appear in
// those messages.
package config

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/aiflow/aiflow/internal/telemetry"
)

// LookupFunc returns the value of an environment variable and whether it
// is set. os.LookupEnv is one; tests use a map.
type LookupFunc func(key string) (string, bool)

// Problem is one invalid or missing variable.
type Problem struct {
	// Var is the environment variable, such as AIFLOW_HTTP_ADDR.
	Var string
	// Problem says what is wrong, quoting the value unless it is secret.
	Problem string
	// Example is a valid value for Var, without the "VAR=" prefix; it may
	// be empty.
	Example string
}

// String formats p as one line of an Error:
// VAR: problem (example: VAR=value).
func (p Problem) String() string {
	if p.Example == "" {
		return p.Var + ": " + p.Problem
	}
	return fmt.Sprintf("%s: %s (example: %s=%s)", p.Var, p.Problem, p.Var, p.Example)
}

// Error lists every configuration problem a Load function found. Load
// functions return it as an error; use errors.As to get the list.
type Error struct {
	// Binary names the program whose configuration failed, such as
	// "aiflow dev".
	Binary string
	// Problems are in the order the variables were read.
	Problems []Problem
}

// Error reports every problem, one per line after a summary line.
func (e *Error) Error() string {
	var b strings.Builder
	noun := "problems"
	if len(e.Problems) == 1 {
		noun = "problem"
	}
	fmt.Fprintf(&b, "%s: %d configuration %s:", e.Binary, len(e.Problems), noun)
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Log is the logging configuration every binary shares, read from
// AIFLOW_LOG_LEVEL (debug, info, warn or error; default info) and
// AIFLOW_LOG_FORMAT (auto, json or text; default auto).
type Log struct {
	Level  slog.Level
	Format telemetry.LogFormat
	// InLambda is whether AWS_LAMBDA_FUNCTION_NAME is set, which AWS Lambda
	// does in every function's environment: FormatAuto then means JSON.
	InLambda bool
}

// LogValue shows the level and format in logs.
func (l Log) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("level", l.Level.String()),
		slog.String("format", string(l.Format)),
	)
}

// LoggerOptions returns the options of telemetry.NewLogger for this
// configuration, writing to w (nil means stderr).
func (l Log) LoggerOptions(w io.Writer) telemetry.LoggerOptions {
	return telemetry.LoggerOptions{Level: l.Level, Format: l.Format, Writer: w, InLambda: l.InLambda}
}

// readLog reads the variables of Log.
func readLog(r *reader) Log {
	level := r.enum("AIFLOW_LOG_LEVEL", "info", "debug", "info", "warn", "error")
	format := r.enum("AIFLOW_LOG_FORMAT", string(telemetry.FormatAuto),
		string(telemetry.FormatAuto), string(telemetry.FormatJSON), string(telemetry.FormatText))
	_, inLambda := r.get("AWS_LAMBDA_FUNCTION_NAME")
	return Log{Level: logLevels[level], Format: telemetry.LogFormat(format), InLambda: inLambda}
}

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

// Defaults shared by several binaries.
const (
	defaultDataDir  = ".aiflow"
	exampleDataDir  = ".aiflow"
	examplePGBinDir = "/usr/lib/postgresql/17/bin"
)

// redactedURL is how a LogValue shows a database URL.
func redactedURL(s string) slog.Value {
	return slog.StringValue(telemetry.RedactURL(s))
}
