package lambdaemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
)

// invocationPath is the emulator's invocation endpoint (Lambda's Invoke
// API for the one function it runs).
const invocationPath = "/2015-03-31/functions/function/invocations"

// Defaults of Params.
const (
	DefaultTimeout      = 3 * time.Second // Lambda's default function timeout
	DefaultMemoryMB     = 128             // Lambda's default memory size
	DefaultRegion       = "us-east-1"
	DefaultStartTimeout = 10 * time.Second
	DefaultStopTimeout  = 5 * time.Second
)

// invokeGrace is how long past the function's timeout an invocation waits
// for the emulator to answer before the instance is declared dead.
const invokeGrace = 10 * time.Second

// reportWait bounds the wait for an invocation's log lines, which the
// emulator writes before it answers.
const reportWait = 5 * time.Second

// ErrDead is wrapped by the errors of an instance that no longer runs its
// function: its runtime exited or was killed, its emulator exited or
// stopped answering, or it was closed. A dead instance stays dead; start
// another.
var ErrDead = errors.New("the function's instance is dead")

// Params configures an instance.
type Params struct {
	// Name is the function's name (AWS_LAMBDA_FUNCTION_NAME), which the
	// logs and errors carry too. Required.
	Name string
	// Emulator is the path of the emulator's binary (Builder.Emulator).
	// Required.
	Emulator string
	// Bootstrap is the path of the function's bootstrap
	// (Builder.Bootstrap); its directory is the function's working
	// directory, as /var/task is on Lambda. Required.
	Bootstrap string
	// Env is the function's environment, its resolved variables. The
	// instance adds those Lambda sets (AWS_REGION, AWS_DEFAULT_REGION,
	// AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
	// AWS_LAMBDA_FUNCTION_VERSION, AWS_LAMBDA_LOG_GROUP_NAME, _HANDLER, TZ,
	// PATH, and placeholder credentials AWS_ACCESS_KEY_ID and
	// AWS_SECRET_ACCESS_KEY "local" with AWS_EC2_METADATA_DISABLED) where
	// Env has not set them, and the emulator's own. Nothing of this
	// process's environment reaches the function.
	Env map[string]string
	// Timeout is the function's timeout, in whole seconds (rounded up);
	// zero means DefaultTimeout.
	Timeout time.Duration
	// MemoryMB is the function's memory size, reported only; zero means
	// DefaultMemoryMB.
	MemoryMB int
	// Region is the function's AWS region; empty means DefaultRegion.
	Region string
	// Logger receives the emulator's and the function's output, a record a
	// line, with the attributes function and stream (stdout or stderr).
	// Nil discards them.
	Logger *slog.Logger
	// StartTimeout bounds the wait for the emulator to accept invocations;
	// zero means DefaultStartTimeout.
	StartTimeout time.Duration
	// StopTimeout bounds each step of stopping the processes (SIGTERM,
	// then SIGKILL); zero means DefaultStopTimeout.
	StopTimeout time.Duration
}

// Result is the outcome of an invocation the function handled.
type Result struct {
	// RequestID is the invocation's request id (the context's
	// AwsRequestID in the function).
	RequestID string
	// Payload is the function's response, or its error body when
	// FunctionError is set.
	Payload []byte
	// FunctionError is set when the function returned an error or timed
	// out, as Lambda's X-Amz-Function-Error would say.
	FunctionError *FunctionError
	// InitDuration is the runtime's initialisation (a cold start) when this
	// invocation waited for one; zero otherwise.
	InitDuration time.Duration
	// Duration is the invocation's duration as the emulator's REPORT line
	// gives it; zero when the line was not read.
	Duration time.Duration
}

