// Package migratefunction is functions/migrate: the handler of the
// CloudFormation custom resource (Custom::Migrations in template.yaml)
// that prepares the stack's database on the deploys that change it, so a
// first deploy migrates its own database in its private subnets and no
// function meets a schema older than its code.
//
// On Create and Update it connects as the master user (the master secret,
// through database.OpenPool), makes the service roles named by the role
// secrets and sets their passwords from them (migrate.EnsureRoles), applies
// every pending embedded migration (migrate.Up, under its advisory lock),
// grants the service roles their privileges (migrate.Grant) and, when the
// resource's SeedSupportData property is "true", seeds the customer-support
// desk's sample data (supportdesk.Seed, which changes nothing when the data
// is there). On Delete it does nothing: the data outlives the stack's
// resources, as the database's DeletionPolicy says.
//
// It answers CloudFormation as a custom resource must: a PUT of the JSON
// response (Status, Reason, PhysicalResourceId, StackId, RequestId,
// LogicalResourceId, Data) to the presigned ResponseURL, with an empty
// Content-Type, before the Lambda's deadline, so a failed migration fails
// the deploy at once instead of after CloudFormation's hour of waiting. An
// event without a ResponseURL (a direct invocation, `aiflow invoke
// migrate`) gets the response as the invocation's result instead.
package migratefunction

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambdacontext"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/database"
	"github.com/aiflow/aiflow/internal/migrate"
	"github.com/aiflow/aiflow/internal/secrets"
	"github.com/aiflow/aiflow/internal/supportdesk"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// The properties of the custom resource that the handler reads.
const (
	// PropertyMigrationsVersion is the version of the newest migration the
	// template expects (migrate.Latest): the property changes with every
	// new migration, which is what makes CloudFormation send an Update.
	PropertyMigrationsVersion = "MigrationsVersion"
	// PropertySeedSupportData is "true" to seed the support desk's sample
	// data, "false" (or absent) not to.
	PropertySeedSupportData = "SeedSupportData"
)

// PhysicalResourceID is the id the resource has from its Create on: a
// database's migrations are one thing that stays.
const PhysicalResourceID = "aiflow-database-migrations"

// responseMargin is the time kept before the Lambda's deadline to send the
// response when the work runs late.
const responseMargin = 10 * time.Second

// maxReason bounds the Reason CloudFormation shows (a response body may
// not exceed 4096 bytes).
const maxReason = 2048

// Options are what the caller's process gives New.
type Options struct {
	// Config is the function's configuration (config.LoadMigrateFunction).
	Config config.MigrateFunction
	// LogWriter receives the logs; nil means stderr.
	LogWriter io.Writer
	// Secrets reads the master and role secrets; nil means Secrets Manager
	// through the AWS SDK's default configuration.
	Secrets secrets.Source
	// HTTPClient sends the responses; nil means a client with a
	// 30-second timeout.
	HTTPClient *http.Client
	// NowFunc is the clock of the seed's dates; nil means time.Now.
	NowFunc func() time.Time
}

// Function is the built functions/migrate. Handle is its Lambda handler;
// Close closes its database pool.
type Function struct {
	pool        *pgxpool.Pool
	secrets     secrets.Source
	roleSecrets []string
	client      *http.Client
	logger      *slog.Logger
	now         func() time.Time
}

// New builds the function as its main and `aiflow invoke migrate` run it:
// the logger, the secrets source and a pool on the database as its master
// user (connecting lazily; the master secret is read now). It returns the
// errors of loading the AWS configuration and of reading the master
// secret.
func New(ctx context.Context, o Options) (*Function, error) {
	f := &Function{roleSecrets: o.Config.RoleSecrets, secrets: o.Secrets, client: o.HTTPClient, now: o.NowFunc}
	f.logger = telemetry.NewLogger(o.Config.Log.LoggerOptions(o.LogWriter))
	if f.client == nil {
		f.client = &http.Client{Timeout: 30 * time.Second}
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.secrets == nil && (o.Config.Database.Secret != "" || len(f.roleSecrets) > 0) {
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("loading the AWS configuration: %w", err)
		}
		f.secrets = secrets.NewSecretsManagerFromConfig(awsCfg, secrets.SecretsManagerOptions{})
	}
	pool, err := database.OpenPool(ctx, database.PoolParams{Database: o.Config.Database, MaxConns: 2, Secrets: f.secrets})
	if err != nil {
		return nil, err
	}
	f.pool = pool
	f.logger.Info("migrate ready", "config", o.Config)
	return f, nil
}

// Close closes the database pool.
func (f *Function) Close() { f.pool.Close() }

// Handle runs one custom resource request and answers it: to the
// ResponseURL when the event has one, and as its result. With a
// ResponseURL its error is that of sending the response (the request's
// own failure is in the response, as FAILED with the reason); without
// one (a direct invocation) a FAILED response is also its error.
func (f *Function) Handle(ctx context.Context, ev cfn.Event) (*cfn.Response, error) {
	res := cfn.NewResponse(&ev)
	res.PhysicalResourceID = ev.PhysicalResourceID
	if ev.RequestType == cfn.RequestCreate || res.PhysicalResourceID == "" {
		res.PhysicalResourceID = PhysicalResourceID
	}
	workCtx, cancel := workContext(ctx)
	data, err := f.run(workCtx, ev)
	cancel()
	if err != nil {
		res.Status = cfn.StatusFailed
		res.Reason = reason(ctx, err)
		f.logger.Error("custom resource request failed", "request_type", ev.RequestType, "logical_resource_id", ev.LogicalResourceID, "error", err)
	} else {
		res.Status, res.Data = cfn.StatusSuccess, data
		f.logger.Info("custom resource request done", "request_type", ev.RequestType, "logical_resource_id", ev.LogicalResourceID, "data", data)
	}
	if ev.ResponseURL == "" {
		if res.Status == cfn.StatusFailed {
			return res, errors.New(res.Reason)
		}
		return res, nil
	}
	if err := f.send(ctx, ev.ResponseURL, res); err != nil {
		f.logger.Error("sending the custom resource response failed", "error", err)
		return res, err
	}
	return res, nil
}

