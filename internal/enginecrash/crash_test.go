package enginecrash

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/enginestore"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/sfn"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(childMain())
	}
	pgclustertest.Main(m)
}

// Settings of the harness, from the environment.
const (
	killsEnv = "AIFLOW_CRASH_KILLS"
	// dumpDirEnv names a folder where a failing run leaves the raw
	// history batches of the execution that failed and the children's log.
	dumpDirEnv       = "AIFLOW_CRASH_DUMP_DIR"
	seedEnv          = "AIFLOW_CRASH_SEED"
	defaultKills     = 30
	defaultExecs     = 60
	minKillDelay     = 50 * time.Millisecond
	maxKillDelay     = 800 * time.Millisecond
	onStartKillDelay = 6 * time.Millisecond // at most this long after a new execution's StartExecution began
	// expectedCycle is about how long one spawn, kill and look at the
	// store take with the delays above.
	expectedCycle   = 340 * time.Millisecond
	earlyKillDelay  = 40 * time.Millisecond // kills this soon after the spawn land while the child resumes
	finalRunTimeout = 90 * time.Second
)

func envInt(t *testing.T, name string, def int64) int64 {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err, "%s=%q is not a number", name, s)
	return n
}

// TestExecutionsSurviveSIGKILL runs the engine in a child process, kills
// it with SIGKILL at random moments and starts it again, many times, then
// lets it finish and checks every execution: see the package comment.
func TestExecutionsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash harness kills and restarts a process many times; it does not run with -short")
	}
	t.Parallel()
	kills := int(envInt(t, killsEnv, defaultKills))
	n := int(envInt(t, executionsEnv, defaultExecs))
	require.Positive(t, n, "%s", executionsEnv)
	require.GreaterOrEqual(t, kills, 0, "%s", killsEnv)
	seed := envInt(t, seedEnv, time.Now().UnixNano())
	t.Logf("seed %d (replay with %s=%d), %d kills, %d executions", seed, seedEnv, seed, kills, n)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))

	began := time.Now()
	h := newHarness(t, n, kills)
	var phases phaseCounts
	for k := range kills {
		phases.add(h.crash(k, kills, rng))
	}
	t.Logf("after %d kills (%s): %s", kills, time.Since(began).Round(time.Millisecond), phases)
	if kills >= 10 {
		// With this many kills the seeded delays and the kills aimed at
		// starts reach every phase; a miss means the harness lost its aim.
		require.Positive(t, phases.booting, "no kill landed while the child resumed its executions")
		require.Positive(t, phases.starting, "no kill landed while an execution was being started")
		require.Positive(t, phases.tasks, "no kill landed while a task was in flight")
		require.Positive(t, phases.waits, "no kill landed while an execution was in a Wait or a retry's backoff")
	}

	h.finish()
	h.verify()
	t.Logf("done in %s", time.Since(began).Round(time.Millisecond))
}

type harness struct {
	t          *testing.T
	n          int
	dir        string
	workerLog  string
	childLog   string
	dbURL      string
	epoch      time.Time
	spacing    time.Duration
	store      *enginestore.Store
	inspector  *engine.Engine
	expected   []expected
	childRuns  int
	readyTimes []time.Duration
}

func newHarness(t *testing.T, n, kills int) *harness {
	t.Helper()
	ctx := context.Background()
	dbURL := pgclustertest.Database(t)
	pool, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	evs, err := eventstore.Open(ctx, pool, eventstore.Options{})
	require.NoError(t, err)
	store, err := enginestore.New(ctx, pool, evs)
	require.NoError(t, err)
	// The parent reads through an engine of its own whose store hides the
	// open executions and refuses writes, so it never drives them while a
	// child does.
	insp, err := engine.New(engine.Config{Store: readOnlyStore{store}, Region: region, AccountID: account})
	require.NoError(t, err)
	require.NoError(t, insp.Start(ctx))
	t.Cleanup(func() { _ = insp.Close() })

	dir := t.TempDir()
	h := &harness{t: t, n: n, dir: dir, dbURL: dbURL, store: store, inspector: insp,
		workerLog: filepath.Join(dir, "workers.jsonl"), childLog: filepath.Join(dir, "child.log")}
	// Executions arrive over most of the kills, so kills land among starts
	// and executions are in every phase while the child dies. The last
	// one starts a second before the kills are expected to end, so most
	// kills find executions open and the final run has some work left.
	h.spacing = max(time.Duration(kills)*expectedCycle*9/10-time.Second, 0) / time.Duration(n)
	h.epoch = time.Now().Add(100 * time.Millisecond)
	for i := range n {
		h.expected = append(h.expected, expect(i))
	}
	t.Logf("executions start %s apart", h.spacing.Round(time.Millisecond))
	return h
}

