package lambdaemu_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/lambdaemu"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

// The emulator and the test function are built once for the test binary.
var (
	builder   = &lambdaemu.Builder{ModuleDir: "../.."}
	emulator  string
	echo      string
	buildErr  error
	buildsDir string
)

func TestMain(m *testing.M) {
	if runtime.GOOS != "linux" {
		fmt.Println("lambdaemu: the emulator runs on Linux only; skipping")
		os.Exit(0)
	}
	var err error
	buildsDir, err = os.MkdirTemp("", "lambdaemu-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx := context.Background()
	emulator, buildErr = builder.Emulator(ctx)
	if buildErr == nil {
		echo = filepath.Join(buildsDir, "echo", "bootstrap")
		buildErr = builder.Bootstrap(ctx, "./internal/lambdaemu/testdata/echo", echo)
	}
	// Benchmarks of functions that read a database at their start get one
	// (BenchmarkColdStart); tests that need none start no cluster.
	code := pgclustertest.Run(m)
	_ = os.RemoveAll(buildsDir)
	os.Exit(code)
}

// lines is a slog handler that keeps the messages (the output lines) it is
// given, and lets a test wait for one.
type lines struct {
	mu  sync.Mutex
	all []string
}

func (l *lines) Enabled(context.Context, slog.Level) bool { return true }
func (l *lines) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *lines) WithGroup(string) slog.Handler            { return l }
func (l *lines) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, r.Message)
	return nil
}

// has reports whether a line holds s.
func (l *lines) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.all {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

// testBundle is a started instance of the test function and its output.
type testBundle struct {
	inst  *lambdaemu.Instance
	lines *lines
}

// setup starts the test function with p's settings (Name, Emulator and
// Bootstrap are filled in when empty) and closes it when the test ends.
func setup(t *testing.T, p lambdaemu.Params) *testBundle {
	t.Helper()
	require.NoError(t, buildErr)
	if p.Name == "" {
		p.Name = "echo"
	}
	if p.Emulator == "" {
		p.Emulator = emulator
	}
	if p.Bootstrap == "" {
		p.Bootstrap = echo
	}
	l := &lines{}
	p.Logger = slog.New(l)
	inst, err := lambdaemu.Start(context.Background(), p)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, inst.Close()) })
	return &testBundle{inst: inst, lines: l}
}

// echoResponse is the test function's response.
type echoResponse struct {
	Echo      json.RawMessage    `json:"echo"`
	Env       map[string]*string `json:"env"`
	PID       int                `json:"pid"`
	StartedNS int64              `json:"startedNs"`
	EndedNS   int64              `json:"endedNs"`
}

// invoke invokes the instance with req and requires a result.
func (b *testBundle) invoke(t *testing.T, req any) *lambdaemu.Result {
	t.Helper()
	payload, err := json.Marshal(req)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := b.inst.Invoke(ctx, payload)
	require.NoError(t, err)
	return res
}

// decode reads a successful result's response.
func decode(t *testing.T, res *lambdaemu.Result) echoResponse {
	t.Helper()
	require.Nil(t, res.FunctionError, string(res.Payload))
	var out echoResponse
	require.NoError(t, json.Unmarshal(res.Payload, &out), string(res.Payload))
	return out
}

// gone reports whether no process pid runs (or only its zombie is left).
func gone(pid int) bool {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && strings.HasPrefix(s[i+1:], " Z")
}

func TestInvokeEchoesAndReportsTheColdStart(t *testing.T) {
	t.Parallel()
	b := setup(t, lambdaemu.Params{})
	require.True(t, b.inst.Alive())
	require.Zero(t, b.inst.BootstrapPID(), "the bootstrap starts on the first invocation")

	first := b.invoke(t, map[string]any{"echo": map[string]any{"ticket": 42}})
	out := decode(t, first)
	require.JSONEq(t, `{"ticket":42}`, string(out.Echo))
	require.NotEmpty(t, first.RequestID)
	require.Positive(t, first.InitDuration, "the first invocation waits for the runtime's initialisation")
	require.Positive(t, first.Duration)
	require.Equal(t, out.PID, b.inst.BootstrapPID())
	t.Logf("cold start of the test function: init %s, first invocation %s", first.InitDuration, first.Duration)

	second := b.invoke(t, map[string]any{"echo": "again"})
	out2 := decode(t, second)
	require.JSONEq(t, `"again"`, string(out2.Echo))
	require.Zero(t, second.InitDuration, "a warm invocation has no init")
	require.Positive(t, second.Duration)
	require.Equal(t, out.PID, out2.PID, "one runtime serves both")
	require.NotEqual(t, first.RequestID, second.RequestID)
}