// workContext is ctx with its deadline moved responseMargin earlier, so
// that the response still goes out when the work runs late.
func workContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	margin := min(responseMargin, time.Until(deadline)/4)
	return context.WithDeadline(ctx, deadline.Add(-margin))
}

// run does what the request asks and returns the response's Data.
func (f *Function) run(ctx context.Context, ev cfn.Event) (map[string]any, error) {
	switch ev.RequestType {
	case cfn.RequestDelete:
		// The data outlives the resource: nothing is dropped.
		return nil, nil
	case cfn.RequestCreate, cfn.RequestUpdate:
	default:
		return nil, fmt.Errorf("request type %q is none of Create, Update and Delete", ev.RequestType)
	}
	seed, err := seedProperty(ev.ResourceProperties)
	if err != nil {
		return nil, err
	}
	if err := checkVersion(ev.ResourceProperties); err != nil {
		return nil, err
	}
	logins, err := f.logins(ctx)
	if err != nil {
		return nil, err
	}
	m, err := migrate.NewFromPool(f.pool)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	if err := m.EnsureRoles(ctx, logins); err != nil {
		return nil, err
	}
	applied, err := m.Up(ctx)
	for _, r := range applied {
		f.logger.Info("migration applied", "version", r.Version, "name", r.Name, "duration", r.Duration)
	}
	if err != nil {
		return nil, err
	}
	if err := m.Grant(ctx); err != nil {
		return nil, err
	}
	roles := make([]string, len(logins))
	for i, l := range logins {
		roles[i] = l.Role
	}
	data := map[string]any{
		"Version": strconv.FormatInt(migrate.Latest(), 10),
		"Applied": strconv.Itoa(len(applied)),
		"Roles":   fmt.Sprint(roles),
		"Seeded":  "false",
	}
	if seed {
		counts, err := supportdesk.Seed(ctx, f.pool, f.now())
		if err != nil {
			return nil, fmt.Errorf("seeding the support desk's sample data: %w", err)
		}
		f.logger.Info("support desk seeded", "customers", counts.Customers, "orders", counts.Orders, "tickets", counts.Tickets, "articles", counts.Articles)
		data["Seeded"] = "true"
	}
	return data, nil
}

// logins reads the role secrets.
func (f *Function) logins(ctx context.Context) ([]migrate.Login, error) {
	logins := make([]migrate.Login, 0, len(f.roleSecrets))
	for _, id := range f.roleSecrets {
		v, err := f.secrets.Get(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("reading a role secret (AIFLOW_DATABASE_ROLE_SECRETS): %w", err)
		}
		c, err := database.ParseCredentials(id, v)
		if err != nil {
			return nil, err
		}
		logins = append(logins, migrate.Login{Role: c.Username, Password: c.Password})
	}
	return logins, nil
}

// seedProperty reads SeedSupportData: CloudFormation passes every
// property as a string.
func seedProperty(props map[string]any) (bool, error) {
	switch v := props[PropertySeedSupportData]; v {
	case nil, "false", false:
		return false, nil
	case "true", true:
		return true, nil
	default:
		return false, fmt.Errorf("property %s is %v, neither \"true\" nor \"false\"", PropertySeedSupportData, v)
	}
}

// checkVersion refuses a template whose MigrationsVersion is not the
// newest migration this function has: with an older one, the deploy that
// adds the next migration would send no Update and leave it unapplied.
func checkVersion(props map[string]any) error {
	v, ok := props[PropertyMigrationsVersion]
	if !ok {
		return nil
	}
	latest := migrate.Latest()
	if fmt.Sprint(v) != strconv.FormatInt(latest, 10) {
		return fmt.Errorf("property %s is %v but this function's newest migration is %d: set %s: \"%d\" in the template", PropertyMigrationsVersion, v, latest, PropertyMigrationsVersion, latest)
	}
	return nil
}

// reason is the Reason of a failed response: the error, bounded, and
// where the function's logs are.
func reason(ctx context.Context, err error) string {
	r := err.Error()
	if len(r) > maxReason {
		cut := maxReason
		for cut > 0 && !utf8.RuneStart(r[cut]) {
			cut--
		}
		r = r[:cut] + "…"
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok && lambdacontext.LogStreamName != "" {
		r += " (see CloudWatch log stream " + lambdacontext.LogStreamName + ", request " + lc.AwsRequestID + ")"
	}
	return r
}

// send PUTs the response to CloudFormation's presigned URL. The request
// has no Content-Type: the URL's signature was made without one.
func (f *Function) send(ctx context.Context, url string, res *cfn.Response) error {
	body, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("encoding the custom resource response: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("making the custom resource response request: %w", err)
	}
	req.Header.Del("Content-Type")
	resp, err := f.client.Do(req)
	if err != nil {
		return fmt.Errorf("sending the custom resource response: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("sending the custom resource response: the response URL answered %s", resp.Status)
	}
	return nil
}
