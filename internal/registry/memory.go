package registry

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aiflow/aiflow/internal/semver"
)

// MemoryStore is a Store in memory, for `aiflow run` and tests: it keeps
// nothing across restarts. It is safe for concurrent use.
type MemoryStore struct {
	mu    sync.Mutex
	names map[string]*memoryName
}

type memoryName struct {
	revision int64
	services map[string]Service // by version, without instances
	// instances by id
	instances map[string]Instance
	events    []Event
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{names: map[string]*memoryName{}}
}

// Load returns what is registered under name.
func (m *MemoryStore) Load(_ context.Context, name string) (State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := State{Name: name}
	n := m.names[name]
	if n == nil {
		return st, nil
	}
	st.Revision = n.revision
	st.Services = n.list(ListFilter{})
	return st, nil
}

// list returns the name's versions f selects, with their instances,
// copied.
func (n *memoryName) list(f ListFilter) []Service {
	var out []Service
	for _, s := range n.services {
		if !f.Matches(s) {
			continue
		}
		s = cloneService(s)
		s.Instances = nil
		for _, in := range n.instances {
			if in.Version == s.Version {
				s.Instances = append(s.Instances, cloneInstance(in))
			}
		}
		slices.SortFunc(s.Instances, func(a, b Instance) int { return strings.Compare(a.ID, b.ID) })
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Service) int { return semver.Compare(a.Version, b.Version) })
	return out
}

// Save applies c if the name is still at c.Revision.
func (m *MemoryStore) Save(_ context.Context, c Change) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.names[c.Name]
	if n == nil {
		n = &memoryName{services: map[string]Service{}, instances: map[string]Instance{}}
	}
	if n.revision != c.Revision {
		return fmt.Errorf("saving service %s at revision %d (it is at %d): %w", c.Name, c.Revision, n.revision, ErrStale)
	}
	// Check before writing, so that a bad change writes nothing.
	events := make([]Event, len(c.Events))
	for i, e := range c.Events {
		e = cloneEvent(e)
		e.Sequence = int64(len(n.events) + i + 1)
		events[i] = e
	}
	versions := map[string]bool{}
	for v := range n.services {
		versions[v] = true
	}
	for _, v := range c.DeleteServices {
		delete(versions, v)
	}
	for _, s := range c.PutServices {
		if s.Name != c.Name {
			return fmt.Errorf("saving service %s: the change puts service %s", c.Name, s.Name)
		}
		versions[s.Version] = true
	}
	for _, in := range c.PutInstances {
		if in.Service != c.Name || !versions[in.Version] {
			return fmt.Errorf("saving service %s: instance %s names %s %s, which is not registered: %w", c.Name, in.ID, in.Service, in.Version, ErrNotFound)
		}
	}
	m.names[c.Name] = n
	n.revision++
	for _, v := range c.DeleteServices {
		delete(n.services, v)
		maps.DeleteFunc(n.instances, func(_ string, in Instance) bool { return in.Version == v })
	}
	for _, s := range c.PutServices {
		s = cloneService(s)
		s.Instances = nil
		n.services[s.Version] = s
	}
	for _, id := range c.DeleteInstances {
		delete(n.instances, id)
	}
	for _, in := range c.PutInstances {
		n.instances[in.ID] = cloneInstance(in)
	}
	n.events = append(n.events, events...)
	return nil
}

// List returns the versions f selects, sorted by name and version.
func (m *MemoryStore) List(_ context.Context, f ListFilter) ([]Service, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := slices.Sorted(maps.Keys(m.names))
	var out []Service
	for _, name := range names {
		if f.Name != "" && name != f.Name {
			continue
		}
		out = append(out, m.names[name].list(f)...)
	}
	return out, nil
}

// Events returns up to limit events of name after sequence after.
func (m *MemoryStore) Events(_ context.Context, name string, after int64, limit int) ([]Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.names[name]
	if n == nil {
		return nil, nil
	}
	if after < 0 {
		after = 0
	}
	var out []Event
	for _, e := range n.events[min(int(after), len(n.events)):] {
		if limit > 0 && len(out) == limit {
			break
		}
		out = append(out, cloneEvent(e))
	}
	return out, nil
}

// cloneService copies s deeply, so that what a caller holds never aliases
// what the store keeps.
func cloneService(s Service) Service {
	s.Capabilities = slices.Clone(s.Capabilities)
	s.Metadata = maps.Clone(s.Metadata)
	s.Operations = slices.Clone(s.Operations)
	for i := range s.Operations {
		op := &s.Operations[i]
		if op.Idempotent != nil {
			b := *op.Idempotent
			op.Idempotent = &b
		}
		op.RequestSchema = slices.Clone(op.RequestSchema)
		op.ResponseSchema = slices.Clone(op.ResponseSchema)
	}
	if s.Auth != nil {
		a := *s.Auth
		s.Auth = &a
	}
	if s.HealthCheck != nil {
		h := *s.HealthCheck
		s.HealthCheck = &h
	}
	if s.Instances != nil {
		ins := make([]Instance, len(s.Instances))
		for i, in := range s.Instances {
			ins[i] = cloneInstance(in)
		}
		s.Instances = ins
	}
	return s
}

func cloneInstance(in Instance) Instance {
	in.Metadata = maps.Clone(in.Metadata)
	return in
}

func cloneEvent(e Event) Event {
	if e.Check != nil {
		c := *e.Check
		e.Check = &c
	}
	if e.Definition != nil {
		d := cloneService(*e.Definition)
		e.Definition = &d
	}
	if e.State != nil {
		in := cloneInstance(*e.State)
		e.State = &in
	}
	return e
}
