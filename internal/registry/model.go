// Package registry owns aiflow's service registry: the services a workflow's
// service steps call, each with its versions, capabilities, operations
// (with their request and response JSON Schemas), auth setting and health
// check, and their instances (an HTTP(S) endpoint or a Lambda function ARN)
// with weights, zones, statuses and heartbeats. Its use cases register,
// heartbeat, drain and deregister, list and read; every change is an event
// in the event store, so a service's health history can be replayed.
//
// The model in this file is shared by the use cases, the stores, the API,
// the health checker and the router of the service step. The use cases
// (Registry, made by New) validate, authorise and decide; they run over a
// Store port, which saves a change's rows and its events together and only
// when nothing changed the service meanwhile: NewMemoryStore in memory,
// internal/registrystore in PostgreSQL. Statuses, events and the rules of a
// registration are described in docs/services.md.
package registry

import (
	"encoding/json"
	"errors"
	"time"
)

// Status is an instance's place in its life.
type Status string

// The statuses of an instance.
const (
	// StatusStarting is an instance registered with a health check that
	// has not yet passed it HealthyThreshold times.
	StatusStarting Status = "starting"
	// StatusHealthy instances take calls.
	StatusHealthy Status = "healthy"
	// StatusUnhealthy instances failed their health check
	// UnhealthyThreshold times in a row, were ejected after failed calls,
	// or missed their heartbeat; they take no calls.
	StatusUnhealthy Status = "unhealthy"
	// StatusDraining instances take no new calls and finish what they
	// have, before they deregister.
	StatusDraining Status = "draining"
)

// Service is one version of a registered service. A name may have several
// versions registered at once; a step picks among them with a version
// constraint.
type Service struct {
	// Name is how steps find the service: lowercase letters, digits and
	// hyphens, starting with a letter, at most 63 characters.
	Name string `json:"name"`
	// Version is a semantic version (1.4.2, v1.4.2 is read as 1.4.2).
	Version string `json:"version"`
	// Description says what the service does.
	Description string `json:"description,omitempty"`
	// Capabilities are what the service can do, dotted lowercase names
	// (ip.reputation, chat.post); a step may ask for one instead of a name.
	Capabilities []string `json:"capabilities,omitempty"`
	// Metadata is free-form: owner, runbook, tier.
	Metadata map[string]string `json:"metadata,omitempty"`
	// Operations are the calls the service answers. A service step's
	// method and path must match one.
	Operations []Operation `json:"operations"`
	// Auth is how calls authenticate; nil means none.
	Auth *Auth `json:"auth,omitempty"`
	// HealthCheck is the active check the checker runs against each
	// instance with an endpoint; nil means none (instances are healthy
	// while they heartbeat).
	HealthCheck *HealthCheck `json:"health_check,omitempty"`
	// Balancing is how calls spread over healthy instances: round_robin
	// (the default), least_outstanding, or weighted.
	Balancing Balancing `json:"balancing,omitempty"`
	// Instances are the service version's instances, as the registry read
	// them; registering a service may give its first instances.
	Instances []Instance `json:"instances,omitempty"`
	// RegisteredAt and UpdatedAt are set by the registry.
	RegisteredAt time.Time `json:"registered_at,omitzero"`
	UpdatedAt    time.Time `json:"updated_at,omitzero"`
}

// Balancing names a load-balancing policy.
type Balancing string

// The balancing policies.
const (
	BalancingRoundRobin       Balancing = "round_robin"
	BalancingLeastOutstanding Balancing = "least_outstanding"
	BalancingWeighted         Balancing = "weighted"
)

// Operation is one call a service answers.
type Operation struct {
	// Name identifies the operation in errors and the catalog
	// (reputation, lookup_cve).
	Name string `json:"name"`
	// Method is GET, POST, PUT, PATCH or DELETE.
	Method string `json:"method"`
	// Path is a path template: literal segments and {param} segments
	// (/v1/ip/{ip}/reputation); see internal/pathtemplate.
	Path string `json:"path"`
	// Idempotent operations may be retried by the service step after a
	// failure that may pass; nil means the method's default (GET, PUT and
	// DELETE are idempotent; POST and PATCH are not).
	Idempotent *bool `json:"idempotent,omitempty"`
	// RequestSchema is the JSON Schema of the request body; empty means
	// the operation takes no body or any body.
	RequestSchema json.RawMessage `json:"request_schema,omitempty"`
	// ResponseSchema is the JSON Schema of a successful response's body;
	// empty means any JSON.
	ResponseSchema json.RawMessage `json:"response_schema,omitempty"`
	// TimeoutSeconds caps one call; 0 means the step's timeout alone.
	TimeoutSeconds int `json:"timeout_seconds,omitempty"`
}

// IsIdempotent reports whether the operation may be retried: its
// declaration, or its method's default.
func (o Operation) IsIdempotent() bool {
	if o.Idempotent != nil {
		return *o.Idempotent
	}
	switch o.Method {
	case "GET", "PUT", "DELETE":
		return true
	}
	return false
}