// child is a running child process.
type child struct {
	cmd     *exec.Cmd
	began   time.Time
	lines   chan string
	exited  chan error
	ready   bool
	inStart int // the execution whose StartExecution runs, -1 when none
}

func (h *harness) spawn(final bool) *child {
	t := h.t
	t.Helper()
	logf, err := os.OpenFile(h.childLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	require.NoError(t, err)
	defer logf.Close()
	h.childRuns++
	fmt.Fprintf(logf, "--- child run %d\n", h.childRuns)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(),
		childEnv+"=1",
		databaseEnv+"="+h.dbURL,
		workerLogEnv+"="+h.workerLog,
		executionsEnv+"="+strconv.Itoa(h.n),
		startEpochEnv+"="+strconv.FormatInt(h.epoch.UnixNano(), 10),
		startSpaceEnv+"="+h.spacing.String(),
	)
	if final {
		cmd.Env = append(cmd.Env, finalRunEnv+"=1")
	}
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	c := &child{cmd: cmd, lines: make(chan string, 4*h.n+16), exited: make(chan error, 1), inStart: -1}
	require.NoError(t, cmd.Start())
	c.began = time.Now()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		c.exited <- cmd.Wait()
		close(c.lines)
	}()
	return c
}

// follow notes what a line of the child says.
func (c *child) follow(line string) (starting int) {
	starting = -1
	verb, arg, _ := strings.Cut(line, " ")
	switch verb {
	case lineReady:
		c.ready = true
	case lineStarting:
		c.inStart, _ = strconv.Atoi(arg)
		starting = c.inStart
	case lineStarted:
		c.inStart = -1
	}
	return starting
}

// exitedEarly fails the test with the child's log when it ended without
// being killed.
func (h *harness) exitedEarly(err error) {
	h.t.Helper()
	h.t.Fatalf("the child exited on its own (%v); its log ends with:\n%s", err, h.tail(60))
}

