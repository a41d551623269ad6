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
			return set, fmt.Errorf("Resources.%s: the Makefile's FUNCTIONS list has no folder for it", f.LogicalID)
		}
		bootstrap := filepath.Join(s.p.DataDir, "functions", f.LogicalID, "bootstrap")
		if err := s.p.Builder.Bootstrap(ctx, "./"+strings.TrimPrefix(filepath.ToSlash(f.Folder), "./"), bootstrap); err != nil {
			return set, fmt.Errorf("Resources.%s: building its bootstrap: %w", f.LogicalID, err)
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
			return set, fmt.Errorf("Resources.%s: %w", f.LogicalID, err)
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
			return nil, fmt.Errorf("Resources.%s.Properties.Environment.Variables.%s: %w", f.LogicalID, k, err)
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
	return f.pool.Invoke(ctx, payload)
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
	res, err := f.pool.Invoke(ctx, p.Payload)
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

// functionName reads a function's name and qualifier out of a name, an
// ARN (arn:aws:lambda:region:account:function:name[:qualifier]) or a
// partial ARN (account:function:name[:qualifier]).
func functionName(s string) (name, qualifier string) {
	parts := strings.Split(s, ":")
	for i, p := range parts {
		if p == "function" && i+1 < len(parts) {
			parts = parts[i+1:]
			break
		}
	}
	if len(parts) > 1 {
		return parts[0], parts[1]
	}
	return parts[0], ""
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
