package stack

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/lambdaemu"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/stackmodel"
)

// functionSet is the stack's functions, each a pool of emulated instances.
// It is the engine's FunctionInvoker, and the invoker of the event source
// mappings, the HTTP fronts and the event bus.
type functionSet struct {
	byID   map[string]*function // logical id
	byName map[string]*function // function name
}

type function struct {
	model stackmodel.Function
	pool  *lambdaemu.Pool

	mu    sync.Mutex
	stats FunctionStats
}

// FunctionStats are what a function's instances did since the stack
// started.
type FunctionStats struct {
	LogicalID string
	// Invocations counts the invocations the function answered (an error
	// of the function included); Failures those that got no answer (an
	// instance that died, a start that failed).
	Invocations, Failures int
	// ColdStarts counts the instances initialised; InitDuration is the
	// runtime's initialisation of the latest one, as the emulator reports
	// it (the Lambda REPORT line's Init Duration).
	ColdStarts   int
	InitDuration time.Duration
}

// call invokes the function and counts what happened.
func (f *function) call(ctx context.Context, payload []byte) (*lambdaemu.Result, error) {
	res, err := f.pool.Invoke(ctx, payload)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		f.stats.Failures++
		return nil, err
	}
	f.stats.Invocations++
	if res.InitDuration > 0 {
		f.stats.ColdStarts++
		f.stats.InitDuration = res.InitDuration
	}
	return res, nil
}

// FunctionStats returns what each function did, by logical id.
func (s *Stack) FunctionStats() []FunctionStats {
	var out []FunctionStats
	for _, id := range slices.Sorted(maps.Keys(s.functions.byID)) {
		f := s.functions.byID[id]
		f.mu.Lock()
		st := f.stats
		f.mu.Unlock()
		st.LogicalID = id
		out = append(out, st)
	}
	return out
}

// startFunctions builds every function's bootstrap for this machine and
// makes its pool, with the template's environment resolved (dynamic
// references read from the stack's secrets) and the endpoints of the
// stack's services. Instances start on their first invocation, as Lambda
// starts them.
func (s *Stack) startFunctions(ctx context.Context) (*functionSet, error) {
	emulator, err := s.p.Builder.Emulator(ctx)
	if err != nil {
		return nil, fmt.Errorf("building the Lambda Runtime Interface Emulator: %w", err)
	}
	set := &functionSet{byID: map[string]*function{}, byName: map[string]*function{}}
	for _, f := range s.model.Functions {
		if f.Folder == "" {
			return set, resourceErr(f.LogicalID, "", "the Makefile's FUNCTIONS list has no folder for it")
		}
		bootstrap := filepath.Join(s.p.DataDir, "functions", f.LogicalID, "bootstrap")
		if err := s.p.Builder.Bootstrap(ctx, "./"+strings.TrimPrefix(filepath.ToSlash(f.Folder), "./"), bootstrap); err != nil {
			return set, resourceErr(f.LogicalID, "", "building its bootstrap: %w", err)
		}
		env, err := s.functionEnv(ctx, f)
		if err != nil {
			return set, err
		}
		pool, err := lambdaemu.NewPool(lambdaemu.Params{
			Name: f.Name, Emulator: emulator, Bootstrap: bootstrap, Env: env,
			Timeout: f.Timeout, MemoryMB: f.MemoryMB, Region: s.p.Region,
			Logger: s.p.FunctionLogger.With("function", f.LogicalID),
		}, s.instances(f))
		if err != nil {
			return set, resourceErr(f.LogicalID, "", "%w", err)
		}
		fn := &function{model: f, pool: pool}
		set.byID[f.LogicalID], set.byName[f.Name] = fn, fn
	}
	return set, nil
}

// instances is how many instances of f may run at once: its reserved
// concurrency, or the most its event sources run at once, within
// Params.MaxInstances.
func (s *Stack) instances(f stackmodel.Function) int {
	n := s.p.MaxInstances
	if f.ReservedConcurrency > 0 && f.ReservedConcurrency < n {
		n = f.ReservedConcurrency
	}
	return n
}

// endpointVariables point the functions' AWS SDK clients at the stack.
func (s *Stack) endpointVariables() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_SFN":             s.endpoints.StepFunctions,
		"AWS_ENDPOINT_URL_SQS":             s.endpoints.SQS,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": s.endpoints.SecretsManager,
		"AWS_ENDPOINT_URL_S3":              s.endpoints.S3,
	}
}

// functionEnv is f's environment: the template's variables with their
// dynamic references resolved, the stack's endpoints, then Params.Env's
// variables for every function and for f.
func (s *Stack) functionEnv(ctx context.Context, f stackmodel.Function) (map[string]string, error) {
	env := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(f.Environment)) {
		v, err := s.resolveDynamic(ctx, f.Environment[k])
		if err != nil {
			return nil, resourceErr(f.LogicalID, "Properties.Environment.Variables."+k, "%w", err)
		}
		env[k] = v
	}
	maps.Copy(env, s.endpointVariables())
	maps.Copy(env, s.p.Env["Parameters"])
	maps.Copy(env, s.p.Env[f.LogicalID])
	return env, nil
}

// invoke runs one invocation of the function with that logical id.
func (fs *functionSet) invoke(ctx context.Context, id string, payload []byte) (*lambdaemu.Result, error) {
	f, ok := fs.byID[id]
	if !ok {
		return nil, fmt.Errorf("the stack has no function %s", id)
	}
	return f.call(ctx, payload)
}

// Invoke is the engine's lambda:invoke: the function is named by its name,
// its ARN or a partial ARN, with an optional qualifier ($LATEST is the only
// version here).
func (fs *functionSet) Invoke(ctx context.Context, p sfn.InvokeParams) (sfn.InvokeResult, error) {
	name, qualifier := functionName(p.FunctionName)
	f, ok := fs.byName[name]
	if !ok || (qualifier != "" && qualifier != "$LATEST") {
		return sfn.InvokeResult{}, &sfn.Error{Code: "Lambda.ResourceNotFoundException",
			Message: fmt.Sprintf("Function not found: %s", p.FunctionName)}
	}
	res, err := f.call(ctx, p.Payload)
	if err != nil {
		if errors.Is(err, lambdaemu.ErrDead) {
			return sfn.InvokeResult{}, &sfn.Error{Code: "Lambda.ServiceException", Message: err.Error()}
		}
		return sfn.InvokeResult{}, err
	}
	out := sfn.InvokeResult{StatusCode: 200, Payload: res.Payload, ExecutedVersion: "$LATEST"}
	if res.FunctionError != nil {
		out.FunctionError = "Unhandled"
	}
	return out, nil
}

// functionName reads a function's name (as the engine reads it) and
// qualifier out of a name, an ARN or a partial ARN.
func functionName(s string) (name, qualifier string) {
	name = engine.FunctionBaseName(s)
	if i := strings.LastIndex(s, name+":"); i >= 0 {
		qualifier = s[i+len(name)+1:]
	}
	return name, qualifier
}

// close stops every instance of every function.
func (fs *functionSet) close() error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, f := range fs.byID {
		wg.Go(func() {
			if err := f.pool.Close(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("stopping %s: %w", f.model.LogicalID, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
