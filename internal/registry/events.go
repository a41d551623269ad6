package registry

import (
	"slices"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/semver"
)

// EventType names what happened to a service or an instance.
type EventType string

// The registry's events. Each change of a service's rows saves its events
// with it, in the name's stream (StreamID).
const (
	// EventServiceRegistered: a version was registered (Definition).
	EventServiceRegistered EventType = "ServiceRegistered"
	// EventServiceUpdated: a registered version's definition changed
	// (Definition).
	EventServiceUpdated EventType = "ServiceUpdated"
	// EventServiceDeregistered: a version was deregistered with its
	// instances.
	EventServiceDeregistered EventType = "ServiceDeregistered"
	// EventInstanceRegistered: an instance was registered, or registered
	// again with something changed (Instance, as saved).
	EventInstanceRegistered EventType = "InstanceRegistered"
	// EventInstanceHeartbeatExpired: an instance kept alive by its
	// heartbeats missed them for longer than its TTL (From, To, Reason).
	EventInstanceHeartbeatExpired EventType = "InstanceHeartbeatExpired"
	// EventInstanceHealthChanged: a status changed through health checks,
	// a heartbeat after expiry, or the end of an ejection (From, To,
	// Reason, and Check when a check made the change).
	EventInstanceHealthChanged EventType = "InstanceHealthChanged"
	// EventInstanceEjected: failed calls ejected an instance (From, To,
	// Reason, Until).
	EventInstanceEjected EventType = "InstanceEjected"
	// EventInstanceDraining: an instance began to drain (From, To).
	EventInstanceDraining EventType = "InstanceDraining"
	// EventInstanceDeregistered: an instance was deregistered.
	EventInstanceDeregistered EventType = "InstanceDeregistered"
)

// Reasons the registry gives for the statuses it sets.
const (
	ReasonRegistered        = "registered"
	ReasonAwaitingCheck     = "registered; waiting for its health check to pass"
	ReasonHeartbeatExpired  = "heartbeat expired"
	ReasonHeartbeatResumed  = "heartbeat resumed"
	ReasonCheckPassed       = "health check passed"
	ReasonCheckFailed       = "health check failed"
	ReasonEjectionEnded     = "ejection ended"
	ReasonDraining          = "draining"
	ReasonHealthCheckRemove = "the service no longer has a health check"
	reasonEjectedPrefix     = "ejected: "
)

// Event is one entry of a service's history.
type Event struct {
	// Sequence is the event's place in the service's stream, from 1.
	Sequence int64     `json:"sequence"`
	Type     EventType `json:"type"`
	At       time.Time `json:"at"`
	// Actor is who caused it: a caller's subject, "registry" for what the
	// registry does on its own (expiry), "health-checker", or the worker
	// that ejected.
	Actor    string `json:"actor,omitempty"`
	Service  string `json:"service"`
	Version  string `json:"version,omitempty"`
	Instance string `json:"instance,omitempty"`
	// From and To are the instance's statuses before and after, and
	// Reason why, for the events that change a status.
	From   Status `json:"from,omitempty"`
	To     Status `json:"to,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Check is the health check that made the change.
	Check *CheckResult `json:"check,omitempty"`
	// Until is the end of an ejection.
	Until time.Time `json:"until,omitzero"`
	// Definition is the service version as registered (without its
	// instances), for ServiceRegistered and ServiceUpdated.
	Definition *Service `json:"definition,omitempty"`
	// State is the instance as saved, for InstanceRegistered.
	State *Instance `json:"state,omitempty"`
}

// CheckResult is the outcome of one active health check of an instance.
type CheckResult struct {
	Service  string `json:"service"`
	Instance string `json:"instance"`
	// Endpoint is the endpoint checked; a result for another endpoint
	// than the instance's (it moved meanwhile) is not recorded. Empty
	// means the instance's.
	Endpoint string `json:"endpoint,omitempty"`
	// Passed is true when the instance answered with the expected status
	// within the timeout.
	Passed bool `json:"passed"`
	// StatusCode is the answer's status, 0 when there was none.
	StatusCode int `json:"status_code,omitempty"`
	// Error says why a check failed.
	Error string `json:"error,omitempty"`
	// Duration is how long the check took.
	Duration time.Duration `json:"duration_ns,omitempty"`
	// At is when the check started.
	At time.Time `json:"at"`
	// Passes and Failures are the instance's counts in a row after it.
	Passes   int `json:"passes,omitempty"`
	Failures int `json:"failures,omitempty"`
}

// Replay rebuilds a service name's versions and their instances' stored
// statuses (and reasons) from its history, oldest event first: what Load
// would return for them, but for the heartbeat times and check counters,
// which change without events. It is how a service's health can be read
// at any point of its history.
func Replay(events []Event) []Service {
	var svcs []Service
	find := func(version string) int {
		return slices.IndexFunc(svcs, func(s Service) bool { return s.Version == version })
	}
	instance := func(e Event) *Instance {
		for i := range svcs {
			for k := range svcs[i].Instances {
				if svcs[i].Instances[k].ID == e.Instance {
					return &svcs[i].Instances[k]
				}
			}
		}
		return nil
	}
	for _, e := range events {
		switch e.Type {
		case EventServiceRegistered, EventServiceUpdated:
			if e.Definition == nil {
				continue
			}
			d := *e.Definition
			if i := find(d.Version); i >= 0 {
				d.Instances = svcs[i].Instances
				svcs[i] = d
			} else {
				d.Instances = nil
				svcs = append(svcs, d)
			}
		case EventServiceDeregistered:
			if i := find(e.Version); i >= 0 {
				svcs = slices.Delete(svcs, i, i+1)
			}
		case EventInstanceRegistered:
			if e.State == nil {
				continue
			}
			i := find(e.State.Version)
			if i < 0 {
				continue
			}
			in := *e.State
			if k := slices.IndexFunc(svcs[i].Instances, func(x Instance) bool { return x.ID == in.ID }); k >= 0 {
				svcs[i].Instances[k] = in
			} else {
				svcs[i].Instances = append(svcs[i].Instances, in)
			}
		case EventInstanceDeregistered:
			if i := find(e.Version); i >= 0 {
				svcs[i].Instances = slices.DeleteFunc(svcs[i].Instances, func(x Instance) bool { return x.ID == e.Instance })
			}
		default:
			if in := instance(e); in != nil && e.To != "" {
				in.Status, in.StatusReason = e.To, e.Reason
			}
		}
	}
	slices.SortFunc(svcs, func(a, b Service) int { return semver.Compare(a.Version, b.Version) })
	for i := range svcs {
		slices.SortFunc(svcs[i].Instances, func(a, b Instance) int { return strings.Compare(a.ID, b.ID) })
	}
	return svcs
}
