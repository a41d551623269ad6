package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/lambdaemu"
	"github.com/aiflow/aiflow/internal/pgcluster"
	"github.com/aiflow/aiflow/internal/stack"
)

const stackUsage = "usage: aiflow stack [--dir DIR] [--api-addr HOST:PORT] [--parameter-overrides KEY=VALUE]... [--env-vars FILE] [--max-instances N]"

// stackTokenTTL is how long the admin token `aiflow stack` writes is valid.
const stackTokenTTL = 24 * time.Hour

// cmdStack runs template.yaml on this machine until ctx ends (Ctrl-C,
// SIGTERM): the functions' real bootstraps under the Lambda Runtime
// Interface Emulator, behind the template's queues, state machines, HTTP
// API, EventBridge rules and secrets (see internal/stack). It returns 0
// after a clean stop, 1 when the stack cannot run, 2 for bad usage or
// configuration.
func cmdStack(ctx context.Context, args []string, e env) int {
	cfg, err := config.LoadStack(e.lookup)
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return 2
	}
	fs := flag.NewFlagSet("aiflow stack", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	dir := fs.String("dir", ".", "the folder of template.yaml, the Makefile and the functions (the repository's root)")
	fs.StringVar(&cfg.APIAddr, "api-addr", cfg.APIAddr, "the host:port of the template's HTTP API (AIFLOW_STACK_API_ADDR)")
	fs.IntVar(&cfg.MaxInstances, "max-instances", cfg.MaxInstances, "the most instances of one function at once (AIFLOW_STACK_MAX_INSTANCES)")
	envFile := fs.String("env-vars", "", `a JSON file of environment variables by function logical id ("Parameters" for every function), as sam local invoke --env-vars reads`)
	params := map[string]string{}
	fs.Func("parameter-overrides", "template parameters, KEY=VALUE (repeatable, or several separated by spaces, as sam deploy takes them)", func(s string) error {
		return parseParameterOverrides(s, params)
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "aiflow stack: takes no arguments, got %q\n%s\n", fs.Args(), stackUsage)
		return 2
	}
	if err := checkHostPort(cfg.APIAddr); err != nil {
		fmt.Fprintf(e.stderr, "aiflow stack: --api-addr %q %v (example: --api-addr %s)\n", cfg.APIAddr, err, config.DefaultStackAPIAddr)
		return 2
	}
	if cfg.MaxInstances < 1 || cfg.MaxInstances > 64 {
		fmt.Fprintf(e.stderr, "aiflow stack: --max-instances %d is not from 1 to 64\n", cfg.MaxInstances)
		return 2
	}
	envVars, err := readEnvVars(*envFile)
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow stack: --env-vars: %v\n", err)
		return 2
	}
	root, err := filepath.Abs(*dir)
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow stack: --dir: %v\n", err)
		return 2
	}
	if _, err := os.Stat(filepath.Join(root, "template.yaml")); err != nil {
		fmt.Fprintf(e.stderr, "aiflow stack: no template.yaml in %s: run it at the repository's root or pass --dir\n", root)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(e.stderr, "aiflow stack: %v\n", err)
		return 1
	}
	logger := newLogger(cfg.Log, e)
	dataDir := filepath.Join(cfg.DataDir, "stack")

	databaseURL := cfg.DatabaseURL
	if databaseURL == "" {
		bins, err := pgcluster.FindBinaries(cfg.PGBinDir)
		if err != nil {
			return fail(err)
		}
		cluster, err := pgcluster.Start(ctx, pgcluster.Options{Binaries: bins, Dir: filepath.Join(dataDir, "pg"), Logger: logger})
		if err != nil {
			return fail(err)
		}
		defer func() {
			if err := cluster.Stop(context.WithoutCancel(ctx)); err != nil {
				logger.Error("stopping PostgreSQL", "error", err)
			}
		}()
		databaseURL = cluster.URL("postgres")
		fmt.Fprintf(e.stdout, "PostgreSQL %s ready for the stack (127.0.0.1:%d, data kept in %s)\n", bins.Version, cluster.Port(), cluster.Dir())
	}

	s, err := stack.Start(ctx, stack.Params{
		Dir: root, DataDir: dataDir, DatabaseURL: databaseURL,
		Parameters: params, Env: envVars, MaxInstances: cfg.MaxInstances,
		Builder: &lambdaemu.Builder{ModuleDir: root}, APIAddr: cfg.APIAddr,
		Logger: logger, FunctionLogger: logger, Out: e.stdout, CloseTimeout: cfg.ShutdownTimeout,
	})
	if err != nil {
		return fail(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = s.Close()
		}
	}()
	token, err := s.Token("stack-admin", []string{"admin"}, stackTokenTTL)
	if err != nil {
		return fail(err)
	}
	tokenPath := filepath.Join(dataDir, "token")
	if err := os.WriteFile(tokenPath, []byte(token+"\n"), 0o600); err != nil {
		return fail(fmt.Errorf("writing the token: %w", err))
	}
	printStack(e, s, tokenPath)

	<-ctx.Done()
	fmt.Fprintln(e.stdout, "shutting down")
	stopped = true
	if err := s.Close(); err != nil {
		return fail(err)
	}
	fmt.Fprintln(e.stdout, "aiflow stack stopped")
	return 0
}

