// Package service is for the authors of services that aiflow's service
// steps call: Serve runs a Go HTTP service as an instance in aiflow's
// service registry (it registers the service and the instance through
// aiflow's API, answers the health check, heartbeats, and on SIGTERM or
// when its context ends drains, finishes the requests in flight and
// deregisters), and Client is the API's registry routes as Go methods,
// which `aiflow service` uses too.
//
// The types here mirror the registry's JSON (docs/services.md and the
// API's /openapi.json describe it); the package imports nothing of aiflow
// but the standard library, so a service links nothing else of aiflow.
package service

import (
	"encoding/json"
	"strings"
	"time"
)

// Status is an instance's place in its life: starting, healthy,
// unhealthy or draining.
type Status string

// The statuses of an instance.
const (
	StatusStarting  Status = "starting"
	StatusHealthy   Status = "healthy"
	StatusUnhealthy Status = "unhealthy"
	StatusDraining  Status = "draining"
)

// Definition is one version of a service, as registered: what steps find
// it by, the operations it answers, and (when read back) its instances.
type Definition struct {
	// Name is how steps find the service: lowercase letters, digits and
	// hyphens, starting with a letter, at most 63 characters.
	Name string `json:"name"`
	// Version is a semantic version (1.4.2).
	Version string `json:"version"`
	// Description says what the service does.
	Description string `json:"description,omitempty"`
	// Capabilities are dotted lowercase names (ip.reputation) a step may
	// ask for instead of a name.
	Capabilities []string `json:"capabilities,omitempty"`
	// Metadata is free-form: owner, runbook, tier.
	Metadata map[string]string `json:"metadata,omitempty"`
	// Operations are the calls the service answers.
	Operations []Operation `json:"operations"`
	// Auth is how calls authenticate; nil means none.
	Auth *Auth `json:"auth,omitempty"`
	// HealthCheck is the registry's active check of each instance; nil
	// means none (instances are healthy while they heartbeat).
	HealthCheck *HealthCheck `json:"health_check,omitempty"`
	// Balancing is round_robin (the default), least_outstanding or
	// weighted.
	Balancing string `json:"balancing,omitempty"`
	// Instances are the version's instances; registering may give the
	// first ones.
	Instances []Instance `json:"instances,omitempty"`
	// RegisteredAt and UpdatedAt are set by the registry.
	RegisteredAt time.Time `json:"registered_at,omitzero"`
	UpdatedAt    time.Time `json:"updated_at,omitzero"`
}

// Operation is one call a service answers.
type Operation struct {
	// Name identifies the operation (reputation, lookup_cve).
	Name string `json:"name"`
	// Method is GET, POST, PUT, PATCH or DELETE.
	Method string `json:"method"`
	// Path is a path template: /v1/ip/{ip}/reputation.
	Path string `json:"path"`
	// Idempotent says whether a failed call may be retried; nil means the
	// method's default (GET, PUT and DELETE are).
	Idempotent *bool `json:"idempotent,omitempty"`
	// RequestSchema and ResponseSchema are JSON Schemas of the request
	// body and of a successful response's body.
	RequestSchema  json.RawMessage `json:"request_schema,omitempty"`
	ResponseSchema json.RawMessage `json:"response_schema,omitempty"`
	// TimeoutSeconds caps one call; 0 means the step's timeout alone.
	TimeoutSeconds int `json:"timeout_seconds,omitempty"`
}

// Auth names the secret calls authenticate with, never the secret.
type Auth struct {
	// Type is "bearer" or "header".
	Type string `json:"type"`
	// Secret names the secret in the workers' secret store.
	Secret string `json:"secret"`
	// Header is the header of type "header" (X-Api-Key).
	Header string `json:"header,omitempty"`
}

// HealthCheck is a service's active health check.
type HealthCheck struct {
	// Path is requested with GET on each instance (/healthz).
	Path string `json:"path"`
	// ExpectedStatus is a passing check's status; 0 means 200.
	ExpectedStatus int `json:"expected_status,omitempty"`
	// IntervalSeconds, TimeoutSeconds, HealthyThreshold and
	// UnhealthyThreshold: 0 means 10, 2, 2 and 3.
	IntervalSeconds    int `json:"interval_seconds,omitempty"`
	TimeoutSeconds     int `json:"timeout_seconds,omitempty"`
	HealthyThreshold   int `json:"healthy_threshold,omitempty"`
	UnhealthyThreshold int `json:"unhealthy_threshold,omitempty"`
}

