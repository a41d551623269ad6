package engine

import (
	"context"
	"sort"

	"github.com/aiflow/aiflow/internal/sfn"
)

var _ ActivityStore = (*MemoryStore)(nil)

// PutActivity creates or replaces an activity.
func (s *MemoryStore) PutActivity(_ context.Context, a ActivityRecord) error {
	if a.ARN == "" {
		return errorf(sfn.CodeValidation, "activity %q: the ARN is empty", a.Name)
	}
	a.CreationDate = memTime(a.CreationDate)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.activities == nil {
		s.activities = map[string]ActivityRecord{}
	}
	s.activities[a.ARN] = a
	return nil
}

// DeleteActivity removes an activity.
func (s *MemoryStore) DeleteActivity(_ context.Context, arn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.activities, arn)
	return nil
}

// Activities returns every activity in ARN order.
func (s *MemoryStore) Activities(context.Context) ([]ActivityRecord, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]ActivityRecord, 0, len(s.activities))
	for _, a := range s.activities {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ARN < out[j].ARN })
	return out, nil
}
