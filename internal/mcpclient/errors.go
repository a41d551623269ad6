package mcpclient

import (
	"errors"
	"fmt"
)

// Code is the name of a pool failure, as a workflow's retry and catch
// match it.
type Code string

// The failures of MCP calls.
const (
	// CodeUnavailable: no endpoint of the server could be reached, the
	// session dropped during a call that was not safe to send again, or
	// the server answered UnavailableErrorCode (a dependency of its own,
	// such as its database, is down). Retrying later may succeed.
	CodeUnavailable Code = "MCP.Unavailable"
	// CodeTimeout: the call (or the connection) took longer than its
	// timeout, or the step's deadline came first.
	CodeTimeout Code = "MCP.Timeout"
	// CodeToolError: the tool answered with isError (its text is the
	// cause), or the server answered the call with a JSON-RPC error other
	// than invalid params.
	CodeToolError Code = "MCP.ToolError"
	// CodeInvalidArguments: the arguments hold text the gate refuses or do
	// not fit the tool's input schema (both checked before calling), or
	// the server answered -32602.
	CodeInvalidArguments Code = "MCP.InvalidArguments"
	// CodeCircuitOpen: every endpoint of the server has its circuit open.
	CodeCircuitOpen Code = "MCP.CircuitOpen"
	// CodeToolChanged: the server changed the definition of a pinned tool,
	// or offers a tool not yet approved when approval is required; the
	// tool is disabled until Approve.
	CodeToolChanged Code = "MCP.ToolChanged"
	// CodeUnknownTool: the server (or the configuration) has no such tool
	// or server.
	CodeUnknownTool Code = "MCP.UnknownTool"
	// CodeResultTooLarge: the tool's result is over the server's
	// max_result_bytes.
	CodeResultTooLarge Code = "MCP.ResultTooLarge"
)

// Codes lists every Code, for documentation and the type checker.
var Codes = []Code{
	CodeUnavailable, CodeTimeout, CodeToolError, CodeInvalidArguments,
	CodeCircuitOpen, CodeToolChanged, CodeUnknownTool, CodeResultTooLarge,
}

// Error is a failed MCP call or listing: Code names it, Message says what
// went wrong for a person, and Err is the underlying error, if any.
type Error struct {
	Code    Code
	Server  string
	Tool    string
	Message string
	Err     error
}

// Error returns the code, where, and the message.
func (e *Error) Error() string {
	where := e.Server
	if e.Tool != "" {
		where += "/" + e.Tool
	}
	if where != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, where, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// CodeOf returns the Code of err's *Error, or "" when it has none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func errorf(code Code, server, tool string, err error, format string, args ...any) *Error {
	return &Error{Code: code, Server: server, Tool: tool, Message: fmt.Sprintf(format, args...), Err: err}
}