func (h *harness) tail(lines int) string {
	b, _ := os.ReadFile(h.childLog)
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// killPoint is what the child was doing when it was killed.
type killPoint struct {
	after    time.Duration
	aimed    bool // the kill was aimed at a new execution's start
	ready    bool
	inStart  int
	existing int // executions in the store
	open     int
	tasks    int // executions with a task in flight
	waits    int // executions in a Wait state
	backoffs int // executions between a failed first attempt and its retry
}

type phaseCounts struct {
	kills, booting, starting, tasks, waits, idle int
}

func (p *phaseCounts) add(k killPoint) {
	p.kills++
	if !k.ready {
		p.booting++
	}
	if k.inStart >= 0 {
		p.starting++
	}
	if k.tasks > 0 {
		p.tasks++
	}
	if k.waits+k.backoffs > 0 {
		p.waits++
	}
	if k.open == 0 {
		p.idle++
	}
}

func (p phaseCounts) String() string {
	return fmt.Sprintf("kills landed while resuming (before ready) %d, during a StartExecution %d, with tasks in flight %d, in waits or backoffs %d, with nothing open %d",
		p.booting, p.starting, p.tasks, p.waits, p.idle)
}

// crash runs one child and kills it after a random delay. One kill in
// five comes at most earlyKillDelay after the spawn, while the child
// resumes; one in four (while executions are still to come) comes instead
// right after the child begins to start an execution that did not exist
// yet, if one begins before the delay is over. The first kill is aimed
// and the middle one early, so that every run reaches both phases.
func (h *harness) crash(k, kills int, rng *rand.Rand) killPoint {
	t := h.t
	t.Helper()
	existing := h.existing()
	mode := rng.IntN(20)
	switch k {
	case 0:
		mode = 0 // the first kill is aimed, at the first start
	case kills / 2:
		mode = 5 // the middle one comes early, while executions are open
	}
	aimed := mode < 5 && existing < h.n
	delay := minKillDelay + time.Duration(rng.Int64N(int64(maxKillDelay-minKillDelay)))
	if !aimed && mode < 9 {
		delay = time.Duration(rng.Int64N(int64(earlyKillDelay)))
	}
	if k == kills/2 && k > 0 {
		delay = earlyKillDelay / 4
	}
	c := h.spawn(false)
	timer := time.NewTimer(delay)
	defer timer.Stop()
	hit := false
wait:
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				h.exitedEarly(<-c.exited)
			}
			if i := c.follow(line); aimed && !hit && i >= existing {
				hit = true
				// Half at once, inside StartExecution; half a little
				// later, when its commit may have landed.
				later := time.Duration(rng.Int64N(2) * rng.Int64N(int64(onStartKillDelay)))
				if k == 0 {
					later = 0
				}
				timer.Reset(later)
			}
			if line == lineReady {
				h.readyTimes = append(h.readyTimes, time.Since(c.began))
			}
		case <-timer.C:
			break wait
		}
	}
	require.NoError(t, c.cmd.Process.Kill())
	after := time.Since(c.began)
	// Drain what the child printed before it died: the last lines tell
	// where it was.
	for line := range c.lines {
		c.follow(line)
	}
	err := <-c.exited
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != -1 {
		h.exitedEarly(err)
	}
	p := h.inspect()
	p.after, p.aimed, p.ready, p.inStart = after, aimed && hit, c.ready, c.inStart
	t.Logf("kill %3d after %4dms%s: ready=%t starting=%s existing=%d open=%d tasks=%d waits=%d backoffs=%d",
		k+1, after.Milliseconds(), map[bool]string{true: " (aimed at a start)", false: ""}[p.aimed], p.ready,
		map[bool]string{true: executionName(p.inStart), false: "-"}[p.inStart >= 0], p.existing, p.open, p.tasks, p.waits, p.backoffs)
	return p
}

// existing counts the executions in the store.
func (h *harness) existing() int {
	recs := h.executions()
	return len(recs)
}

func (h *harness) executions() []engine.ExecutionRecord {
	t := h.t
	t.Helper()
	var all []engine.ExecutionRecord
	after := ""
	for {
		recs, next, err := h.store.Executions(context.Background(), engine.ExecutionFilter{StateMachineARN: machineARN, After: after, Limit: 1000})
		require.NoError(t, err)
		all = append(all, recs...)
		if next == "" {
			return all
		}
		after = next
	}
}

// history returns an execution's whole history.
func (h *harness) history(arn string) []sfn.HistoryEvent {
	t := h.t
	t.Helper()
	var events []sfn.HistoryEvent
	token := ""
	for {
		page, err := h.inspector.GetExecutionHistory(context.Background(), sfn.GetExecutionHistoryInput{ExecutionARN: arn, MaxResults: 1000, NextToken: token})
		require.NoError(t, err, "reading the history of %s", arn)
		events = append(events, page.Events...)
		if page.NextToken == "" {
			return events
		}
		token = page.NextToken
	}
}

