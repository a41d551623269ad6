package engine

import "github.com/aiflow/aiflow/internal/asl"

// A state's input and output processing (asl.ProcessInput, ProcessOutput)
// takes its environment as an interface and the intrinsic functions as a
// func value: passing an asl.Env boxes it, and x.intrinsic binds a method
// value, an allocation each, twice per state. envArg and intrinsics give
// the two without allocating for the states most executions run: no
// Context Object and no variables, and one func value per execution.

// noEnv is the environment of a state without a Context Object (the nil
// map contextObject gives) and without variables, boxed once.
var noEnv any = asl.Env{Context: map[string]any(nil)}

// envArg returns env as the interface the asl functions take.
func envArg(env asl.Env) any {
	if c, ok := env.Context.(map[string]any); ok && c == nil && env.Vars == nil {
		return noEnv
	}
	return env
}

// intrinsics returns x.intrinsic as a func value, made once per execution;
// x.mu is held.
func (x *execution) intrinsics() func(expr string, input, context any) (any, error) {
	if x.intrinsicFunc == nil {
		x.intrinsicFunc = x.intrinsic
	}
	return x.intrinsicFunc
}
