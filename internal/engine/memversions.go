package engine

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/aiflow/aiflow/internal/sfn"
)

// memVersions is the MemoryStore's part for versions and aliases.
type memVersions struct {
	versions map[string]VersionRecord
	aliases  map[string]AliasRecord
}

// PutVersion stores a version. It returns a ValidationException *Error
// when the ARN is empty.
func (s *MemoryStore) PutVersion(_ context.Context, v VersionRecord) error {
	if v.ARN == "" {
		return errorf(sfn.CodeValidation, "version %d of %s: the ARN is empty", v.Version, v.StateMachineARN)
	}
	v.CreationDate = memTime(v.CreationDate)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vs.versions == nil {
		s.vs.versions = map[string]VersionRecord{}
	}
	s.vs.versions[v.ARN] = v
	return nil
}

// DeleteVersion removes a version; a missing one is no error.
func (s *MemoryStore) DeleteVersion(_ context.Context, arn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.vs.versions, arn)
	return nil
}

// Versions returns every version in ARN order.
func (s *MemoryStore) Versions(context.Context) ([]VersionRecord, error) {
	s.mu.RLock()
	out := slices.Collect(maps.Values(s.vs.versions))
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b VersionRecord) int { return strings.Compare(a.ARN, b.ARN) })
	return out, nil
}

// PutAlias creates or replaces an alias. It returns a
// ValidationException *Error when the ARN is empty.
func (s *MemoryStore) PutAlias(_ context.Context, a AliasRecord) error {
	if a.ARN == "" {
		return errorf(sfn.CodeValidation, "alias %q of %s: the ARN is empty", a.Name, a.StateMachineARN)
	}
	a.CreationDate, a.UpdateDate = memTime(a.CreationDate), memTime(a.UpdateDate)
	a.Routing = slices.Clone(a.Routing)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vs.aliases == nil {
		s.vs.aliases = map[string]AliasRecord{}
	}
	s.vs.aliases[a.ARN] = a
	return nil
}

// DeleteAlias removes an alias; a missing one is no error.
func (s *MemoryStore) DeleteAlias(_ context.Context, arn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.vs.aliases, arn)
	return nil
}

// Aliases returns every alias in ARN order.
func (s *MemoryStore) Aliases(context.Context) ([]AliasRecord, error) {
	s.mu.RLock()
	out := make([]AliasRecord, 0, len(s.vs.aliases))
	for _, a := range s.vs.aliases {
		a.Routing = slices.Clone(a.Routing)
		out = append(out, a)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b AliasRecord) int { return strings.Compare(a.ARN, b.ARN) })
	return out, nil
}
