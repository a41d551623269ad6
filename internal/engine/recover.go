package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// resume rebuilds an open execution from its history and carries on: a
// task in flight is dispatched again (its worker may have run it; at
// least once is the promise), timers are armed for what is left of them.
func (e *Engine) resume(ctx context.Context, rec ExecutionRecord) error {
	raws, err := e.store.Batches(ctx, rec.ARN)
	if err != nil {
		return err
	}
	if len(raws) == 0 {
		return fmt.Errorf("no history")
	}
	x := e.newExecution(rec)
	x.written.Store(&rec)
	x.seq = int64(len(raws))
	type tracking struct {
		info  spawnInfo
		ended []childEnd
	}
	spawned := map[int]*tracking{}
	for i, raw := range raws {
		var b batch
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&b); err != nil {
			return fmt.Errorf("decoding batch %d: %w", i+1, err)
		}
		if b.Start != nil {
			if x.definition, x.roleARN, err = e.startDefinition(ctx, rec.StateMachineARN, b.Start); err != nil {
				return err
			}
		}
		if n := len(b.Events); n > 0 {
			x.lastEventID = b.Events[n-1].ID
		}
		for id, t := range b.Threads {
			if t == nil {
				delete(x.threads, id)
				continue
			}
			x.threads[id] = t
			x.nextThread = max(x.nextThread, id)
		}
		for id, info := range b.Spawn {
			spawned[id] = &tracking{info: info}
		}
		for _, end := range b.Ended {
			if tr := spawned[end.Parent]; tr != nil && tr.info.Gen == end.Gen {
				tr.ended = append(tr.ended, end)
			}
		}
		for _, tok := range b.Succeeded {
			x.succeeded.set(tok, true)
		}
		for _, tok := range b.Spent {
			x.spent.set(tok, true)
		}
		if b.Redrive != nil {
			x.redrives = append(x.redrives, *b.Redrive)
		}
		for arn, r := range b.MapRuns {
			if x.mapRuns == nil {
				x.mapRuns = map[string]*mapRunRecord{}
			}
			x.mapRuns[arn] = r
		}
	}
	m, err := newMachine(StateMachineRecord{Definition: x.definition})
	if err != nil {
		return fmt.Errorf("parsing its definition: %w", err)
	}
	x.sm = m.sm
	if x.smName, err = checkStateMachineARN(x.rec.StateMachineARN); err != nil {
		return err
	}
	if x.input, err = decodeJSON(x.rec.Input); err != nil {
		return fmt.Errorf("decoding its input: %w", err)
	}
	ids := make([]int, 0, len(x.threads))
	for id, t := range x.threads {
		if t.states, err = x.scopeStates(t.Scope); err != nil {
			return fmt.Errorf("thread %d: %w", id, err)
		}
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		t := x.threads[id]
		if t.Phase != phaseChildren {
			continue
		}
		tr := spawned[id]
		if tr == nil {
			return fmt.Errorf("thread %d waits for children it never started", id)
		}
		st := t.states[t.State]
		k := &kids{items: tr.info.Items, results: make([]any, tr.info.Slots), done: make([]bool, tr.info.Slots)}
		if len(st.Branches) == 0 {
			env := x.env(t, x.contextObject(t, "", nil))
			k.tolerated = x.mapTolerance(t, st, env, tr.info.Slots)
		}
		for _, end := range tr.ended {
			if end.Index < len(k.done) {
				k.done[end.Index] = true
				k.next = max(k.next, end.Index+1)
				if end.Failed {
					k.failed++
					k.results[end.Index] = errorOutput(end.Error, end.Cause)
				} else {
					k.succeeded++
					k.results[end.Index] = end.Output
				}
			}
		}
		for _, c := range x.threads {
			if c.Parent == id {
				k.running++
				k.next = max(k.next, c.Index+1)
			}
		}
		t.kids = k
	}

	x.mu.Lock()
	defer x.mu.Unlock()
	e.mu.Lock()
	e.execs[x.rec.ARN] = x
	e.mu.Unlock()
	x.armTTL()
	var effects []func()
	for _, id := range ids {
		t := x.threads[id]
		if t == nil {
			continue
		}
		switch t.Phase {
		case phaseTask:
			if t.Token != "" {
				x.tokens.set(t.Token, id)
			}
			x.armTask(t)
			tid, gen, token, call := t.ID, t.Gen, t.Token, t.Task
			effects = append(effects, func() { e.dispatch(x, tid, gen, token, call) })
		case phaseWait, phaseRetry:
			x.armWait(t)
		case phaseChildren:
			x.pump(t)
		}
	}
	x.flush(nil)
	if len(effects) > 0 {
		e.effects.push(effects)
	}
	e.log.Info("resumed execution", "execution", x.rec.ARN, "threads", len(x.threads), "age", e.now().Sub(x.rec.StartDate).Round(time.Second))
	return nil
}
