package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Engine is the configuration of `aiflow engine`, which serves the Step
// Functions API over the local engine. Its flags override these values.
type Engine struct {
	// Addr is AIFLOW_ENGINE_ADDR (default 127.0.0.1:8083), the host:port the
	// Step Functions API listens on.
	Addr string
	// InMemory is AIFLOW_ENGINE_IN_MEMORY (default false): keep state
	// machines and executions in memory instead of PostgreSQL.
	InMemory bool
	// DatabaseURL is DATABASE_URL; empty means the development cluster
	// under DataDir. Unused when InMemory.
	DatabaseURL string
	// DataDir is AIFLOW_DATA_DIR (default .aiflow).
	DataDir string
	// PGBinDir is AIFLOW_PG_BINDIR, an existing directory or empty.
	PGBinDir string
	// LambdaEndpoint is AIFLOW_LAMBDA_ENDPOINT, an http:// or https:// URL
	// of a Lambda Invoke API (such as `sam local start-lambda`) that Lambda
	// tasks go to; empty makes them fail with
	// Lambda.ResourceNotFoundException.
	LambdaEndpoint string
	// Region is AWS_REGION, or AWS_DEFAULT_REGION when that is unset
	// (default us-east-1): the region in the ARNs the engine makes.
	Region string
	// AccountID is AIFLOW_ENGINE_ACCOUNT_ID (default 123456789012), the
	// account in the ARNs the engine makes.
	AccountID string
	// Queues is AIFLOW_ENGINE_QUEUES, a comma-separated list of
	// NAME[=URL]: the in-process queues to create.
	Queues []Queue
	// ShutdownTimeout is AIFLOW_SHUTDOWN_TIMEOUT (default 10s), how long
	// a stop waits for requests in flight.
	ShutdownTimeout time.Duration
	// Log is AIFLOW_LOG_LEVEL and AIFLOW_LOG_FORMAT.
	Log Log
}

// Queue is one in-process queue of `aiflow engine`.
type Queue struct {
	// Name is 1 to 80 letters, digits, hyphens and underscores.
	Name string
	// URL is the URL state machines send to; empty means the engine's own
	// http://sqs.<region>.localhost/<account>/<name>.
	URL string
}

// Defaults of Engine.
const (
	DefaultEngineAddr      = "127.0.0.1:8083"
	DefaultEngineRegion    = "us-east-1"
	DefaultEngineAccountID = "123456789012"
)

// exampleQueue is the example shown for a bad queue.
const exampleQueue = "ai-steps=https://sqs.us-east-1.amazonaws.com/123456789012/ai-steps"

// LoadEngine reads Engine from the environment through lookup. When
// variables are invalid it returns an *Error listing all of them, together
// with an Engine that holds defaults in their place.
func LoadEngine(lookup LookupFunc) (Engine, error) {
	r := newReader(lookup)
	cfg := Engine{
		Addr:        r.hostPort("AIFLOW_ENGINE_ADDR", DefaultEngineAddr),
		InMemory:    r.bool("AIFLOW_ENGINE_IN_MEMORY", false),
		DatabaseURL: r.postgresURL("DATABASE_URL", false),
		DataDir:     r.string("AIFLOW_DATA_DIR", defaultDataDir),
		PGBinDir:    r.dir("AIFLOW_PG_BINDIR", examplePGBinDir),
	}
	cfg.LambdaEndpoint = r.httpURL("AIFLOW_LAMBDA_ENDPOINT", "http://127.0.0.1:3001")
	cfg.Region = r.awsRegion(false, "", "AWS_REGION", "AWS_DEFAULT_REGION")
	if cfg.Region == "" {
		cfg.Region = DefaultEngineRegion
	}
	cfg.AccountID = r.accountID("AIFLOW_ENGINE_ACCOUNT_ID", DefaultEngineAccountID)
	cfg.Queues = r.queues("AIFLOW_ENGINE_QUEUES")
	cfg.ShutdownTimeout = r.duration("AIFLOW_SHUTDOWN_TIMEOUT", 10*time.Second)
	cfg.Log = readLog(r)
	return cfg, r.err("aiflow engine")
}

// LogValue shows the configuration in logs with the database password
// masked.
func (c Engine) LogValue() slog.Value {
	queues := make([]string, len(c.Queues))
	for i, q := range c.Queues {
		queues[i] = q.String()
	}
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.Bool("in_memory", c.InMemory),
		slog.Attr{Key: "database_url", Value: redactedURL(c.DatabaseURL)},
		slog.String("data_dir", c.DataDir),
		slog.String("pg_bindir", c.PGBinDir),
		slog.String("lambda_endpoint", c.LambdaEndpoint),
		slog.String("region", c.Region),
		slog.String("account_id", c.AccountID),
		slog.String("queues", strings.Join(queues, ",")),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.Any("log", c.Log),
	)
}

// String returns the queue as NAME or NAME=URL.
func (q Queue) String() string {
	if q.URL == "" {
		return q.Name
	}
	return q.Name + "=" + q.URL
}

// queueNameRE matches SQS queue names.
var queueNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// ParseQueue reads NAME or NAME=URL, the form of AIFLOW_ENGINE_QUEUES'
// items and of `aiflow engine --queue`. It returns an error saying what is
// wrong with the name or the URL.
func ParseQueue(s string) (Queue, error) {
	name, rawURL, hasURL := strings.Cut(strings.TrimSpace(s), "=")
	if !queueNameRE.MatchString(name) {
		return Queue{}, fmt.Errorf("%q does not start with a queue name (1 to 80 letters, digits, hyphens and underscores)", s)
	}
	if !hasURL {
		return Queue{Name: name}, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") == "" {
		return Queue{}, fmt.Errorf("%q: %q is not a queue URL (http:// or https://, a host and a path)", s, rawURL)
	}
	return Queue{Name: name, URL: rawURL}, nil
}

// queues returns the comma-separated queues of key, or nil when unset.
// Every bad item is a problem; the good ones are kept.
func (r *reader) queues(key string) []Queue {
	v, ok := r.get(key)
	if !ok {
		return nil
	}
	var out []Queue
	seen := map[string]bool{}
	for item := range strings.SplitSeq(v, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		q, err := ParseQueue(item)
		if err != nil {
			r.problem(key, exampleQueue, "%v", err)
			continue
		}
		if seen[q.Name] {
			r.problem(key, exampleQueue, "names the queue %q twice", q.Name)
			continue
		}
		seen[q.Name] = true
		out = append(out, q)
	}
	return out
}

// httpURL returns the value of key, which must be an http:// or https://
// URL with a host, or "" when unset or invalid.
func (r *reader) httpURL(key, example string) string {
	v, ok := r.get(key)
	if !ok {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.problem(key, example, "%s is not an http:// or https:// URL", show(key, v))
		return ""
	}
	return v
}

// accountIDRE matches AWS account ids: twelve digits.
var accountIDRE = regexp.MustCompile(`^\d{12}$`)

// accountID returns the value of key, which must be twelve digits, or def
// when unset or invalid.
func (r *reader) accountID(key, def string) string {
	v, ok := r.get(key)
	if !ok {
		return def
	}
	if !accountIDRE.MatchString(v) {
		r.problem(key, def, "%s is not an AWS account id (twelve digits)", show(key, v))
		return def
	}
	return v
}