// Instance is one running copy of a service version.
type Instance struct {
	// ID identifies the instance within its service; empty lets the
	// registry choose.
	ID string `json:"id,omitempty"`
	// Service and Version name the service version it serves.
	Service string `json:"service,omitempty"`
	Version string `json:"version,omitempty"`
	// Endpoint is the base URL of an HTTP(S) instance; FunctionARN a
	// Lambda function's. Exactly one is set.
	Endpoint    string `json:"endpoint,omitempty"`
	FunctionARN string `json:"function_arn,omitempty"`
	// Weight is the share under weighted balancing, 1 to 1000; 0 means
	// 100.
	Weight int `json:"weight,omitempty"`
	// Zone is where the instance runs; free-form.
	Zone string `json:"zone,omitempty"`
	// Internal marks an instance on a private or loopback address; only
	// an admin's token may register one.
	Internal bool `json:"internal,omitempty"`
	// Metadata is free-form.
	Metadata map[string]string `json:"metadata,omitempty"`
	// Status and StatusReason are the registry's (read only).
	Status       Status `json:"status,omitempty"`
	StatusReason string `json:"status_reason,omitempty"`
	// TTLSeconds is how long a heartbeat keeps the instance alive; 0
	// means 30.
	TTLSeconds int `json:"ttl_seconds,omitempty"`
	// RegisteredAt and HeartbeatAt are set by the registry.
	RegisteredAt time.Time `json:"registered_at,omitzero"`
	HeartbeatAt  time.Time `json:"heartbeat_at,omitzero"`
	// CheckPasses and CheckFailures count the active health check's
	// latest results in a row, CheckedAt is when it last ran, and
	// EjectedUntil is set while failed calls keep the instance out (read
	// only).
	CheckPasses   int       `json:"check_passes,omitempty"`
	CheckFailures int       `json:"check_failures,omitempty"`
	CheckedAt     time.Time `json:"checked_at,omitzero"`
	EjectedUntil  time.Time `json:"ejected_until,omitzero"`
}

// Event is one entry of a service's history: a registration, a status
// change, a drain, a deregistration.
type Event struct {
	// Sequence is the event's place in the service's history, from 1.
	Sequence int64 `json:"sequence"`
	// Type is ServiceRegistered, ServiceUpdated, ServiceDeregistered,
	// InstanceRegistered, InstanceHeartbeatExpired, InstanceHealthChanged,
	// InstanceEjected, InstanceDraining or InstanceDeregistered.
	Type string    `json:"type"`
	At   time.Time `json:"at"`
	// Actor is who caused it: a token's subject, "registry",
	// "health-checker" or "service-step".
	Actor    string `json:"actor,omitempty"`
	Service  string `json:"service"`
	Version  string `json:"version,omitempty"`
	Instance string `json:"instance,omitempty"`
	// From and To are the instance's statuses before and after, Reason
	// why.
	From   Status `json:"from,omitempty"`
	To     Status `json:"to,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Check is the health check's result that made the change.
	Check json.RawMessage `json:"check,omitempty"`
	// Until is the end of an ejection.
	Until time.Time `json:"until,omitzero"`
	// Definition is the version as registered, State the instance as
	// registered.
	Definition *Definition `json:"definition,omitempty"`
	State      *Instance   `json:"state,omitempty"`
}

// Summary says in a line what the event changed: the version and the
// instance, the status change and why.
func (e Event) Summary() string {
	var parts []string
	if e.Version != "" {
		parts = append(parts, e.Version)
	}
	if e.Instance != "" {
		parts = append(parts, "instance "+e.Instance)
	}
	switch {
	case e.From != "" && e.To != "":
		parts = append(parts, string(e.From)+" -> "+string(e.To))
	case e.To != "":
		parts = append(parts, string(e.To))
	}
	if e.Reason != "" {
		parts = append(parts, "("+e.Reason+")")
	}
	if e.Actor != "" {
		parts = append(parts, "by "+e.Actor)
	}
	return strings.Join(parts, " ")
}