func TestInvokePassesTheEnvironment(t *testing.T) {
	t.Parallel()
	require.NotEmpty(t, os.Getenv("PATH"))
	b := setup(t, lambdaemu.Params{
		Name:     "support-desk",
		Env:      map[string]string{"GREETING": "hello", "AIFLOW_LOG_LEVEL": "debug", "AWS_REGION": "eu-west-1"},
		MemoryMB: 256,
		Timeout:  1500 * time.Millisecond,
	})
	out := decode(t, b.invoke(t, map[string]any{"env": []string{
		"GREETING", "AIFLOW_LOG_LEVEL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_LAMBDA_FUNCTION_NAME",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_TIMEOUT",
		"AWS_LAMBDA_RUNTIME_API", "_HANDLER", "TZ", "GOCACHE", "HOME",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_EC2_METADATA_DISABLED",
	}}))
	str := func(k string) string {
		t.Helper()
		require.NotNil(t, out.Env[k], k)
		return *out.Env[k]
	}
	require.Equal(t, "hello", str("GREETING"))
	require.Equal(t, "debug", str("AIFLOW_LOG_LEVEL"))
	require.Equal(t, "eu-west-1", str("AWS_REGION"), "the function's variables win over the defaults")
	require.Equal(t, "us-east-1", str("AWS_DEFAULT_REGION"))
	require.Equal(t, "support-desk", str("AWS_LAMBDA_FUNCTION_NAME"))
	require.Equal(t, "256", str("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
	require.Equal(t, "$LATEST", str("AWS_LAMBDA_FUNCTION_VERSION"))
	require.Equal(t, "2", str("AWS_LAMBDA_FUNCTION_TIMEOUT"), "rounded up to whole seconds")
	require.True(t, strings.HasPrefix(str("AWS_LAMBDA_RUNTIME_API"), "127.0.0.1:"), "the emulator's Runtime API")
	require.Equal(t, "bootstrap", str("_HANDLER"))
	require.Equal(t, ":UTC", str("TZ"))
	require.Equal(t, "local", str("AWS_ACCESS_KEY_ID"), "placeholder credentials, as Lambda always gives some")
	require.Equal(t, "local", str("AWS_SECRET_ACCESS_KEY"))
	require.Equal(t, "true", str("AWS_EC2_METADATA_DISABLED"))
	require.Nil(t, out.Env["GOCACHE"], "nothing of the test's environment reaches the function")
	require.Nil(t, out.Env["HOME"])
}

func TestInvokeReportsAFunctionError(t *testing.T) {
	t.Parallel()
	b := setup(t, lambdaemu.Params{})
	res := b.invoke(t, map[string]any{"fail": "ticket 42 is closed"})
	require.Equal(t, &lambdaemu.FunctionError{Type: "TicketError", Message: "ticket 42 is closed"}, res.FunctionError)
	require.JSONEq(t, `{"errorType":"TicketError","errorMessage":"ticket 42 is closed"}`, string(res.Payload))
	require.Positive(t, res.Duration)
	require.True(t, b.inst.Alive(), "a function error leaves the instance alive")

	out := decode(t, b.invoke(t, map[string]any{"echo": 1}))
	require.JSONEq(t, `1`, string(out.Echo))
}

func TestInvokeReportsATimeoutAndInitialisesAgain(t *testing.T) {
	t.Parallel()
	b := setup(t, lambdaemu.Params{Timeout: time.Second})
	first := decode(t, b.invoke(t, map[string]any{"echo": 1}))

	res := b.invoke(t, map[string]any{"sleepMs": 5000})
	require.NotNil(t, res.FunctionError)
	require.Equal(t, lambdaemu.TimeoutErrorType, res.FunctionError.Type)
	require.Contains(t, res.FunctionError.Message, "Task timed out after 1.00 seconds")
	require.True(t, b.inst.Alive(), "the emulator resets the runtime itself")

	// The next invocation pays a new initialisation, in a new runtime.
	again := b.invoke(t, map[string]any{"echo": 2})
	out := decode(t, again)
	require.NotEqual(t, first.PID, out.PID)
	require.Positive(t, again.InitDuration)
}

func TestInvocationsOfOneInstanceAreSerialized(t *testing.T) {
	t.Parallel()
	b := setup(t, lambdaemu.Params{})
	const n = 3
	outs := make([]echoResponse, n)
	var wg sync.WaitGroup
	for k := range n {
		wg.Go(func() {
			payload, _ := json.Marshal(map[string]any{"sleepMs": 100, "echo": k})
			res, err := b.inst.Invoke(context.Background(), payload)
			if !assertNoError(t, err) {
				return
			}
			require.Nil(t, res.FunctionError)
			if err := json.Unmarshal(res.Payload, &outs[k]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for k := range n {
		require.JSONEq(t, fmt.Sprint(k), string(outs[k].Echo))
		require.Equal(t, outs[0].PID, outs[k].PID)
		for j := range k {
			overlap := outs[k].StartedNS < outs[j].EndedNS && outs[j].StartedNS < outs[k].EndedNS
			require.False(t, overlap, "invocations %d and %d ran at once", j, k)
		}
	}
}

// assertNoError reports an error from a goroutine that may not call
// t.FailNow.
func assertNoError(t *testing.T, err error) bool {
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}

func TestTheEmulatorExitsOnAConcurrentInvocation(t *testing.T) {
	t.Parallel()
	// What the emulator does with a second invocation while one runs: it
	// panics on the failed reservation and exits, which is why Invoke
	// serializes. An instance whose emulator exits is dead.
	b := setup(t, lambdaemu.Params{})
	errc := make(chan error, 1)
	go func() {
		_, err := b.inst.Invoke(context.Background(), []byte(`{"sleepMs":20000,"tag":"first"}`))
		errc <- err
	}()
	require.Eventually(t, func() bool { return b.lines.has("sleeping first") }, 20*time.Second, 5*time.Millisecond)
	bootstrap := b.inst.BootstrapPID()
	require.NotZero(t, bootstrap)

	resp, err := http.Post(b.inst.URL(), "application/json", strings.NewReader(`{}`))
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err, "the emulator answers nothing: it exits")
	select {
	case err = <-errc:
	case <-time.After(20 * time.Second):
		t.Fatal("the first invocation did not end")
	}
	require.ErrorIs(t, err, lambdaemu.ErrDead)
	require.Contains(t, err.Error(), "the emulator exited")
	require.False(t, b.inst.Alive())
	require.Contains(t, b.inst.Err().Error(), "the emulator exited")
	// The bootstrap the dead emulator left behind is stopped too.
	require.Eventually(t, func() bool { return gone(bootstrap) }, 20*time.Second, 5*time.Millisecond)
}

func TestAKilledBootstrapKillsTheInstance(t *testing.T) {
	t.Parallel()
	b := setup(t, lambdaemu.Params{})
	decode(t, b.invoke(t, map[string]any{}))
	pid := b.inst.BootstrapPID()
	require.NotZero(t, pid)

	errc := make(chan error, 1)
	go func() {
		_, err := b.inst.Invoke(context.Background(), []byte(`{"sleepMs":20000,"tag":"doomed"}`))
		errc <- err
	}()
	require.Eventually(t, func() bool { return b.lines.has("sleeping doomed") }, 20*time.Second, 5*time.Millisecond)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))

	var err error
	select {
	case err = <-errc:
	case <-time.After(20 * time.Second):
		t.Fatal("the invocation did not end")
	}
	require.ErrorIs(t, err, lambdaemu.ErrDead)
	require.Contains(t, err.Error(), "Runtime.ExitError")
	require.Contains(t, err.Error(), "signal: killed")
	require.False(t, b.inst.Alive())
	select {
	case <-b.inst.Dead():
	default:
		t.Fatal("Dead is not closed")
	}

	_, err = b.inst.Invoke(context.Background(), []byte(`{}`))
	require.ErrorIs(t, err, lambdaemu.ErrDead, "a dead instance stays dead")
}

func TestAFunctionThatExitsAtInitKillsTheInstance(t *testing.T) {
	t.Parallel()
	b := setup(t, lambdaemu.Params{Env: map[string]string{"ECHO_EXIT_AT_INIT": "1"}})
	_, err := b.inst.Invoke(context.Background(), []byte(`{}`))
	require.ErrorIs(t, err, lambdaemu.ErrDead)
	require.Contains(t, err.Error(), "the emulator answered 502")
	require.Eventually(t, func() bool { return b.lines.has("exiting at initialisation") }, 20*time.Second, 5*time.Millisecond,
		"the function's output is logged")
}

func TestCloseLeavesNoProcessBehind(t *testing.T) {
	t.Parallel()
	b := setup(t, lambdaemu.Params{})
	decode(t, b.invoke(t, map[string]any{}))
	bootstrap := b.inst.BootstrapPID()
	require.NotZero(t, bootstrap)

	// One invocation in flight when it closes.
	errc := make(chan error, 1)
	go func() {
		_, err := b.inst.Invoke(context.Background(), []byte(`{"sleepMs":20000,"tag":"cut"}`))
		errc <- err
	}()
	require.Eventually(t, func() bool { return b.lines.has("sleeping cut") }, 20*time.Second, 5*time.Millisecond)
	require.NoError(t, b.inst.Close())
	require.True(t, gone(bootstrap), "the bootstrap %d still runs", bootstrap)
	require.ErrorIs(t, <-errc, lambdaemu.ErrDead)
	require.NoError(t, b.inst.Close(), "Close is idempotent")

	_, err := b.inst.Invoke(context.Background(), []byte(`{}`))
	require.ErrorIs(t, err, lambdaemu.ErrDead)
	require.Contains(t, err.Error(), "closed")
}

func TestInvokeHonoursItsContext(t *testing.T) {
	t.Parallel()
	b := setup(t, lambdaemu.Params{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := b.inst.Invoke(ctx, []byte(`{"sleepMs":500,"tag":"abandoned"}`))
		errc <- err
	}()
	require.Eventually(t, func() bool { return b.lines.has("sleeping abandoned") }, 20*time.Second, 5*time.Millisecond)
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)

	// The abandoned invocation runs to its end; the next one waits for it
	// instead of crashing the emulator.
	out := decode(t, b.invoke(t, map[string]any{"echo": "next"}))
	require.JSONEq(t, `"next"`, string(out.Echo))
	require.True(t, b.inst.Alive())
}

func TestStartRefusesBadParams(t *testing.T) {
	t.Parallel()
	require.NoError(t, buildErr)
	ctx := context.Background()
	for name, tc := range map[string]struct {
		p    lambdaemu.Params
		want string
	}{
		"no name":          {p: lambdaemu.Params{Emulator: emulator, Bootstrap: echo}, want: "Params.Name is empty"},
		"no emulator":      {p: lambdaemu.Params{Name: "f", Bootstrap: echo}, want: "starting function f: Params.Emulator is empty"},
		"no bootstrap":     {p: lambdaemu.Params{Name: "f", Emulator: emulator}, want: "Params.Bootstrap is empty"},
		"missing file":     {p: lambdaemu.Params{Name: "f", Emulator: emulator, Bootstrap: "/nonexistent/bootstrap"}, want: "no such file"},
		"not executable":   {p: lambdaemu.Params{Name: "f", Emulator: emulator, Bootstrap: "../../go.mod"}, want: "is not an executable file"},
		"managed instance": {p: lambdaemu.Params{Name: "f", Emulator: emulator, Bootstrap: echo, Env: map[string]string{"AWS_LAMBDA_MAX_CONCURRENCY": "4"}}, want: "AWS_LAMBDA_MAX_CONCURRENCY"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := lambdaemu.Start(ctx, tc.p)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestBuildFlagsAreTheMakefiles(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../Makefile")
	require.NoError(t, err)
	var want string
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "LAMBDA_GOFLAGS := "); ok {
			want = strings.TrimSpace(v)
		}
	}
	require.NotEmpty(t, want, "the Makefile has no LAMBDA_GOFLAGS")
	var got []string
	for _, f := range lambdaemu.BuildFlags() {
		if strings.Contains(f, " ") {
			f = `"` + f + `"`
		}
		got = append(got, f)
	}
	require.Equal(t, want, strings.Join(got, " "))
}

func TestTheEmulatorIsBuiltOnce(t *testing.T) {
	t.Parallel()
	require.NoError(t, buildErr)
	again, err := builder.Emulator(context.Background())
	require.NoError(t, err)
	require.Equal(t, emulator, again)
	require.Contains(t, filepath.Base(emulator), "aws-lambda-rie-v")
	require.True(t, strings.HasSuffix(emulator, runtime.GOOS+"-"+runtime.GOARCH))

	// Another builder with the same cache finds the binary there.
	b := &lambdaemu.Builder{ModuleDir: "../..", CacheDir: filepath.Dir(emulator)}
	path, err := b.Emulator(context.Background())
	require.NoError(t, err)
	require.Equal(t, emulator, path)

	err = b.Bootstrap(context.Background(), "./internal/lambdaemu/testdata/no-such-function", filepath.Join(t.TempDir(), "bootstrap"))
	require.ErrorContains(t, err, "building the bootstrap of ./internal/lambdaemu/testdata/no-such-function")
}