// Auth is how a service's calls authenticate: the name of a secret (in
// the secret store the workers read), never the secret itself.
type Auth struct {
	// Type is "bearer" (Authorization: Bearer <secret>) or "header"
	// (Header: <secret>).
	Type string `json:"type"`
	// Secret names the secret.
	Secret string `json:"secret"`
	// Header is the header of type "header" (X-Api-Key).
	Header string `json:"header,omitempty"`
}

// HealthCheck is a service's active health check.
type HealthCheck struct {
	// Path is requested with GET on each instance's endpoint (/healthz).
	Path string `json:"path"`
	// ExpectedStatus is the status of a passing check; 0 means 200.
	ExpectedStatus int `json:"expected_status,omitempty"`
	// IntervalSeconds is the time between checks; 0 means 10.
	IntervalSeconds int `json:"interval_seconds,omitempty"`
	// TimeoutSeconds caps one check; 0 means 2.
	TimeoutSeconds int `json:"timeout_seconds,omitempty"`
	// HealthyThreshold is how many passing checks in a row make an
	// instance healthy; 0 means 2.
	HealthyThreshold int `json:"healthy_threshold,omitempty"`
	// UnhealthyThreshold is how many failing checks in a row make it
	// unhealthy; 0 means 3.
	UnhealthyThreshold int `json:"unhealthy_threshold,omitempty"`
}

// Instance is one running copy of a service version.
type Instance struct {
	// ID identifies the instance within its service; the registrant may
	// choose it (a host name, a task id) or leave it to the registry.
	ID string `json:"id"`
	// Service and Version name the service version it serves.
	Service string `json:"service"`
	Version string `json:"version"`
	// Endpoint is the base URL of an HTTP(S) instance; calls go to
	// Endpoint + the operation's path. Exactly one of Endpoint and
	// FunctionARN is set.
	Endpoint string `json:"endpoint,omitempty"`
	// FunctionARN is a Lambda function the service step invokes with an
	// API Gateway HTTP API (payload 2.0) event.
	FunctionARN string `json:"function_arn,omitempty"`
	// Weight is the instance's share under weighted balancing, 1 to 1000;
	// 0 means 100.
	Weight int `json:"weight,omitempty"`
	// Zone is where the instance runs (eu-west-1a); free-form.
	Zone string `json:"zone,omitempty"`
	// Internal marks an instance an admin registered on a private,
	// loopback or otherwise internal address; only admins may set it, and
	// only internal instances pass the egress guard on such addresses.
	Internal bool `json:"internal,omitempty"`
	// Metadata is free-form.
	Metadata map[string]string `json:"metadata,omitempty"`
	// Status is the instance's status; StatusReason says why it last
	// changed.
	Status       Status `json:"status"`
	StatusReason string `json:"status_reason,omitempty"`
	// TTLSeconds is how long a heartbeat keeps the instance alive; 0
	// means 30. An instance whose last heartbeat is older is treated as
	// unhealthy (Expired) until it heartbeats again.
	TTLSeconds int `json:"ttl_seconds,omitempty"`
	// RegisteredAt and HeartbeatAt are set by the registry.
	RegisteredAt time.Time `json:"registered_at,omitzero"`
	HeartbeatAt  time.Time `json:"heartbeat_at,omitzero"`
	// CheckPasses and CheckFailures count the active health check's
	// latest results in a row (one of them is 0), and CheckedAt is when
	// it last ran; the registry keeps them, so a checker that starts
	// afresh (a scheduled function) goes on where the last one stopped.
	CheckPasses   int       `json:"check_passes,omitempty"`
	CheckFailures int       `json:"check_failures,omitempty"`
	CheckedAt     time.Time `json:"checked_at,omitzero"`
	// EjectedUntil is set while the instance is ejected after failed
	// calls (see Registry.Eject): an instance with an active check stays
	// unhealthy until a check passes, any other until this time.
	EjectedUntil time.Time `json:"ejected_until,omitzero"`
}

// Caller is who asks for a change: an admin may manage every service; a
// caller holding only the service role may manage only the service its
// token names. The API builds it from the request's auth.Principal.
type Caller struct {
	// Subject is the token's subject, for the events' actor.
	Subject string
	// Admin callers manage every service and may register internal
	// instances.
	Admin bool
	// Service is the one service a non-admin caller may manage; empty
	// means none.
	Service string
}

// Errors of the use cases. The API maps them to statuses in its one table.
var (
	// ErrNotFound: no such service, version or instance.
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the caller may not manage that service, or may not
	// register an internal instance.
	ErrForbidden = errors.New("forbidden")
	// ErrConflict: the change clashes with what is registered (an
	// instance id registered for another version).
	ErrConflict = errors.New("conflict")
)

// Problem is one thing wrong with a registration: Pointer is the JSON
// pointer of the field at fault (/operations/0/path), Detail what is wrong.
type Problem struct {
	Pointer string `json:"pointer"`
	Detail  string `json:"detail"`
}

// ValidationError lists every problem of a registration.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	if len(e.Problems) == 0 {
		return "the registration is invalid"
	}
	p := e.Problems[0]
	s := p.Detail
	if p.Pointer != "" {
		s = p.Pointer + ": " + s
	}
	if n := len(e.Problems) - 1; n > 0 {
		s += " (and more)"
	}
	return s
}
