package control

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/schema"
	"github.com/aiflow/aiflow/internal/sfn"
)

// MaxInputBytes bounds an execution input, counted compact: Step
// Functions' limit (256 KiB).
const MaxInputBytes = 256 << 10

// MaxIdempotencyKey bounds an idempotency key's length.
const MaxIdempotencyKey = 255

// StartParams is an execution to start.
type StartParams struct {
	// Workflow names the published workflow; its latest version runs.
	Workflow string
	// Input is the execution input; empty or null means {}.
	Input json.RawMessage
	// ReadInputFunc, if set, is called once the workflow is found, and
	// its result is the input: a transport reads its request only for a
	// workflow that exists.
	ReadInputFunc func() (json.RawMessage, error)
	// Principal starts it; idempotency keys are the principal's.
	Principal string
	// IdempotencyKey, if set, names the execution: the same principal's
	// same key with the same request starts it once.
	IdempotencyKey string
}

// Started is the execution Start started, or found started by the same
// idempotency key.
type Started struct {
	Workflow     apistore.Workflow
	ExecutionARN string
	StartDate    time.Time
	// Replayed is true when the idempotency key started the execution
	// before.
	Replayed bool
}

// Start starts an execution of a workflow's latest version. An unknown
// workflow is a CodeNotFound that names it; an input over MaxInputBytes is a
// CodeInputTooLarge, one that does not match the input schema a
// CodeInvalidInput; a malformed key is a CodeInvalidIdempotencyKey, one
// used before with another request a CodeIdempotencyKeyReused. Other
// errors are the store's and the engine's.
func (s *Service) Start(ctx context.Context, p StartParams) (Started, error) {
	wf, v, err := s.opts.Store.LatestVersion(ctx, p.Workflow)
	if errors.Is(err, apistore.ErrNotFound) {
		return Started{}, &Error{Code: CodeNotFound, Detail: fmt.Sprintf("no workflow is named %q: publish it first (POST /v1/workflows)", p.Workflow)}
	}
	if err != nil {
		return Started{}, err
	}
	input := p.Input
	if p.ReadInputFunc != nil {
		if input, err = p.ReadInputFunc(); err != nil {
			return Started{}, err
		}
	}
	if len(input) == 0 || string(input) == "null" {
		input = json.RawMessage("{}")
	}
	// Whitespace is not part of the input: a retry that spaces it
	// otherwise is the same request, to Step Functions too.
	var compact bytes.Buffer
	if err := json.Compact(&compact, input); err == nil {
		input = compact.Bytes()
	}
	if len(input) > MaxInputBytes {
		return Started{}, &Error{Code: CodeInputTooLarge,
			Detail: fmt.Sprintf("the input has %d bytes; at most %d are allowed", len(input), MaxInputBytes),
			Fields: []Field{{Param: ParamInput, Detail: "too large"}}}
	}
	if err := s.checkInput(v, input); err != nil {
		return Started{}, err
	}

	in := sfn.StartExecutionInput{StateMachineARN: startARN(wf, v), Input: string(input)}
	replayed := false
	var earlier string // the execution a replayed key started
	if key := p.IdempotencyKey; key != "" {
		if len(key) > MaxIdempotencyKey || !saneKey(key) {
			return Started{}, &Error{Code: CodeInvalidIdempotencyKey,
				Detail: fmt.Sprintf("an Idempotency-Key is 1 to %d printable characters", MaxIdempotencyKey),
				Fields: []Field{{Param: ParamIdempotencyKey, Detail: "invalid"}}}
		}
		in.Name = idempotentName(p.Principal, key)
		hash := requestHash(wf.Name, input)
		got, created, err := s.opts.Store.ClaimKey(ctx, apistore.IdempotencyKey{Principal: p.Principal, Key: key, RequestHash: hash,
			ExecutionARN: executionARNFor(wf.StateMachineARN, in.Name), CreatedAt: s.opts.NowFunc().UTC()})
		if err != nil {
			return Started{}, err
		}
		if got.RequestHash != hash {
			return Started{}, &Error{Code: CodeIdempotencyKeyReused,
				Detail: "this Idempotency-Key was used with a different request; use a new key for a new request",
				Fields: []Field{{Param: ParamIdempotencyKey, Detail: "reused with another body or workflow"}}}
		}
		replayed, earlier = !created, got.ExecutionARN
	}
	var out sfn.StartExecutionOutput
	if replayed {
		// Step Functions refuses to start a closed execution's name again,
		// even with the same input: a replay returns the execution the key
		// started, and starts it only if the first attempt never did.
		e, err := s.opts.Engine.DescribeExecution(ctx, earlier)
		var ee *sfn.Error
		switch {
		case err == nil:
			out = sfn.StartExecutionOutput{ExecutionARN: e.ExecutionARN, StartDate: e.StartDate}
		case errors.As(err, &ee) && ee.Code == sfn.CodeExecutionDoesNotExist:
		default:
			return Started{}, err
		}
	}
	if out.ExecutionARN == "" {
		if out, err = s.startExecution(ctx, in); err != nil {
			return Started{}, err
		}
	}
	return Started{Workflow: wf, ExecutionARN: out.ExecutionARN, StartDate: out.StartDate, Replayed: replayed}, nil
}

// checkInput validates input against the version's input schema, naming
// each mismatch by its JSON pointer.
func (s *Service) checkInput(v apistore.Version, input json.RawMessage) error {
	if v.InputSchema == "" {
		return nil
	}
	sch, err := s.schemas.Compile(v.Checksum, "input.json", []byte(v.InputSchema))
	var se *schema.Error
	switch {
	case errors.As(err, &se) && se.Compiling:
		return fmt.Errorf("compiling the input schema of %s version %d: %w", v.Workflow, v.Version, se.Err)
	case err != nil:
		return fmt.Errorf("reading the input schema of %s version %d: %w", v.Workflow, v.Version, err)
	}
	mismatches, err := validateInput(sch, input)
	switch {
	case errors.As(err, &se):
		return &Error{Code: CodeInputNotJSON, Detail: "the input is not JSON", Fields: []Field{{Param: ParamInput, Detail: "not JSON"}}}
	case err != nil:
		return fmt.Errorf("validating an input of %s: %w", v.Workflow, err)
	case len(mismatches) == 0:
		return nil
	}
	var fields []Field
	for _, m := range mismatches {
		fields = append(fields, Field{Param: ParamInput, Pointer: m.Pointer, Detail: m.Reason})
	}
	return &Error{Code: CodeInvalidInput,
		Detail: fmt.Sprintf("the input does not match the input schema of %s version %d", v.Workflow, v.Version), Fields: fields}
}

// saneKey accepts printable ASCII.
func saneKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if k[i] < ' ' || k[i] > '~' {
			return false
		}
	}
	return true
}

// idempotentName is the execution name of a principal's key: the same key
// always names the same execution, which Step Functions (and the engine)
// return again when started again with the same input.
func idempotentName(principal, key string) string {
	sum := sha256.Sum256([]byte(principal + "\x00" + key))
	return "idem-" + hex.EncodeToString(sum[:20])
}

// requestHash identifies a start request: its workflow and its (compact)
// input.
func requestHash(workflow string, input json.RawMessage) string {
	sum := sha256.Sum256(append([]byte(workflow+"\x00"), input...))
	return hex.EncodeToString(sum[:])
}

// executionARNFor is the ARN an execution of a state machine gets, as Step
// Functions forms it.
func executionARNFor(stateMachineARN, name string) string {
	return strings.Replace(stateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + name
}