// inspect reads from the store where the killed child left its
// executions.
func (h *harness) inspect() killPoint {
	recs := h.executions()
	p := killPoint{existing: len(recs), inStart: -1}
	for _, rec := range recs {
		if rec.Status != sfn.StatusRunning {
			continue
		}
		p.open++
		c := countEvents(h.history(rec.ARN))
		if c["TaskScheduled"]+c["LambdaFunctionScheduled"] > c["TaskSucceeded"]+c["TaskFailed"]+c["TaskTimedOut"]+c["LambdaFunctionSucceeded"]+c["LambdaFunctionFailed"]+c["LambdaFunctionTimedOut"] {
			p.tasks++
		}
		if c["WaitStateEntered"] > c["WaitStateExited"] {
			p.waits++
		}
		if c["TaskFailed"] > c["TaskScheduled:retry"] {
			p.backoffs++
		}
	}
	return p
}

// countEvents counts events by type, by type and state name for state
// events, and by type and step for TaskScheduled.
func countEvents(events []sfn.HistoryEvent) map[string]int {
	c := map[string]int{}
	for _, ev := range events {
		c[ev.Type]++
		switch {
		case ev.StateEntered != nil:
			c[ev.Type+":"+ev.StateEntered.Name]++
		case ev.StateExited != nil:
			c[ev.Type+":"+ev.StateExited.Name]++
		case ev.TaskScheduled != nil:
			step, retry := stepOf(ev.TaskScheduled.Parameters)
			c[ev.Type+":"+step]++
			if retry > 0 {
				c[ev.Type+":retry"]++
			}
		}
	}
	return c
}

// finish runs a last child until every execution has closed.
func (h *harness) finish() {
	t := h.t
	t.Helper()
	c := h.spawn(true)
	timeout := time.NewTimer(finalRunTimeout + time.Until(h.epoch.Add(time.Duration(h.n)*h.spacing)))
	defer timeout.Stop()
	done := false
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				err := <-c.exited
				require.True(t, done, "the final child exited (%v) before every execution closed; its log ends with:\n%s", err, h.tail(60))
				require.NoError(t, err, "the final child failed; its log ends with:\n%s", h.tail(60))
				t.Logf("the final run took %s", time.Since(c.began).Round(time.Millisecond))
				return
			}
			c.follow(line)
			done = done || line == lineDone
		case <-timeout.C:
			_ = c.cmd.Process.Kill()
			var stuck []string
			for _, rec := range h.executions() {
				if rec.Status == sfn.StatusRunning {
					events := h.history(rec.ARN)
					last := events[len(events)-1]
					stuck = append(stuck, fmt.Sprintf("%s (last event %d %s)", rec.Name, last.ID, last.Type))
				}
			}
			t.Fatalf("executions still running after the final run's %s: %s\nthe child's log ends with:\n%s", finalRunTimeout, strings.Join(stuck, ", "), h.tail(60))
		}
	}
}

// verify checks every execution, its history and what the workers saw.
func (h *harness) verify() {
	t := h.t
	t.Helper()
	recs := h.executions()
	require.Len(t, recs, h.n, "executions in the store")
	for i := range h.n {
		h.verifyExecution(i)
	}
	h.verifyWorkers()
	h.verifyChildLog()
	if len(h.readyTimes) > 0 {
		slices.Sort(h.readyTimes)
		t.Logf("a child was ready (executions resumed) %s after it was spawned (median of %d runs), at most %s",
			h.readyTimes[len(h.readyTimes)/2].Round(time.Millisecond), len(h.readyTimes), h.readyTimes[len(h.readyTimes)-1].Round(time.Millisecond))
	}
}

