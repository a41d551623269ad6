package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/sfn"
)

// A distributed Map state (ItemProcessor.ProcessorConfig.Mode DISTRIBUTED)
// runs its items as the threads of its execution, as an inline one does,
// and is also a Map Run: MapRunStarted and MapRunSucceeded or MapRunFailed
// in the history, DescribeMapRun, ListMapRuns and UpdateMapRun. A Map
// Run's record travels in the execution's batches, so that a restarted
// engine, and one that only reads the store, describe it.

// mapRunRecord is a Map Run as the execution keeps it. The counts are
// those at its end; while it runs they come from the Map thread.
type mapRunRecord struct {
	ARN       string    `json:"arn"`
	Start     time.Time `json:"start"`
	Stop      time.Time `json:"stop,omitzero"`
	Status    string    `json:"status"`
	MaxConc   int       `json:"maxConcurrency"`
	TolCount  int       `json:"toleratedFailureCount"` // -1: not set
	TolPct    float64   `json:"toleratedFailurePercentage"`
	Total     int       `json:"total"`
	Succeeded int       `json:"succeeded,omitempty"`
	Failed    int       `json:"failed,omitempty"`
	Aborted   int       `json:"aborted,omitempty"`
}

// isDistributed reports whether a Map state runs in DISTRIBUTED mode.
func isDistributed(st *asl.State) bool {
	p := st.ItemProcessor
	return st.Type == asl.TypeMap && p != nil && p.ProcessorConfig != nil && p.ProcessorConfig.Mode == asl.ModeDistributed
}

// mapRunARN names a Map Run: mapRun:<state machine>/<Map state's label or
// name>:<execution name>-<n>, n counting the execution's Map Runs. Names
// hold no ':' or '/', so the ARN leads back to its execution.
func (x *execution) mapRunARN(st *asl.State, name string, n int) string {
	label := st.Label
	if label == "" {
		label = name
	}
	return fmt.Sprintf("arn:aws:states:%s:%s:mapRun:%s/%s:%s-%d", x.e.region, x.e.account, x.smName, label, x.rec.Name, n)
}

// parseMapRunARN returns the execution ARN of a Map Run ARN.
func (e *Engine) parseMapRunARN(arn string) (string, error) {
	bad := errorf(sfn.CodeInvalidArn, "invalid Map Run ARN %q", arn)
	prefix := "arn:aws:states:" + e.region + ":" + e.account + ":mapRun:"
	rest, ok := strings.CutPrefix(arn, prefix)
	if !ok {
		return "", bad
	}
	sm, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return "", bad
	}
	_, id, ok := strings.Cut(rest, ":")
	i := strings.LastIndexByte(id, '-')
	if !ok || sm == "" || i <= 0 {
		return "", bad
	}
	if _, err := strconv.Atoi(id[i+1:]); err != nil {
		return "", bad
	}
	return e.executionARN(sm, id[:i]), nil
}

// startMapRun makes thread t's Map state a Map Run.
func (x *execution) startMapRun(t *thread, st *asl.State, eff any, env asl.Env, total int) {
	count, pct, _ := x.toleranceValues(t, st, eff, env) // already resolved once by runMap
	maxConc := 0
	if st.MaxConcurrency != nil {
		maxConc = *st.MaxConcurrency
	} else if st.MaxConcurrencyPath != "" {
		v, _ := lookupPath(st.MaxConcurrencyPath, eff, env)
		if n, ok := asInt(v); ok {
			maxConc = int(n)
		}
	}
	if x.mapRuns == nil {
		x.mapRuns = map[string]*mapRunRecord{}
	}
	r := &mapRunRecord{ARN: x.mapRunARN(st, t.State, len(x.mapRuns)+1), Start: x.now(), Status: sfn.MapRunRunning,
		MaxConc: maxConc, TolCount: count, TolPct: pct, Total: total}
	x.mapRuns[r.ARN] = r
	t.MapRun = r.ARN
	x.mapRunChanged(r)
	x.event(t, "MapRunStarted", sfn.HistoryEvent{MapRunStarted: &sfn.MapRunStartedDetails{MapRunARN: r.ARN}})
}

