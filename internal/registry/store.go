package registry

import (
	"context"
	"errors"
)

// Store keeps what the registry knows: each service name's versions with
// their instances, and the name's history of events. A change is saved
// with its events, all or nothing, and only when nothing changed the name
// since it was read (optimistic concurrency on the name's revision), so
// rows and history never disagree. NewMemoryStore keeps them in memory;
// internal/registrystore keeps them in PostgreSQL.
type Store interface {
	// Load returns what is registered under a service name; a name with
	// nothing registered returns a State with no services.
	Load(ctx context.Context, name string) (State, error)
	// Save writes a change decided on the State of revision
	// c.Revision: its rows and its events, or nothing. It returns an
	// error wrapping ErrStale when the name's revision is no longer
	// c.Revision, so the caller reads it again and decides anew.
	Save(ctx context.Context, c Change) error
	// List returns the service versions f selects (by name and by
	// capability; the zero filter selects every one), each with its
	// instances as stored, sorted by name and then by version.
	List(ctx context.Context, f ListFilter) ([]Service, error)
	// Events returns up to limit events of a name's history after the
	// sequence number after, oldest first.
	Events(ctx context.Context, name string, after int64, limit int) ([]Event, error)
}

// ErrStale is returned (wrapped) by Store.Save when the name changed since
// the State the change was decided on was loaded.
var ErrStale = errors.New("the service changed meanwhile")

// State is what is registered under one service name.
type State struct {
	Name string
	// Revision counts the saved changes of the name; 0 means none was
	// ever saved.
	Revision int64
	// Services are the name's versions, sorted by version, each with its
	// instances sorted by id.
	Services []Service
}

// Change is one saved change of a service name.
type Change struct {
	Name string
	// Revision is that of the State the change was decided on.
	Revision int64
	// PutServices are service versions to insert or replace; their
	// Instances are not read (PutInstances holds the instances).
	PutServices []Service
	// DeleteServices are versions to delete, with their instances.
	DeleteServices []string
	// PutInstances are instances to insert or replace; each one's
	// version is registered (in the State, or in PutServices).
	PutInstances []Instance
	// DeleteInstances are ids of instances to delete.
	DeleteInstances []string
	// Events are appended to the name's history, in order; the store
	// numbers them (Event.Sequence).
	Events []Event
}

// ListFilter selects service versions: by name, by capability, or both;
// empty fields select all.
type ListFilter struct {
	Name       string
	Capability string
}

// Matches reports whether s passes the filter.
func (f ListFilter) Matches(s Service) bool {
	if f.Name != "" && s.Name != f.Name {
		return false
	}
	if f.Capability == "" {
		return true
	}
	for _, c := range s.Capabilities {
		if c == f.Capability {
			return true
		}
	}
	return false
}

// EventAppender receives a copy of every event after the change it
// belongs to is saved: a feed for observers (a log, a bus). The history
// itself is the Store's, saved with the rows; an error of the feed is
// logged and changes nothing.
type EventAppender interface {
	AppendEvents(ctx context.Context, stream string, events []Event) error
}

// StreamID is the event stream of a service name's history.
func StreamID(name string) string { return "service-" + name }
