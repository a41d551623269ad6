package engine

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aiflow/aiflow/internal/sfn"
)

// ActivityRecord is an activity as a store keeps it.
type ActivityRecord struct {
	ARN          string
	Name         string
	CreationDate time.Time
}

// ActivityStore is what a Store implements to keep activities across
// restarts. A Store without it keeps them only while the engine runs.
type ActivityStore interface {
	// PutActivity creates an activity, or replaces the one of its ARN.
	PutActivity(ctx context.Context, a ActivityRecord) error
	// DeleteActivity removes an activity; a missing one is no error.
	DeleteActivity(ctx context.Context, arn string) error
	// Activities returns every activity.
	Activities(ctx context.Context) ([]ActivityRecord, error)
}

var activityARN = regexp.MustCompile(`^arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):activity:([^:]+)$`)

// isActivityARN reports whether a Task's Resource names an activity.
func isActivityARN(res string) bool { return activityARN.MatchString(res) }

// activityBoard holds the engine's activities and the tasks waiting for a
// worker, by activity ARN, oldest first.
type activityBoard struct {
	mu      sync.Mutex
	byARN   map[string]ActivityRecord
	pending map[string][]pendingActivity
	// wake is closed, and replaced, when a task is offered.
	wake map[string]chan struct{}
}

// pendingActivity is a scheduled activity task no worker has taken.
type pendingActivity struct {
	execution, token, input string
}

func (b *activityBoard) init() {
	if b.byARN == nil {
		b.byARN = map[string]ActivityRecord{}
		b.pending = map[string][]pendingActivity{}
		b.wake = map[string]chan struct{}{}
	}
}

func (b *activityBoard) has(arn string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.byARN[arn]
	return ok
}

// loadActivities reads the activities a durable store keeps.
func (e *Engine) loadActivities(ctx context.Context) error {
	as, ok := e.store.(ActivityStore)
	if !ok {
		return nil
	}
	recs, err := as.Activities(ctx)
	if err != nil {
		return fmt.Errorf("loading activities: %w", err)
	}
	b := &e.activities
	b.mu.Lock()
	defer b.mu.Unlock()
	b.init()
	for _, r := range recs {
		b.byARN[r.ARN] = r
	}
	return nil
}

func (e *Engine) activityARNOf(name string) string {
	return "arn:aws:states:" + e.region + ":" + e.account + ":activity:" + name
}