func (h *harness) verifyExecution(i int) {
	t := h.t
	t.Helper()
	name, want := executionName(i), h.expected[i]
	x, err := h.inspector.DescribeExecution(context.Background(), executionARN(i))
	require.NoError(t, err, "describing %s", name)
	require.Equal(t, sfn.StatusSucceeded, x.Status, "%s ended %s: %s %s", name, x.Status, x.Error, x.Cause)
	require.JSONEq(t, want.output, x.Output, "the output of %s", name)

	events := h.history(executionARN(i))
	require.NotEmpty(t, events, name)
	defer func() {
		if t.Failed() {
			t.Logf("the history of %s:\n%s", name, dump(events))
			if dir := os.Getenv(dumpDirEnv); dir != "" {
				raws, _ := h.store.Batches(context.Background(), executionARN(i))
				var b strings.Builder
				for _, r := range raws {
					b.Write(r)
					b.WriteString("\n")
				}
				_ = os.WriteFile(filepath.Join(dir, name+".batches"), []byte(b.String()), 0o644)
				cl, _ := os.ReadFile(h.childLog)
				_ = os.WriteFile(filepath.Join(dir, "child.log"), cl, 0o644)
			}
		}
	}()
	for k, ev := range events {
		require.Equal(t, int64(k+1), ev.ID, "%s: event ids run 1..n without gaps", name)
		if k > 0 {
			require.Less(t, ev.PreviousEventID, ev.ID, "%s: event %d's previous event", name, ev.ID)
		}
	}
	require.Equal(t, "ExecutionStarted", events[0].Type, "%s's first event", name)
	last := events[len(events)-1]
	require.Equal(t, "ExecutionSucceeded", last.Type, "%s's last event", name)
	require.JSONEq(t, want.output, last.ExecutionSucceeded.Output, "%s's ExecutionSucceeded output", name)

	c := countEvents(events)
	require.Equal(t, 1, c["ExecutionStarted"], "%s: ExecutionStarted events", name)
	require.Equal(t, 1, c["ExecutionSucceeded"], "%s: ExecutionSucceeded events", name)
	for _, typ := range []string{"ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut", "TaskTimedOut", "LambdaFunctionFailed", "LambdaFunctionTimedOut", "MapIterationFailed", "MapIterationAborted"} {
		require.Zero(t, c[typ], "%s: %s events", name, typ)
	}
	for state, n := range want.entered {
		require.Equal(t, n, countSuffix(c, "StateEntered:"+state), "%s: times state %s was entered", name, state)
		require.Equal(t, n, countSuffix(c, "StateExited:"+state), "%s: times state %s was exited", name, state)
	}
	entered := 0
	for typ, n := range c {
		if isEntered(typ) {
			entered += n
		}
	}
	total := 0
	for _, n := range want.entered {
		total += n
	}
	require.Equal(t, total, entered, "%s: states entered (no state entered twice, none unexpected)", name)

	require.Equal(t, want.tasks, c["TaskScheduled"], "%s: tasks scheduled", name)
	require.Equal(t, want.tasks, c["TaskStarted"], "%s: tasks started", name)
	require.Equal(t, want.tasks-2, c["TaskSucceeded"], "%s: tasks succeeded (all but the two first attempts)", name)
	require.Equal(t, 2, c["TaskFailed"], "%s: tasks failed (the first attempts of the flaky step and the first item)", name)
	require.Equal(t, 2, c["TaskScheduled:flaky"], "%s: attempts of the flaky step", name)
	require.Equal(t, want.items+1, c["TaskScheduled:item"], "%s: attempts of the item step", name)
	require.Equal(t, 2, c["TaskScheduled:retry"], "%s: retries", name)
	require.Equal(t, 1, c["LambdaFunctionScheduled"], "%s: Lambda tasks scheduled", name)
	require.Equal(t, 1, c["LambdaFunctionSucceeded"], "%s: Lambda tasks succeeded", name)
	require.Equal(t, want.items, c["MapIterationStarted"], "%s: Map iterations started", name)
	require.Equal(t, want.items, c["MapIterationSucceeded"], "%s: Map iterations succeeded", name)

	// Every task scheduled is started at once and ended later, never
	// ended before it was scheduled; the Waits and the retries' backoffs
	// last their full second however often the process died meanwhile.
	open := 0
	var failedAt time.Time
	waitEntered := map[string]time.Time{}
	for k, ev := range events {
		switch ev.Type {
		case "TaskScheduled", "LambdaFunctionScheduled":
			open++
			require.Less(t, k+1, len(events), "%s: event %d is last", name, ev.ID)
			require.Contains(t, []string{"TaskStarted", "LambdaFunctionStarted"}, events[k+1].Type, "%s: event %d after %s %d", name, ev.ID+1, ev.Type, ev.ID)
			if ev.Type != "TaskScheduled" {
				break
			}
			if step, retry := stepOf(ev.TaskScheduled.Parameters); retry > 0 {
				// A step fails only on its first attempt, so the latest
				// failure is the one this attempt retries.
				require.False(t, failedAt.IsZero(), "%s: event %d retries the %s step, which never failed", name, ev.ID, step)
				require.GreaterOrEqual(t, ev.Timestamp.Sub(failedAt), time.Second, "%s: event %d retries the %s step before its 1 s interval", name, ev.ID, step)
			}
		case "TaskSucceeded", "TaskFailed", "LambdaFunctionSucceeded":
			open--
			require.GreaterOrEqual(t, open, 0, "%s: event %d %s ends a task that was not scheduled", name, ev.ID, ev.Type)
			if ev.Type == "TaskFailed" {
				require.Equal(t, firstAttemptError, ev.TaskFailed.Error, "%s: the failed task's error", name)
				failedAt = ev.Timestamp
			}
		case "WaitStateEntered":
			waitEntered[ev.StateEntered.Name] = ev.Timestamp
		case "WaitStateExited":
			require.GreaterOrEqual(t, ev.Timestamp.Sub(waitEntered[ev.StateExited.Name]), time.Second, "%s: the 1 s of Wait state %s", name, ev.StateExited.Name)
		}
	}
	require.Zero(t, open, "%s: tasks scheduled and never ended", name)
}