// endMapRun closes thread p's Map Run, if it has one, before the Map
// state's own end events.
func (x *execution) endMapRun(p *thread, f *failure) {
	r := x.mapRuns[p.MapRun]
	p.MapRun = ""
	if r == nil {
		return
	}
	if k := p.kids; k != nil {
		r.Succeeded, r.Failed = k.succeeded, k.failed
		r.Aborted = r.Total - k.succeeded - k.failed
	}
	r.Stop = x.now()
	if f == nil {
		r.Status = sfn.MapRunSucceeded
		x.event(p, "MapRunSucceeded", sfn.HistoryEvent{})
	} else {
		r.Status = sfn.MapRunFailed
		x.event(p, "MapRunFailed", sfn.HistoryEvent{MapRunFailed: &sfn.FailureDetails{Error: f.Error, Cause: f.Cause}})
	}
	x.mapRunChanged(r)
}

func (x *execution) mapRunChanged(r *mapRunRecord) {
	b := x.batch()
	if b.MapRuns == nil {
		b.MapRuns = map[string]*mapRunRecord{}
	}
	cp := *r
	b.MapRuns[r.ARN] = &cp
}

// mapTolerance is a Map thread's tolerance after a restart: its Map
// Run's (UpdateMapRun may have changed it), or its state's.
func (x *execution) mapTolerance(t *thread, st *asl.State, env asl.Env, total int) func(int) bool {
	if r := x.mapRuns[t.MapRun]; r != nil {
		return toleranceFunc(r.TolCount, r.TolPct, total)
	}
	tol, _ := x.tolerance(t, st, t.Effective, env, total)
	return tol
}

// batchItems groups a Map state's items as its ItemBatcher says: each
// batch is {"BatchInput": ..., "Items": [...]}, the items through
// ItemSelector first, at most MaxItemsPerBatch items and
// MaxInputBytesPerBatch bytes (256 KiB when neither is set).
func (x *execution) batchItems(t *thread, st *asl.State, eff any, env asl.Env, items []any) ([]any, *failure) {
	var cfg struct {
		MaxItemsPerBatch          *int            `json:"MaxItemsPerBatch"`
		MaxItemsPerBatchPath      string          `json:"MaxItemsPerBatchPath"`
		MaxInputBytesPerBatch     *int            `json:"MaxInputBytesPerBatch"`
		MaxInputBytesPerBatchPath string          `json:"MaxInputBytesPerBatchPath"`
		BatchInput                json.RawMessage `json:"BatchInput"`
	}
	if err := json.Unmarshal(st.ItemBatcher, &cfg); err != nil {
		return nil, &failure{Error: asl.ErrorRuntime, Cause: "ItemBatcher: " + err.Error()}
	}
	limit := func(n *int, path, field string, def int) (int, *failure) {
		if n != nil {
			return *n, nil
		}
		if path == "" {
			return def, nil
		}
		v, err := lookupPath(path, eff, env)
		m, ok := asInt(v)
		if err != nil || !ok || m <= 0 {
			return 0, &failure{Error: asl.ErrorRuntime, Cause: fmt.Sprintf("ItemBatcher.%s %s does not select a positive integer", field, path)}
		}
		return int(m), nil
	}
	maxItems, f := limit(cfg.MaxItemsPerBatch, cfg.MaxItemsPerBatchPath, "MaxItemsPerBatchPath", 0)
	if f != nil {
		return nil, f
	}
	maxBytes, f := limit(cfg.MaxInputBytesPerBatch, cfg.MaxInputBytesPerBatchPath, "MaxInputBytesPerBatchPath", sfn.MaxPayloadBytes)
	if f != nil {
		return nil, f
	}
	var batchInput any
	if cfg.BatchInput != nil {
		v, err := asl.ApplyTemplate(cfg.BatchInput, eff, env, x.intrinsic)
		if err != nil {
			return nil, new(failureOf(err))
		}
		batchInput = v
	}
	var batches []any
	var cur []any
	size := 0
	flush := func() {
		if len(cur) == 0 {
			return
		}
		b := asl.NewObject(2)
		if cfg.BatchInput != nil {
			b.Set("BatchInput", batchInput)
		}
		b.Set("Items", cur)
		batches = append(batches, b)
		cur, size = nil, 0
	}
	for i, item := range items {
		ctx := x.contextObject(t, "", &[2]any{jsonInt(i), item})
		v, err := asl.ProcessItem(st, eff, item, x.env(t, ctx), x.intrinsic)
		if err != nil {
			return nil, new(failureOf(err))
		}
		n := len(text(v)) + 1
		if len(cur) > 0 && (maxItems > 0 && len(cur) >= maxItems || size+n > maxBytes) {
			flush()
		}
		cur = append(cur, v)
		size += n
	}
	flush()
	if batches == nil {
		batches = []any{}
	}
	return batches, nil
}

