// Package lambdaemu runs a Lambda function's real bootstrap under the AWS
// Lambda Runtime Interface Emulator, and invokes it: the piece of `aiflow
// stack` that stands in for the Lambda service, one Instance for each
// execution environment of a function.
//
// A Builder builds the emulator (the Go module
// github.com/aws/aws-lambda-runtime-interface-emulator, pinned in go.mod
// as a tool) once into a cache directory keyed by its module version, and
// builds a function's bootstrap for this machine with the flags of `make
// build` (BuildFlags, CGO_ENABLED=0).
//
// Start runs the emulator on 127.0.0.1 with two free ports (its invocation
// endpoint and the Runtime API it serves the bootstrap), the bootstrap as
// its entry point, and the function's environment (Params.Env, plus the
// variables Lambda sets: region, function name, memory size, handler,
// timeout). It waits until the emulator accepts invocations. The emulator
// starts the bootstrap on the first invocation, as Lambda does (an
// on-demand cold start), and restarts it on the invocation after a
// timeout.
//
// A Pool runs up to N instances of one function (its concurrency): an
// invocation takes an idle instance or starts one, and a dead instance is
// dropped.
//
// What the emulator does, learned from its source and pinned by this
// package's tests:
//
//   - It serves one invocation at a time, and a second one arriving while
//     one runs makes it panic and exit. Instance.Invoke therefore
//     serializes the invocations of an instance; run more instances for
//     concurrency.
//   - A function error comes back with status 200 and the runtime's error
//     body ({"errorType", "errorMessage"}): the emulator drops Lambda's
//     X-Amz-Function-Error header, so the body's shape is the only signal,
//     and a function whose result is an object of exactly those fields
//     reads as an error. Result.FunctionError holds it.
//   - A timeout comes back with status 200 and the text "Task timed out
//     after N.00 seconds", which Result.FunctionError reports as
//     Sandbox.Timedout; the emulator kills the runtime and initialises a
//     new one on the next invocation.
//   - A runtime that exits or is killed during an invocation comes back as
//     status 502 with errorType Runtime.ExitError (at initialisation, 502
//     with no body). Invoke returns an error
//     wrapping ErrDead, and the instance is stopped: a caller (the stack's
//     queue) retries the message on another instance, as Lambda retries on
//     a new execution environment.
//   - Its REPORT line's "Init Duration" times only the emulator handing
//     the init to its runtime supervisor (well under a millisecond); the
//     runtime's real initialisation, from exec to its first request for
//     work, is its "INIT REPORT(durationMs: ...)" log line.
//     Result.InitDuration is that one, on the invocation that paid it.
//
// The emulator runs on Linux only (it says so itself); Start refuses
// other systems.
package lambdaemu