// printStack tells where the stack's services are.
func printStack(e env, s *stack.Stack, tokenPath string) {
	ep := s.Endpoints()
	for _, id := range slices.Sorted(maps.Keys(ep.HTTPAPIs)) {
		fmt.Fprintf(e.stdout, "HTTP API %s: %s\n", id, ep.HTTPAPIs[id])
	}
	for _, id := range slices.Sorted(maps.Keys(ep.FunctionURLs)) {
		fmt.Fprintf(e.stdout, "function URL %s: %s\n", id, ep.FunctionURLs[id])
	}
	fmt.Fprintf(e.stdout, "Step Functions: %s\nSQS: %s\nSecrets Manager: %s\nS3: %s\n", ep.StepFunctions, ep.SQS, ep.SecretsManager, ep.S3)
	m := s.Model()
	var notRun []string
	for _, n := range s.NotRunHere() {
		notRun = append(notRun, n.LogicalID)
	}
	fmt.Fprintf(e.stdout, "running %d functions, %d queues, %d state machines, %d rules; not run here: %s\n",
		len(m.Functions), len(m.Queues), len(m.StateMachines), len(m.Rules), strings.Join(notRun, ", "))
	fmt.Fprintf(e.stdout, "admin token (valid %s) in %s: export TOKEN=$(cat %s)\n", stackTokenTTL, tokenPath, tokenPath)
	fmt.Fprintln(e.stdout, "aiflow stack is running template.yaml; press Ctrl-C to stop")
}

// parseParameterOverrides reads KEY=VALUE pairs separated by spaces, or
// sam's ParameterKey=KEY,ParameterValue=VALUE, into params.
func parseParameterOverrides(s string, params map[string]string) error {
	for _, f := range strings.Fields(s) {
		if strings.HasPrefix(f, "ParameterKey=") {
			k, v, ok := strings.Cut(strings.TrimPrefix(f, "ParameterKey="), ",ParameterValue=")
			if !ok || k == "" {
				return fmt.Errorf("%q is not ParameterKey=KEY,ParameterValue=VALUE", f)
			}
			params[k] = v
			continue
		}
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return fmt.Errorf("%q is not KEY=VALUE", f)
		}
		params[k] = v
	}
	return nil
}

// readEnvVars reads a SAM --env-vars file: an object of objects of
// strings.
func readEnvVars(path string) (map[string]map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var vars map[string]map[string]string
	if err := json.Unmarshal(raw, &vars); err != nil {
		return nil, fmt.Errorf("%s is not an object of objects of strings ({\"ApiFunction\": {\"VAR\": \"value\"}}): %w", path, err)
	}
	return vars, nil
}