// mapRunOf returns the record of a Map Run and, while it runs in this
// engine, its live counts; it reads the store for an execution this
// engine does not run.
func (e *Engine) mapRunOf(ctx context.Context, arn string) (sfn.MapRun, error) {
	execARN, err := e.parseMapRunARN(arn)
	if err != nil {
		return sfn.MapRun{}, err
	}
	runs, err := e.mapRunsOf(ctx, execARN)
	if err != nil {
		return sfn.MapRun{}, err
	}
	for _, r := range runs {
		if r.MapRunARN == arn {
			return r, nil
		}
	}
	return sfn.MapRun{}, errorf(sfn.CodeResourceNotFound, "Map Run does not exist: %s", arn)
}

// mapRunsOf returns an execution's Map Runs, oldest first.
func (e *Engine) mapRunsOf(ctx context.Context, execARN string) ([]sfn.MapRun, error) {
	e.mu.Lock()
	x := e.execs[execARN]
	e.mu.Unlock()
	var recs []mapRunRecord
	var stopped time.Time
	closed := true
	live := map[string]*kids{}
	if x != nil {
		x.mu.Lock()
		for _, r := range x.mapRuns {
			recs = append(recs, *r)
		}
		for _, t := range x.threads {
			if t.MapRun != "" && t.kids != nil {
				live[t.MapRun] = t.kids
			}
		}
		closed = x.closed
		if closed {
			stopped = x.rec.StopDate
			live = map[string]*kids{}
		}
		x.mu.Unlock()
	} else {
		raws, err := e.store.Batches(ctx, execARN)
		if err != nil {
			return nil, e.storeError("reading Map Runs", err)
		}
		last := map[string]mapRunRecord{}
		for _, raw := range raws {
			var b struct {
				MapRuns map[string]mapRunRecord `json:"mapRuns"`
			}
			if err := json.Unmarshal(raw, &b); err != nil {
				return nil, fmt.Errorf("reading the Map Runs of %s: %w", execARN, err)
			}
			for k, v := range b.MapRuns {
				last[k] = v
			}
		}
		for _, r := range last {
			recs = append(recs, r)
		}
		if rec, ok, err := e.store.Execution(ctx, execARN); err == nil && ok {
			stopped = rec.StopDate
		}
	}
	sort.Slice(recs, func(i, j int) bool {
		return recs[i].Start.Before(recs[j].Start) || recs[i].Start.Equal(recs[j].Start) && recs[i].ARN < recs[j].ARN
	})
	out := make([]sfn.MapRun, 0, len(recs))
	for _, r := range recs {
		m := sfn.MapRun{MapRunARN: r.ARN, ExecutionARN: execARN, Status: r.Status, StartDate: r.Start, StopDate: r.Stop,
			MaxConcurrency: r.MaxConc, ToleratedFailureCount: max(r.TolCount, 0), ToleratedFailurePercentage: max(r.TolPct, 0)}
		c := sfn.MapRunCounts{Total: r.Total, Succeeded: r.Succeeded, Failed: r.Failed, Aborted: r.Aborted}
		if r.Status == sfn.MapRunRunning {
			if k, ok := live[r.ARN]; ok {
				c.Succeeded, c.Failed, c.Running = k.succeeded, k.failed, k.running
				c.Pending = r.Total - k.succeeded - k.failed - k.running
			} else if closed {
				// The execution ended (stopped, timed out, failed) while the
				// Map Run ran.
				m.Status, m.StopDate = sfn.MapRunAborted, stopped
				c.Aborted = r.Total
			}
		}
		m.ItemCounts, m.ExecutionCounts = c, c
		out = append(out, m)
	}
	return out, nil
}