// FunctionError is an error the function returned: its error body's type
// and message (errorType, errorMessage), or Sandbox.Timedout for a timeout.
type FunctionError struct {
	Type    string
	Message string
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// TimeoutErrorType is the FunctionError type of an invocation that ran
// past the function's timeout, the error name Step Functions gives it.
const TimeoutErrorType = "Sandbox.Timedout"

// Instance is one execution environment of a function: an emulator
// process and, from its first invocation on, the bootstrap it runs. It
// takes one invocation at a time. Close it.
type Instance struct {
	p      Params
	log    *slog.Logger
	cmd    *exec.Cmd
	url    string
	client *http.Client
	book   *reportBook

	// slot is held by the invocation in flight.
	slot chan struct{}
	// life ends when the instance dies; invocations in flight end with it.
	life context.Context
	stop context.CancelFunc

	mu sync.Mutex
	// bootstraps are the runtime processes the emulator started, tracked
	// so that none outlives a killed emulator.
	bootstraps []proc
	deadErr    error         // why it died; set once
	dead       chan struct{} // closed when it died
	exited     chan struct{} // closed when the emulator's process was waited for
	wg         sync.WaitGroup
}

// errExitedEarly marks an emulator that exited before accepting
// invocations, which Start retries once or twice with other ports (one of
// its two may have been taken in between).
var errExitedEarly = errors.New("the emulator exited before accepting invocations")

// Start runs the emulator for the function and waits until it accepts
// invocations. The bootstrap starts on the first invocation. The errors
// name the function, and say why the emulator would not start.
func Start(ctx context.Context, p Params) (*Instance, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	var err error
	for range 3 {
		var i *Instance
		i, err = start(ctx, p)
		if err == nil {
			return i, nil
		}
		if !errors.Is(err, errExitedEarly) {
			break
		}
	}
	return nil, fmt.Errorf("starting function %s: %w", p.Name, err)
}

// check validates p and fills its defaults.
func (p *Params) check() error {
	if err := supported(); err != nil {
		return err
	}
	switch {
	case p.Name == "":
		return errors.New("starting a function: Params.Name is empty")
	case p.Emulator == "":
		return fmt.Errorf("starting function %s: Params.Emulator is empty", p.Name)
	case p.Bootstrap == "":
		return fmt.Errorf("starting function %s: Params.Bootstrap is empty", p.Name)
	case p.Timeout < 0 || p.MemoryMB < 0 || p.StartTimeout < 0 || p.StopTimeout < 0:
		return fmt.Errorf("starting function %s: a negative timeout or memory size", p.Name)
	}
	if _, ok := p.Env["AWS_LAMBDA_MAX_CONCURRENCY"]; ok {
		return fmt.Errorf("starting function %s: Env sets AWS_LAMBDA_MAX_CONCURRENCY, which switches the emulator to Lambda Managed Instances", p.Name)
	}
	for _, f := range []string{p.Emulator, p.Bootstrap} {
		fi, err := os.Stat(f)
		if err != nil {
			return fmt.Errorf("starting function %s: %w", p.Name, err)
		}
		if !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
			return fmt.Errorf("starting function %s: %s is not an executable file", p.Name, f)
		}
	}
	abs, err := filepath.Abs(p.Bootstrap)
	if err != nil {
		return fmt.Errorf("starting function %s: %w", p.Name, err)
	}
	p.Bootstrap = abs
	if p.Timeout == 0 {
		p.Timeout = DefaultTimeout
	}
	p.Timeout = time.Duration(math.Ceil(p.Timeout.Seconds())) * time.Second
	if p.MemoryMB == 0 {
		p.MemoryMB = DefaultMemoryMB
	}
	if p.Region == "" {
		p.Region = DefaultRegion
	}
	if p.StartTimeout == 0 {
		p.StartTimeout = DefaultStartTimeout
	}
	if p.StopTimeout == 0 {
		p.StopTimeout = DefaultStopTimeout
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// environ is the emulator's environment, which it hands on to the
// function.
func (p *Params) environ() []string {
	env := map[string]string{
		"PATH":                      "/usr/local/bin:/usr/bin:/bin",
		"TZ":                        ":UTC",
		"AWS_REGION":                p.Region,
		"AWS_DEFAULT_REGION":        p.Region,
		"AWS_LAMBDA_FUNCTION_NAME":  p.Name,
		"AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/" + p.Name,
		"_HANDLER":                  filepath.Base(p.Bootstrap),
		// Lambda always gives a function credentials; without any, the
		// SDKs would look for them on the instance metadata service,
		// which is not here.
		"AWS_ACCESS_KEY_ID":         "local",
		"AWS_SECRET_ACCESS_KEY":     "local",
		"AWS_EC2_METADATA_DISABLED": "true",
	}
	for k, v := range p.Env {
		env[k] = v
	}
	// The emulator reads these; they are the instance's settings.
	env["AWS_LAMBDA_FUNCTION_NAME"] = p.Name
	env["AWS_LAMBDA_FUNCTION_TIMEOUT"] = strconv.Itoa(int(p.Timeout / time.Second))
	env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = strconv.Itoa(p.MemoryMB)
	if env["AWS_LAMBDA_FUNCTION_VERSION"] == "" {
		env["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST"
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// start makes one attempt at starting the emulator.
func start(ctx context.Context, p Params) (*Instance, error) {
	addrs, err := freeAddrs(2)
	if err != nil {
		return nil, err
	}
	log := p.Logger.With("function", p.Name)
	book := newReportBook()
	stdout := &lineWriter{log: log, stream: "stdout", book: book}
	stderr := &lineWriter{log: log, stream: "stderr", book: book}
	// The emulator's log level is set on its command line, which takes
	// precedence over a LOG_LEVEL the function's environment may hold: the
	// instance reads its INFO lines.
	cmd := exec.Command(p.Emulator,
		"--log-level", "info",
		"--runtime-interface-emulator-address", addrs[0],
		"--runtime-api-address", addrs[1],
		p.Bootstrap)
	cmd.Dir = filepath.Dir(p.Bootstrap)
	cmd.Env = p.environ()
	cmd.SysProcAttr = sysProcAttr()
	// The output goes through pipes of our own rather than exec's copying:
	// the bootstrap inherits them, and Wait must see the emulator exit even
	// while a bootstrap it left behind still holds them.
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("running the emulator: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, fmt.Errorf("running the emulator: %w", err)
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, fmt.Errorf("running the emulator %s: %w", p.Emulator, err)
	}
	life, stop := context.WithCancel(context.Background())
	i := &Instance{
		p:      p,
		log:    log,
		cmd:    cmd,
		url:    "http://" + addrs[0] + invocationPath,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, IdleConnTimeout: time.Minute}},
		book:   book,
		slot:   make(chan struct{}, 1),
		life:   life,
		stop:   stop,
		dead:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	book.invokeStarted = i.track
	i.wg.Add(4)
	go i.wait()
	go i.reap()
	go i.read(outR, stdout)
	go i.read(errR, stderr)
	if err := i.awaitReady(ctx, addrs); err != nil {
		_ = i.Close()
		return nil, err
	}
	log.Debug("function instance started", "url", i.url)
	return i, nil
}

// freeAddrs returns n distinct free addresses on 127.0.0.1.
func freeAddrs(n int) ([]string, error) {
	var addrs []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs, nil
}

// awaitReady polls the emulator until it serves HTTP on its invocation
// address and listens on its Runtime API address.
func (i *Instance) awaitReady(ctx context.Context, addrs []string) error {
	ctx, cancel := context.WithTimeout(ctx, i.p.StartTimeout)
	defer cancel()
	probe := &http.Client{Timeout: time.Second}
	wait := 5 * time.Millisecond
	for {
		if i.ready(ctx, probe, addrs) {
			return nil
		}
		select {
		case <-i.exited:
			return fmt.Errorf("%w: %v", errExitedEarly, i.deadError())
		case <-ctx.Done():
			return fmt.Errorf("waiting for the emulator to accept invocations on %s: %w", addrs[0], ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// ready makes one probe. The invocation path is not probed: any request
// to it is an invocation.
func (i *Instance) ready(ctx context.Context, probe *http.Client, addrs []string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addrs[0]+"/", nil)
	if err != nil {
		return false
	}
	resp, err := probe.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addrs[1])
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// wait waits for the emulator's process and marks the instance dead when
// it exits.
func (i *Instance) wait() {
	defer i.wg.Done()
	err := i.cmd.Wait()
	if err == nil {
		err = errors.New("exit status 0")
	}
	i.die(fmt.Errorf("the emulator exited: %w", err))
	close(i.exited)
}

// read logs one of the emulator's output streams until every process
// holding it (the emulator, its bootstraps) is gone.
func (i *Instance) read(r *os.File, w *lineWriter) {
	defer i.wg.Done()
	defer r.Close()
	_, _ = io.Copy(w, r)
	w.flush()
}

// reap stops the processes once the instance died.
func (i *Instance) reap() {
	defer i.wg.Done()
	<-i.dead
	i.client.CloseIdleConnections()
	// The bootstraps to stop if the emulator leaves them behind.
	i.track()
	i.mu.Lock()
	bootstraps := i.bootstraps
	i.mu.Unlock()
	select {
	case <-i.exited:
	default:
		terminate(i.cmd.Process.Pid)
		select {
		case <-i.exited:
		case <-time.After(i.p.StopTimeout):
			killGroup(i.cmd.Process.Pid)
			<-i.exited // Wait returns: the process is killed
		}
	}
	for _, b := range bootstraps {
		if b.alive() {
			killGroup(b.pid)
		}
	}
	deadline := time.Now().Add(i.p.StopTimeout)
	for _, b := range bootstraps {
		for b.alive() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if b.alive() {
			i.log.Error("the function's bootstrap did not stop", "pid", b.pid)
		}
	}
}

// track records the bootstrap the emulator runs, unless one known is
// running.
func (i *Instance) track() {
	i.mu.Lock()
	defer i.mu.Unlock()
	live := i.bootstraps[:0]
	for _, b := range i.bootstraps {
		if b.alive() {
			live = append(live, b)
		}
	}
	i.bootstraps = live
	if len(live) > 0 {
		return
	}
	i.bootstraps = append(i.bootstraps, children(i.cmd.Process.Pid)...)
}

// die marks the instance dead for the reason err, once.
func (i *Instance) die(err error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.deadErr != nil {
		return
	}
	i.deadErr = err
	close(i.dead)
	i.stop()
}

// deadError is the error of an invocation on a dead instance.
func (i *Instance) deadError() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	return fmt.Errorf("%w: %w", ErrDead, i.deadErr)
}

// errClosed is why a closed instance is dead.
var errClosed = errors.New("it was closed")

// Alive reports whether the instance can still take invocations.
func (i *Instance) Alive() bool {
	select {
	case <-i.dead:
		return false
	default:
		return true
	}
}

// Dead is closed when the instance dies.
func (i *Instance) Dead() <-chan struct{} { return i.dead }

// Err returns why the instance died (wrapping ErrDead), or nil while it is
// alive.
func (i *Instance) Err() error {
	if i.Alive() {
		return nil
	}
	return i.deadError()
}

// Name is the function's name.
func (i *Instance) Name() string { return i.p.Name }

// URL is the emulator's invocation endpoint. Invoke is the way to use it:
// the emulator exits when a second invocation reaches it while one runs.
func (i *Instance) URL() string { return i.url }

// BootstrapPID returns the process id of the function's running bootstrap,
// or 0 when none runs (before the first invocation, or between a crash and
// the next initialisation). Tests kill it to see an instance die.
func (i *Instance) BootstrapPID() int {
	for _, c := range children(i.cmd.Process.Pid) {
		return c.pid
	}
	return 0
}

// Close stops the emulator (SIGTERM, then SIGKILL after StopTimeout) and
// the bootstrap, and waits for them and for every goroutine of the
// instance, within bounds. An invocation in flight ends with ErrDead. It
// returns an error only when something did not stop in time.
func (i *Instance) Close() error {
	i.die(errClosed)
	done := make(chan struct{})
	go func() {
		i.wg.Wait()
		close(done)
	}()
	// Terminating, killing and the bootstraps each have StopTimeout at
	// most.
	bound := 3*i.p.StopTimeout + time.Second
	select {
	case <-done:
		return nil
	case <-time.After(bound):
		return fmt.Errorf("closing function %s: its processes did not stop within %s", i.p.Name, bound)
	}
}

// outcome is what the emulator answered an invocation.
type outcome struct {
	status int
	body   []byte
	err    error
}

// Invoke sends payload to the function and returns its result once it
// handled it; a function error is in the Result, not the error. The
// invocations of an instance run one at a time: Invoke waits for the
// one in flight. The error wraps ErrDead when the instance died (before or
// during the invocation: its runtime exited, its emulator is gone), and
// ctx's error when ctx ended first; the invocation then runs on, and the
// instance takes the next one once the function answered.
func (i *Instance) Invoke(ctx context.Context, payload []byte) (*Result, error) {
	select {
	case i.slot <- struct{}{}:
	case <-i.dead:
		return nil, fmt.Errorf("invoking function %s: %w", i.p.Name, i.deadError())
	case <-ctx.Done():
		return nil, fmt.Errorf("invoking function %s: waiting for its invocation in flight: %w", i.p.Name, ctx.Err())
	}
	i.mu.Lock()
	if i.deadErr != nil {
		i.mu.Unlock()
		<-i.slot
		return nil, fmt.Errorf("invoking function %s: %w", i.p.Name, i.deadError())
	}
	i.wg.Add(1)
	i.mu.Unlock()

	id := uuid.NewString()
	i.book.expect(id)
	type answer struct {
		res *Result
		err error
	}
	done := make(chan answer, 1)
	go func() {
		defer i.wg.Done()
		defer func() { <-i.slot }()
		res, err := i.result(id, i.post(id, payload))
		done <- answer{res, err}
	}()
	select {
	case a := <-done:
		return a.res, a.err
	case <-ctx.Done():
		return nil, fmt.Errorf("invoking function %s (request %s): %w", i.p.Name, id, ctx.Err())
	}
}

// post sends one invocation to the emulator.
func (i *Instance) post(id string, payload []byte) outcome {
	ctx, cancel := context.WithTimeout(i.life, i.p.Timeout+invokeGrace)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, i.url, bytes.NewReader(payload))
	if err != nil {
		return outcome{err: err}
	}
	req.Header.Set("X-Amzn-RequestId", id)
	resp, err := i.client.Do(req)
	if err != nil {
		return outcome{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return outcome{err: err}
	}
	return outcome{status: resp.StatusCode, body: body}
}

// result interprets the emulator's answer to the invocation id.
func (i *Instance) result(id string, o outcome) (*Result, error) {
	fail := func(reason error) (*Result, error) {
		i.book.forget(id)
		i.die(reason)
		return nil, fmt.Errorf("invoking function %s (request %s): %w", i.p.Name, id, i.deadError())
	}
	if o.err != nil {
		// A broken connection is most often the emulator exiting: give
		// its exit the time to be seen, so the error says so.
		select {
		case <-i.exited:
		case <-i.life.Done():
		case <-time.After(i.p.StopTimeout):
		}
		if !i.Alive() {
			i.book.forget(id)
			return nil, fmt.Errorf("invoking function %s (request %s): %w", i.p.Name, id, i.deadError())
		}
		return fail(fmt.Errorf("the emulator did not answer: %w", o.err))
	}
	if o.status != http.StatusOK {
		why := i.book.runtimeExit()
		if fe, ok := errorBody(o.body); ok {
			return fail(fmt.Errorf("the emulator answered %d: %w", o.status, fe))
		}
		if len(o.body) == 0 && why != "" {
			return fail(fmt.Errorf("the emulator answered %d: the runtime failed: %s", o.status, why))
		}
		return fail(fmt.Errorf("the emulator answered %d: %q", o.status, truncate(o.body)))
	}
	res := &Result{RequestID: id, Payload: o.body}
	if bytes.HasPrefix(o.body, []byte("Task timed out after ")) {
		res.FunctionError = &FunctionError{Type: TimeoutErrorType, Message: string(o.body)}
	} else if fe, ok := errorBody(o.body); ok {
		res.FunctionError = fe
	}
	ctx, cancel := context.WithTimeout(i.life, reportWait)
	defer cancel()
	r := i.book.wait(ctx, id)
	res.InitDuration, res.Duration = r.init, r.duration
	return res, nil
}

// errorKeys are the fields of a runtime's error body.
var errorKeys = map[string]bool{"errorType": true, "errorMessage": true, "stackTrace": true, "cause": true, "requestId": true}

// errorBody reads a runtime's error body: a JSON object with a string
// errorType and errorMessage and no fields but errorKeys.
func errorBody(body []byte) (*FunctionError, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return nil, false
	}
	for k := range m {
		if !errorKeys[k] {
			return nil, false
		}
	}
	var fe FunctionError
	if json.Unmarshal(m["errorType"], &fe.Type) != nil || json.Unmarshal(m["errorMessage"], &fe.Message) != nil {
		return nil, false
	}
	return &fe, true
}

// truncate shortens a body for an error message.
func truncate(b []byte) string {
	const n = 512
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
