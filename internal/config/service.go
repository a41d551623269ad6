package config

import (
	"log/slog"
	"time"
)

// Egress is the caps of the egress guard every call to a user-supplied
// address goes through (internal/egress).
type Egress struct {
	// MaxResponseBytes is AIFLOW_EGRESS_MAX_RESPONSE_BYTES, the largest
	// response body read (1 KiB to 64 MiB, default 1 MiB).
	MaxResponseBytes int64
	// Timeout is AIFLOW_EGRESS_TIMEOUT, the longest one request may take,
	// redirects and reading the body included (1s to 15m, default 30s).
	Timeout time.Duration
}

// Defaults of Egress.
const (
	DefaultEgressMaxResponseBytes = 1 << 20
	DefaultEgressTimeout          = 30 * time.Second
)

// readEgress reads the variables of Egress.
func readEgress(r *reader) Egress {
	return Egress{
		MaxResponseBytes: int64(r.wholeNumber("AIFLOW_EGRESS_MAX_RESPONSE_BYTES", DefaultEgressMaxResponseBytes, 1<<10, 64<<20)),
		Timeout:          r.boundedDuration("AIFLOW_EGRESS_TIMEOUT", DefaultEgressTimeout, time.Second, 15*time.Minute),
	}
}

func (c Egress) logAttrs() []slog.Attr {
	return []slog.Attr{
		slog.Int64("egress_max_response_bytes", c.MaxResponseBytes),
		slog.String("egress_timeout", c.Timeout.String()),
	}
}

// ServiceCalls is how service steps call services, wherever their worker
// runs (functions/servicestep, `aiflow dev`, `aiflow run`).
type ServiceCalls struct {
	// MaxAttempts is AIFLOW_SERVICE_MAX_ATTEMPTS, the calls of one step
	// run, failovers and retries included (1 to 10, default 3).
	MaxAttempts int
	// Refresh is AIFLOW_SERVICE_REFRESH, how long the worker routes on
	// one listing of the registry (100ms to 1m, default 1s).
	Refresh time.Duration
	// BreakerFailures is AIFLOW_SERVICE_BREAKER_FAILURES, the failed calls
	// in a row that open an instance's circuit breaker and eject it
	// (1 to 100, default 5).
	BreakerFailures int
	// BreakerCoolDown is AIFLOW_SERVICE_BREAKER_COOLDOWN, how long an open
	// breaker (and the ejection) keeps calls away (1s to 1h, default 30s).
	BreakerCoolDown time.Duration
	// Egress is the guard's caps.
	Egress Egress
}

// readServiceCalls reads the variables of ServiceCalls.
func readServiceCalls(r *reader) ServiceCalls {
	return ServiceCalls{
		MaxAttempts:     r.wholeNumber("AIFLOW_SERVICE_MAX_ATTEMPTS", DefaultServiceMaxAttempts, 1, 10),
		Refresh:         r.boundedDuration("AIFLOW_SERVICE_REFRESH", DefaultServiceRefresh, 100*time.Millisecond, time.Minute),
		BreakerFailures: r.wholeNumber("AIFLOW_SERVICE_BREAKER_FAILURES", DefaultServiceBreakerFailures, 1, 100),
		BreakerCoolDown: r.boundedDuration("AIFLOW_SERVICE_BREAKER_COOLDOWN", DefaultServiceBreakerCoolDown, time.Second, time.Hour),
		Egress:          readEgress(r),
	}
}

func (c ServiceCalls) logAttrs() []slog.Attr {
	return append([]slog.Attr{
		slog.Int("max_attempts", c.MaxAttempts),
		slog.String("refresh", c.Refresh.String()),
		slog.Int("breaker_failures", c.BreakerFailures),
		slog.String("breaker_cooldown", c.BreakerCoolDown.String()),
	}, c.Egress.logAttrs()...)
}

// ServiceStep is the configuration of the service step worker
// (functions/servicestep and `aiflow invoke servicestep`). The registry
// is read from the database of Step (required); Lambda instances are
// invoked in AWSRegion, at AWS_ENDPOINT_URL_LAMBDA when that is set (the
// AWS SDK reads it).
type ServiceStep struct {
	Step
	ServiceCalls
	// Secrets is AIFLOW_SERVICE_SECRETS: where the secrets services
	// authenticate with come from.
	Secrets SecretStore
	// AWSRegion is AWS_REGION, or AWS_DEFAULT_REGION when that is unset:
	// where Lambda instances are invoked; empty fails calls to them.
	AWSRegion string
}

// Defaults of ServiceStep.
const (
	DefaultServiceMaxAttempts     = 3
	DefaultServiceRefresh         = time.Second
	DefaultServiceBreakerFailures = 5
	DefaultServiceBreakerCoolDown = 30 * time.Second
)

// LoadServiceStep reads ServiceStep from the environment through lookup.
// When variables are missing or invalid it returns an *Error naming
// functions/servicestep and listing all of them, together with a
// ServiceStep that holds defaults in their place.
func LoadServiceStep(lookup LookupFunc) (ServiceStep, error) {
	r := newReader(lookup)
	c := ServiceStep{
		Step:         readStep(r),
		ServiceCalls: readServiceCalls(r),
		Secrets:      r.secretStore("AIFLOW_SERVICE_SECRETS"),
		AWSRegion:    r.awsRegion(false, "", "AWS_REGION", "AWS_DEFAULT_REGION"),
	}
	if !c.Database.IsSet() {
		if _, set := r.get("AIFLOW_DATABASE_SECRET"); !set {
			r.problem("DATABASE_URL", "postgres://aiflow_worker:secret@localhost:5432/aiflow", "is required: the service registry is read from the database (or AIFLOW_DATABASE_SECRET, the Secrets Manager secret of its credentials)")
		}
	}
	return c, r.err("functions/servicestep")
}

// LogValue shows the configuration in logs without the database password.
func (c ServiceStep) LogValue() slog.Value {
	return slog.GroupValue(append(append(c.Step.logAttrs(),
		slog.String("service_secrets", string(c.Secrets)),
		slog.String("aws_region", c.AWSRegion),
	), c.ServiceCalls.logAttrs()...)...)
}