// dump shows a history one event a line: id, previous id, time, type and
// the state or step it concerns.
func dump(events []sfn.HistoryEvent) string {
	var b strings.Builder
	for _, ev := range events {
		what := ""
		switch {
		case ev.StateEntered != nil:
			what = ev.StateEntered.Name
		case ev.StateExited != nil:
			what = ev.StateExited.Name
		case ev.TaskScheduled != nil:
			step, retry := stepOf(ev.TaskScheduled.Parameters)
			what = fmt.Sprintf("%s (retry %d)", step, retry)
		case ev.MapIterationStarted != nil:
			what = fmt.Sprint(ev.MapIterationStarted.Index)
		case ev.MapIterationSucceed != nil:
			what = fmt.Sprint(ev.MapIterationSucceed.Index)
		case ev.TaskFailed != nil:
			what = ev.TaskFailed.Error
		}
		fmt.Fprintf(&b, "%4d %4d %s %-28s %s\n", ev.ID, ev.PreviousEventID, ev.Timestamp.Format("15:04:05.000"), ev.Type, what)
	}
	return b.String()
}

func countSuffix(c map[string]int, suffix string) int {
	n := 0
	for k, v := range c {
		if strings.HasSuffix(k, suffix) {
			n += v
		}
	}
	return n
}

