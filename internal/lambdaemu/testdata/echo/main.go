// Command echo is the test function of package lambdaemu: it echoes its
// payload, fails on demand with a typed error, sleeps on demand (saying so
// on stdout first), reads environment variables, and exits at
// initialisation when ECHO_EXIT_AT_INIT is set.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

// request is what a test sends.
type request struct {
	Echo    json.RawMessage `json:"echo,omitempty"`
	Fail    string          `json:"fail,omitempty"`
	SleepMS int             `json:"sleepMs,omitempty"`
	Tag     string          `json:"tag,omitempty"`
	Env     []string        `json:"env,omitempty"`
}

// response is what the function answers.
type response struct {
	Echo      json.RawMessage    `json:"echo,omitempty"`
	Env       map[string]*string `json:"env,omitempty"`
	PID       int                `json:"pid"`
	StartedNS int64              `json:"startedNs"`
	EndedNS   int64              `json:"endedNs"`
}

// TicketError is the typed error a failing invocation returns: its type
// name is the errorType the runtime reports.
type TicketError struct{ Message string }

func (e *TicketError) Error() string { return e.Message }

func handle(_ context.Context, req request) (response, error) {
	resp := response{Echo: req.Echo, PID: os.Getpid(), StartedNS: time.Now().UnixNano()}
	if req.SleepMS > 0 {
		// It sleeps past its deadline, as a function stuck in a call
		// would: the emulator's timeout is what ends it.
		fmt.Printf("sleeping %s\n", req.Tag)
		time.Sleep(time.Duration(req.SleepMS) * time.Millisecond)
	}
	if req.Fail != "" {
		return response{}, &TicketError{Message: req.Fail}
	}
	if len(req.Env) > 0 {
		resp.Env = map[string]*string{}
		for _, k := range req.Env {
			if v, ok := os.LookupEnv(k); ok {
				resp.Env[k] = &v
			} else {
				resp.Env[k] = nil
			}
		}
	}
	resp.EndedNS = time.Now().UnixNano()
	return resp, nil
}

func main() {
	if os.Getenv("ECHO_EXIT_AT_INIT") != "" {
		fmt.Fprintln(os.Stderr, "echo: exiting at initialisation, as ECHO_EXIT_AT_INIT asks")
		os.Exit(2)
	}
	lambda.Start(handle)
}
