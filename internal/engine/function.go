package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aiflow/aiflow/internal/sfn"
)

// FunctionHandler is a Lambda handler run in the engine's process.
type FunctionHandler func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error)

// FunctionError is an error a FunctionHandler returns to fail with a given
// error type, as a Lambda handler's error does: Step Functions names the
// task's error after Type.
type FunctionError struct {
	Type    string
	Message string
}

// Error returns the type and the message.
func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// FunctionRegistry is a FunctionInvoker that runs handlers registered in
// the process by function name and passes every other call to Fallback
// (the Lambda Invoke API at a configured endpoint). A name may be given as
// a bare name, a function ARN or a partial ARN, with or without a
// qualifier; all find the same registration.
type FunctionRegistry struct {
	// Fallback invokes functions that have no handler here; nil makes such
	// calls fail with Lambda.ResourceNotFoundException.
	Fallback sfn.FunctionInvoker

	mu       sync.RWMutex
	handlers map[string]FunctionHandler
}

// Register sets the handler of the function name.
func (r *FunctionRegistry) Register(name string, h FunctionHandler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.handlers == nil {
		r.handlers = map[string]FunctionHandler{}
	}
	r.handlers[FunctionBaseName(name)] = h
}

// FunctionBaseName returns the function name inside a name, ARN or partial
// ARN: "arn:aws:lambda:us-east-1:123456789012:function:Echo:live",
// "123456789012:function:Echo" and "Echo:live" all give "Echo".
func FunctionBaseName(name string) string {
	if i := strings.Index(name, "function:"); i >= 0 {
		name = name[i+len("function:"):]
	}
	if i := strings.IndexByte(name, ':'); i >= 0 {
		name = name[:i]
	}
	return name
}

// ErrFunctionNotFound is what Invoke returns, wrapped, for a function with
// no handler and no Fallback.
var ErrFunctionNotFound = errors.New("function not found")

// Invoke runs the registered handler, or calls Fallback. A handler's
// error becomes a function error ("Unhandled") whose payload holds
// errorType (a *FunctionError's Type, or "Error") and errorMessage, as the
// Lambda runtime reports it.
func (r *FunctionRegistry) Invoke(ctx context.Context, p sfn.InvokeParams) (sfn.InvokeResult, error) {
	r.mu.RLock()
	h := r.handlers[FunctionBaseName(p.FunctionName)]
	r.mu.RUnlock()
	if h == nil {
		if r.Fallback != nil {
			return r.Fallback.Invoke(ctx, p)
		}
		return sfn.InvokeResult{}, fmt.Errorf("invoking %s: %w", p.FunctionName, ErrFunctionNotFound)
	}
	payload := json.RawMessage(p.Payload)
	if len(payload) == 0 {
		payload = json.RawMessage("{}")
	}
	out, err := h(ctx, payload)
	if err != nil {
		typ := "Error"
		var fe *FunctionError
		if errors.As(err, &fe) {
			typ = fe.Type
		}
		body, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": err.Error()})
		if fe != nil {
			body, _ = json.Marshal(map[string]string{"errorType": typ, "errorMessage": fe.Message})
		}
		return sfn.InvokeResult{StatusCode: 200, Payload: body, ExecutedVersion: "$LATEST", FunctionError: "Unhandled"}, nil
	}
	if len(out) == 0 {
		out = json.RawMessage("null")
	}
	return sfn.InvokeResult{StatusCode: 200, Payload: out, ExecutedVersion: "$LATEST"}, nil
}