// DescribeMapRun describes a Map Run.
func (e *Engine) DescribeMapRun(ctx context.Context, arn string) (sfn.MapRun, error) {
	if err := e.checkOpen(); err != nil {
		return sfn.MapRun{}, err
	}
	return e.mapRunOf(ctx, arn)
}

// ListMapRuns lists the Map Runs of an execution, oldest first;
// NextToken is the index of the next page.
func (e *Engine) ListMapRuns(ctx context.Context, in sfn.ListMapRunsInput) (sfn.ListMapRunsOutput, error) {
	if err := e.checkOpen(); err != nil {
		return sfn.ListMapRunsOutput{}, err
	}
	if err := checkExecutionARN(in.ExecutionARN); err != nil {
		return sfn.ListMapRunsOutput{}, err
	}
	limit, err := pageSize(in.MaxResults)
	if err != nil {
		return sfn.ListMapRunsOutput{}, err
	}
	if _, err := e.DescribeExecution(ctx, in.ExecutionARN); err != nil {
		return sfn.ListMapRunsOutput{}, err
	}
	runs, err := e.mapRunsOf(ctx, in.ExecutionARN)
	if err != nil {
		return sfn.ListMapRunsOutput{}, err
	}
	start := 0
	if in.NextToken != "" {
		if start, err = strconv.Atoi(in.NextToken); err != nil || start < 0 || start > len(runs) {
			return sfn.ListMapRunsOutput{}, errorf(sfn.CodeInvalidToken, "invalid nextToken %q", in.NextToken)
		}
	}
	smName, _ := checkStateMachineARN(e.stateMachineARNOfExecution(in.ExecutionARN))
	out := sfn.ListMapRunsOutput{MapRuns: []sfn.MapRunListItem{}}
	for i := start; i < len(runs) && len(out.MapRuns) < limit; i++ {
		r := runs[i]
		out.MapRuns = append(out.MapRuns, sfn.MapRunListItem{ExecutionARN: r.ExecutionARN, MapRunARN: r.MapRunARN,
			StateMachineARN: e.stateMachineARN(smName), StartDate: r.StartDate, StopDate: r.StopDate})
	}
	if end := start + len(out.MapRuns); end < len(runs) {
		out.NextToken = strconv.Itoa(end)
	}
	return out, nil
}

// stateMachineARNOfExecution is the state machine ARN an execution ARN
// names.
func (e *Engine) stateMachineARNOfExecution(execARN string) string {
	m := executionARN.FindStringSubmatch(execARN)
	if m == nil {
		return ""
	}
	return e.stateMachineARN(m[4])
}