// verifyWorkers checks the worker log: every task ran at least once, no
// task ran that the histories do not know, every second callback was
// harmless. It logs how many tasks ran more than once.
func (h *harness) verifyWorkers() {
	t := h.t
	t.Helper()
	b, err := os.ReadFile(h.workerLog)
	require.NoError(t, err)
	runs := map[string]int{}               // by token
	tokens := make([]map[string]bool, h.n) // by execution
	functions := make([]int, h.n)
	var duplicates, callbackErrors []workerRecord
	for k, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		var r workerRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			// Only the very last line may be cut short, and only if a
			// write were torn, which O_APPEND writes of a line are not.
			require.NoError(t, err, "line %d of the worker log: %q", k+1, line)
		}
		require.True(t, r.Exec >= 0 && int(r.Exec) < h.n, "line %d of the worker log names execution %d", k+1, r.Exec)
		switch r.Kind {
		case "task":
			runs[r.Token]++
			if tokens[r.Exec] == nil {
				tokens[r.Exec] = map[string]bool{}
			}
			tokens[r.Exec][r.Token] = true
		case "function":
			functions[r.Exec]++
		case "duplicate":
			duplicates = append(duplicates, r)
		case "callback":
			callbackErrors = append(callbackErrors, r)
		default:
			t.Fatalf("line %d of the worker log has kind %q", k+1, r.Kind)
		}
	}
	taskRuns, again := 0, 0
	for _, n := range runs {
		taskRuns += n
		if n > 1 {
			again++
		}
	}
	fnRuns, fnAgain := 0, 0
	for i, n := range functions {
		require.GreaterOrEqual(t, n, 1, "the Score function never ran for %s", executionName(i))
		fnRuns += n
		fnAgain += n - 1
	}
	for i := range h.n {
		require.Len(t, tokens[i], h.expected[i].tasks, "task tokens the workers saw for %s: one per task scheduled", executionName(i))
	}
	for _, r := range duplicates {
		if r.Success {
			require.Empty(t, r.Err, "a second SendTaskSuccess for %s's %s step failed", executionName(int(r.Exec)), r.Step)
		} else {
			require.Contains(t, r.Err, sfn.CodeTaskTimedOut, "a second SendTaskFailure for %s's %s step", executionName(int(r.Exec)), r.Step)
		}
	}
	for _, r := range callbackErrors {
		require.False(t, r.Success, "a SendTaskSuccess for %s's %s step failed: %s", executionName(int(r.Exec)), r.Step, r.Err)
		require.Contains(t, r.Err, sfn.CodeTaskTimedOut, "a SendTaskFailure for %s's %s step", executionName(int(r.Exec)), r.Step)
	}
	t.Logf("workers ran %d queue tasks for %d tokens: %d tasks ran more than once (%d extra runs); the Score function ran %d times for %d executions (%d again); %d second callbacks, all harmless; %d first callbacks found their task closed",
		taskRuns, len(runs), again, taskRuns-len(runs), fnRuns, h.n, fnAgain, len(duplicates), len(callbackErrors))
}

// verifyChildLog fails on a panic or an error logged by any child.
func (h *harness) verifyChildLog() {
	t := h.t
	t.Helper()
	b, err := os.ReadFile(h.childLog)
	require.NoError(t, err)
	var bad []string
	resumed := 0
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.Contains(line, "panic") || strings.Contains(line, "level=ERROR") || strings.HasPrefix(line, "crash child:"):
			bad = append(bad, line)
		case strings.Contains(line, `msg="resumed execution"`):
			resumed++
		}
	}
	require.Empty(t, bad, "the children logged failures")
	t.Logf("%d child runs resumed executions %d times", h.childRuns, resumed)
}

// readOnlyStore is the parent's view of the store: it hides open
// executions from the parent's engine, so that its Start resumes none,
// and refuses every write.
type readOnlyStore struct{ engine.Store }

func (readOnlyStore) OpenExecutions(context.Context) ([]engine.ExecutionRecord, error) {
	return nil, nil
}

func (readOnlyStore) Commit(context.Context, []engine.Commit) error {
	return errors.New("the harness's store is read-only")
}

func (readOnlyStore) PutStateMachine(context.Context, engine.StateMachineRecord) error {
	return errors.New("the harness's store is read-only")
}

func (readOnlyStore) DeleteStateMachine(context.Context, string) error {
	return errors.New("the harness's store is read-only")
}

// TestDocumentedSettings keeps the Durability section of the local
// engine's guide in step with the harness's settings.
func TestDocumentedSettings(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "local-engine.md"))
	require.NoError(t, err)
	_, section, found := strings.Cut(string(b), "\n## Durability\n")
	require.True(t, found, "docs/local-engine.md has a Durability section")
	for _, name := range []string{killsEnv, executionsEnv, seedEnv, dumpDirEnv, "go test ./internal/enginecrash/", "TestResumeFanOutRightAfterFanOut"} {
		require.Contains(t, section, name)
	}
	require.Contains(t, section, fmt.Sprintf("# %d kills, %d executions", defaultKills, defaultExecs))
}