// CreateActivity creates an activity; creating one that exists returns
// it, as Step Functions does.
func (e *Engine) CreateActivity(ctx context.Context, in sfn.CreateActivityInput) (sfn.CreateActivityOutput, error) {
	if err := e.checkOpen(); err != nil {
		return sfn.CreateActivityOutput{}, err
	}
	if err := checkName("activity", in.Name); err != nil {
		return sfn.CreateActivityOutput{}, err
	}
	arn := e.activityARNOf(in.Name)
	b := &e.activities
	b.mu.Lock()
	b.init()
	if a, ok := b.byARN[arn]; ok {
		b.mu.Unlock()
		return sfn.CreateActivityOutput{ActivityARN: a.ARN, CreationDate: a.CreationDate}, nil
	}
	b.mu.Unlock()
	rec := ActivityRecord{ARN: arn, Name: in.Name, CreationDate: e.now().Truncate(time.Millisecond)}
	if as, ok := e.store.(ActivityStore); ok {
		if err := as.PutActivity(ctx, rec); err != nil {
			return sfn.CreateActivityOutput{}, e.storeError("CreateActivity", err)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if a, ok := b.byARN[arn]; ok { // created meanwhile
		return sfn.CreateActivityOutput{ActivityARN: a.ARN, CreationDate: a.CreationDate}, nil
	}
	b.byARN[arn] = rec
	return sfn.CreateActivityOutput{ActivityARN: arn, CreationDate: rec.CreationDate}, nil
}

func checkActivityARN(arn string) error {
	if !activityARN.MatchString(arn) {
		return errorf(sfn.CodeInvalidArn, "invalid activity ARN %q", arn)
	}
	return nil
}

// DescribeActivity returns an activity.
func (e *Engine) DescribeActivity(ctx context.Context, arn string) (sfn.Activity, error) {
	if err := e.checkOpen(); err != nil {
		return sfn.Activity{}, err
	}
	if err := checkActivityARN(arn); err != nil {
		return sfn.Activity{}, err
	}
	b := &e.activities
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.byARN[arn]
	if !ok {
		return sfn.Activity{}, errorf(sfn.CodeActivityDoesNotExist, "activity does not exist: %s", arn)
	}
	return sfn.Activity{ActivityARN: a.ARN, Name: a.Name, CreationDate: a.CreationDate}, nil
}

// ListActivities lists activities by name; NextToken is the last name of
// the page.
func (e *Engine) ListActivities(ctx context.Context, in sfn.ListActivitiesInput) (sfn.ListActivitiesOutput, error) {
	if err := e.checkOpen(); err != nil {
		return sfn.ListActivitiesOutput{}, err
	}
	limit, err := pageSize(in.MaxResults)
	if err != nil {
		return sfn.ListActivitiesOutput{}, err
	}
	b := &e.activities
	b.mu.Lock()
	all := make([]ActivityRecord, 0, len(b.byARN))
	for _, a := range b.byARN {
		all = append(all, a)
	}
	b.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	start := 0
	if in.NextToken != "" {
		start = sort.Search(len(all), func(i int) bool { return all[i].Name > in.NextToken })
	}
	out := sfn.ListActivitiesOutput{Activities: []sfn.Activity{}}
	for i := start; i < len(all) && len(out.Activities) < limit; i++ {
		out.Activities = append(out.Activities, sfn.Activity{ActivityARN: all[i].ARN, Name: all[i].Name, CreationDate: all[i].CreationDate})
	}
	if n := len(out.Activities); n == limit && start+n < len(all) {
		out.NextToken = out.Activities[n-1].Name
	}
	return out, nil
}

// DeleteActivity deletes an activity. Tasks already scheduled on it stay
// scheduled; new ones fail to schedule.
func (e *Engine) DeleteActivity(ctx context.Context, arn string) error {
	if err := e.checkOpen(); err != nil {
		return err
	}
	if err := checkActivityARN(arn); err != nil {
		return err
	}
	if as, ok := e.store.(ActivityStore); ok {
		if err := as.DeleteActivity(ctx, arn); err != nil {
			return e.storeError("DeleteActivity", err)
		}
	}
	b := &e.activities
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.byARN, arn)
	return nil
}

// offerActivity puts a scheduled activity task where GetActivityTask
// finds it.
func (e *Engine) offerActivity(x *execution, token string, call *taskCall) {
	input := call.paramsJSON
	if input == "" {
		input = text(call.Params)
	}
	b := &e.activities
	b.mu.Lock()
	defer b.mu.Unlock()
	b.init()
	b.pending[call.Resource] = append(b.pending[call.Resource], pendingActivity{execution: x.rec.ARN, token: token, input: input})
	if ch, ok := b.wake[call.Resource]; ok {
		close(ch)
		delete(b.wake, call.Resource)
	}
}

// GetActivityTask hands the oldest task of an activity to a worker,
// waiting up to sfn.MaxActivityTaskWait for one; the task's
// ActivityStarted event names the worker. With no task it returns an
// empty output.
func (e *Engine) GetActivityTask(ctx context.Context, in sfn.GetActivityTaskInput) (sfn.GetActivityTaskOutput, error) {
	if err := e.checkOpen(); err != nil {
		return sfn.GetActivityTaskOutput{}, err
	}
	if err := checkActivityARN(in.ActivityARN); err != nil {
		return sfn.GetActivityTaskOutput{}, err
	}
	if utf8.RuneCountInString(in.WorkerName) > 80 {
		return sfn.GetActivityTaskOutput{}, errorf(sfn.CodeValidation, "workerName is limited to 80 characters")
	}
	expired := make(chan struct{})
	stop := e.clock.AfterFunc(sfn.MaxActivityTaskWait, func() { close(expired) })
	defer stop()
	b := &e.activities
	for {
		b.mu.Lock()
		b.init()
		if _, ok := b.byARN[in.ActivityARN]; !ok {
			b.mu.Unlock()
			return sfn.GetActivityTaskOutput{}, errorf(sfn.CodeActivityDoesNotExist, "activity does not exist: %s", in.ActivityARN)
		}
		if q := b.pending[in.ActivityARN]; len(q) > 0 {
			p := q[0]
			b.pending[in.ActivityARN] = q[1:]
			b.mu.Unlock()
			ok, err := e.startActivity(ctx, p, in.WorkerName)
			if err != nil {
				return sfn.GetActivityTaskOutput{}, err
			}
			if ok {
				return sfn.GetActivityTaskOutput{TaskToken: p.token, Input: p.input}, nil
			}
			continue
		}
		ch, ok := b.wake[in.ActivityARN]
		if !ok {
			ch = make(chan struct{})
			b.wake[in.ActivityARN] = ch
		}
		b.mu.Unlock()
		select {
		case <-ch:
		case <-expired:
			return sfn.GetActivityTaskOutput{}, nil
		case <-ctx.Done():
			return sfn.GetActivityTaskOutput{}, ctx.Err()
		case <-e.closing:
			return sfn.GetActivityTaskOutput{}, errorf(sfn.CodeServiceUnavailable, "the engine is closing")
		}
	}
}

// startActivity records that a worker took an activity task, if the task
// still waits for one; ok is false for a task that ended meanwhile.
func (e *Engine) startActivity(ctx context.Context, p pendingActivity, worker string) (ok bool, err error) {
	e.mu.Lock()
	x := e.execs[p.execution]
	e.mu.Unlock()
	if x == nil {
		return false, nil
	}
	x.mu.Lock()
	id, found := x.tokens.get(p.token)
	t := x.threads[id]
	if !found || x.closed || t == nil || t.Phase != phaseTask || t.Task == nil || t.Task.Kind != kindActivity || t.Token != p.token {
		x.mu.Unlock()
		return false, nil
	}
	x.event(t, "ActivityStarted", sfn.HistoryEvent{ActivityStarted: &sfn.ActivityStartedDetails{WorkerName: worker}})
	done := make(chan error, 1)
	x.flush(done)
	x.mu.Unlock()
	if err := e.awaitWrite(ctx, done); err != nil {
		return false, err
	}
	return true, nil
}