// UpdateMapRun changes a running Map Run's maximum concurrency (0: no
// limit) or tolerated failures; the Map state starts more items at once
// when it may.
func (e *Engine) UpdateMapRun(ctx context.Context, in sfn.UpdateMapRunInput) error {
	if err := e.checkOpen(); err != nil {
		return err
	}
	if in.MaxConcurrency == nil && in.ToleratedFailureCount == nil && in.ToleratedFailurePercentage == nil {
		return errorf(sfn.CodeValidation, "UpdateMapRun needs maxConcurrency, toleratedFailureCount or toleratedFailurePercentage")
	}
	if n := in.MaxConcurrency; n != nil && *n < 0 {
		return errorf(sfn.CodeValidation, "maxConcurrency must not be negative")
	}
	if n := in.ToleratedFailureCount; n != nil && *n < 0 {
		return errorf(sfn.CodeValidation, "toleratedFailureCount must not be negative")
	}
	if p := in.ToleratedFailurePercentage; p != nil && (*p < 0 || *p > 100) {
		return errorf(sfn.CodeValidation, "toleratedFailurePercentage must be from 0 to 100")
	}
	execARN, err := e.parseMapRunARN(in.MapRunARN)
	if err != nil {
		return err
	}
	e.mu.Lock()
	x := e.execs[execARN]
	e.mu.Unlock()
	if x == nil {
		if _, err := e.mapRunOf(ctx, in.MapRunARN); err != nil {
			return err
		}
		return errorf(sfn.CodeValidation, "the Map Run %s is not running", in.MapRunARN)
	}
	x.mu.Lock()
	r := x.mapRuns[in.MapRunARN]
	var t *thread
	for _, th := range x.threads {
		if th.MapRun == in.MapRunARN {
			t = th
		}
	}
	switch {
	case r == nil:
		x.mu.Unlock()
		return errorf(sfn.CodeResourceNotFound, "Map Run does not exist: %s", in.MapRunARN)
	case t == nil || t.kids == nil || x.closed:
		x.mu.Unlock()
		return errorf(sfn.CodeValidation, "the Map Run %s is not running", in.MapRunARN)
	}
	if n := in.MaxConcurrency; n != nil {
		r.MaxConc = *n
		t.MaxConc = *n
		if *n == 0 {
			t.MaxConc = max(len(t.kids.results), 1)
		}
	}
	if n := in.ToleratedFailureCount; n != nil {
		r.TolCount = *n
	}
	if p := in.ToleratedFailurePercentage; p != nil {
		r.TolPct = *p
	}
	t.kids.tolerated = toleranceFunc(r.TolCount, r.TolPct, len(t.kids.results))
	x.mapRunChanged(r)
	x.dirty(t)
	x.pump(t)
	done := make(chan error, 1)
	x.flush(done)
	x.mu.Unlock()
	return e.awaitWrite(ctx, done)
}

// refuseItemReaders refuses the Map states the engine cannot run: an
// ItemReader reads the items from S3 (or another service) and a
// ResultWriter writes the results there, which the local engine does not
// reach. It names every such field.
func refuseItemReaders(states map[string]*asl.State, path string, problems *[]string) {
	names := make([]string, 0, len(states))
	for n := range states {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		st := states[n]
		if st == nil {
			continue
		}
		at := path + "States." + n
		if st.ItemReader != nil {
			*problems = append(*problems, at+".ItemReader: the local engine cannot read a Map state's items from another service (S3); pass them in the state's input with ItemsPath")
		}
		if st.ResultWriter != nil {
			*problems = append(*problems, at+".ResultWriter: the local engine cannot write a Map state's results to another service (S3)")
		}
		for i, b := range st.Branches {
			refuseItemReaders(b.States, fmt.Sprintf("%s.Branches[%d].", at, i), problems)
		}
		if p := processor(st); p != nil {
			refuseItemReaders(p.States, at+".ItemProcessor.", problems)
		}
	}
}

// checkRunnable refuses a valid definition the engine cannot run.
func checkRunnable(sm *asl.StateMachine) error {
	var problems []string
	refuseItemReaders(sm.States, "", &problems)
	if len(problems) > 0 {
		return errorf(sfn.CodeInvalidDefinition, "%s", strings.Join(problems, "; "))
	}
	return nil
}
