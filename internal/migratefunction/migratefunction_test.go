package migratefunction_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/migrate"
	"github.com/aiflow/aiflow/internal/migratefunction"
	"github.com/aiflow/aiflow/internal/pgcluster"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/secrets"
	"github.com/aiflow/aiflow/internal/secretsapi"
)

// TestMain gives the tests the shared throwaway cluster (for the tests
// that need no passwords checked).
func TestMain(m *testing.M) { pgclustertest.Main(m) }

// putRequest is one response CloudFormation's URL received.
type putRequest struct {
	ContentType []string
	Response    cfn.Response
}

// testBundle is a cluster that checks passwords, the Secrets Manager API
// on loopback with the master and role secrets, and a response URL that
// records what it receives.
type testBundle struct {
	admin    string // the superuser's URL, database postgres
	host     string
	port     int
	client   *secretsmanager.Client
	source   secrets.Source
	response *httptest.Server
	status   int // what the response URL answers

	mu   sync.Mutex
	puts []putRequest
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	b := &testBundle{status: http.StatusOK}
	// Roles belong to the cluster: one of the test's own, which checks
	// passwords (the shared throwaway cluster trusts local logins).
	bins, err := pgcluster.FindBinaries(os.Getenv("AIFLOW_PG_BINDIR"))
	require.NoError(t, err)
	c, err := pgcluster.Start(t.Context(), pgcluster.Options{Binaries: bins, Dir: filepath.Join(pgclustertest.ReachableTempDir(t), "pg")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Stop(context.Background())) })
	b.admin = c.URL("postgres")
	cc, err := pgconn.ParseConfig(b.admin)
	require.NoError(t, err)
	b.host, b.port = cc.Host, int(cc.Port)

	srv := httptest.NewServer(secretsapi.New(secretsapi.NewMemoryStore(), secretsapi.Options{}))
	t.Cleanup(srv.Close)
	b.client = secretsmanager.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "example-secret-key", ""),
		BaseEndpoint: aws.String(srv.URL),
	})
	// No cache: the test changes secrets between requests.
	b.source = secrets.NewSecretsManager(b.client, secrets.SecretsManagerOptions{TTL: time.Nanosecond})

	b.response = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var res cfn.Response
		if r.Method != http.MethodPut || json.Unmarshal(body, &res) != nil {
			http.Error(w, "want a PUT of a JSON response", http.StatusBadRequest)
			return
		}
		b.mu.Lock()
		b.puts = append(b.puts, putRequest{ContentType: r.Header.Values("Content-Type"), Response: res})
		status := b.status
		b.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(b.response.Close)

	pw, _ := url.Parse(b.admin)
	password, _ := pw.User.Password()
	b.put(t, "aiflow/master", map[string]any{"username": "postgres", "password": password, "engine": "postgres", "host": b.host, "port": b.port})
	for _, role := range []string{"api", "engine", "support", "worker"} {
		b.put(t, "aiflow/"+role+"-db", map[string]any{"username": "aiflow_" + role, "password": role + "-password-1"})
	}
	return b
}

// put makes or changes the secret name.
func (b *testBundle) put(t *testing.T, name string, value map[string]any) {
	t.Helper()
	raw, err := json.Marshal(value)
	require.NoError(t, err)
	_, err = b.client.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(string(raw))})
	if err != nil {
		_, err = b.client.PutSecretValue(t.Context(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(string(raw))})
	}
	require.NoError(t, err)
}

// createDatabase makes the database name as the master would have it.
func (b *testBundle) createDatabase(t *testing.T, name string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), b.admin)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(t.Context(), "CREATE DATABASE "+name)
	require.NoError(t, err)
}

// function builds the function on database dbname, as its main does but
// with the test's secrets source.
func (b *testBundle) function(t *testing.T, dbname string) *migratefunction.Function {
	t.Helper()
	f, err := migratefunction.New(t.Context(), migratefunction.Options{
		Config: config.MigrateFunction{
			Database:    config.Database{Secret: "aiflow/master", Name: dbname, SSLMode: "disable"},
			RoleSecrets: []string{"aiflow/api-db", "aiflow/engine-db", "aiflow/support-db", "aiflow/worker-db"},
		},
		LogWriter: io.Discard,
		Secrets:   b.source,
	})
	require.NoError(t, err)
	t.Cleanup(f.Close)
	return f
}

// event is a request as CloudFormation sends it.
func (b *testBundle) event(typ cfn.RequestType, props map[string]any) cfn.Event {
	ev := cfn.Event{
		RequestType:        typ,
		RequestID:          "unique-id-" + string(typ),
		ResponseURL:        b.response.URL + "/cloudformation-custom-resource-response-useast1/signed?X-Amz-Signature=abc",
		ResourceType:       "Custom::Migrations",
		LogicalResourceID:  "DatabaseMigrations",
		StackID:            "arn:aws:cloudformation:us-east-1:123456789012:stack/aiflow-dev/5b4c0b60-d339-11ef-8a5c-0affd4c6a1a3",
		ResourceProperties: map[string]any{"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:aiflow-dev-migrate"},
	}
	for k, v := range props {
		ev.ResourceProperties[k] = v
	}
	if typ != cfn.RequestCreate {
		ev.PhysicalResourceID = migratefunction.PhysicalResourceID
	}
	return ev
}

// handle sends ev and returns what the response URL received.
func (b *testBundle) handle(t *testing.T, f *migratefunction.Function, ev cfn.Event) cfn.Response {
	t.Helper()
	b.mu.Lock()
	before := len(b.puts)
	b.mu.Unlock()
	res, err := f.Handle(t.Context(), ev)
	require.NoError(t, err)
	b.mu.Lock()
	defer b.mu.Unlock()
	require.Len(t, b.puts, before+1, "one PUT per request")
	put := b.puts[before]
	require.Empty(t, put.ContentType, "the presigned URL was signed without a Content-Type")
	sent, err := json.Marshal(res)
	require.NoError(t, err)
	received, err := json.Marshal(put.Response)
	require.NoError(t, err)
	require.JSONEq(t, string(sent), string(received), "Handle returns what it sent")
	require.Equal(t, ev.RequestID, put.Response.RequestID)
	require.Equal(t, ev.StackID, put.Response.StackID)
	require.Equal(t, ev.LogicalResourceID, put.Response.LogicalResourceID)
	require.Equal(t, migratefunction.PhysicalResourceID, put.Response.PhysicalResourceID)
	return put.Response
}

// rolePool logs in as role with password on dbname.
func (b *testBundle) rolePool(t *testing.T, dbname, role, password string) *pgxpool.Pool {
	t.Helper()
	u, err := url.Parse(b.admin)
	require.NoError(t, err)
	u.User, u.Path = url.UserPassword(role, password), "/"+dbname
	pool, err := pgxpool.New(t.Context(), u.String())
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

func latest() string { return strconv.FormatInt(migrate.Latest(), 10) }

// requireLeastPrivilege checks what each service role may do on dbname.
func (b *testBundle) requireLeastPrivilege(t *testing.T, dbname, generation string) {
	t.Helper()
	ctx := t.Context()
	pools := map[string]*pgxpool.Pool{}
	for _, role := range []string{"api", "engine", "support", "worker"} {
		pools[role] = b.rolePool(t, dbname, "aiflow_"+role, role+"-password-"+generation)
	}
	denied := func(role, stmt string) {
		t.Helper()
		_, err := pools[role].Exec(ctx, stmt)
		require.Equal(t, "42501", sqlState(err), "aiflow_%s must not: %s (%v)", role, stmt, err)
	}
	allowed := func(role, stmt string) {
		t.Helper()
		_, err := pools[role].Exec(ctx, stmt)
		require.NoError(t, err, "aiflow_%s: %s", role, stmt)
	}

	allowed("api", "SELECT count(*) FROM workflows") // its search_path starts at api
	allowed("api", "SELECT count(*) FROM api.approvals")
	denied("api", "UPDATE api.workflow_versions SET asl = ''")
	denied("api", "INSERT INTO api.audit_head (id, seq, hash) VALUES (false, 0, '')")
	denied("api", "SELECT count(*) FROM support.customers")
	denied("api", "SELECT count(*) FROM engine.executions")

	allowed("engine", "SELECT count(*) FROM engine.executions")
	denied("engine", "SELECT count(*) FROM api.workflows")

	allowed("support", "SELECT count(*) FROM customers")
	denied("support", "SELECT count(*) FROM api.workflows")

	denied("worker", "SELECT count(*) FROM support.customers")
	denied("worker", "SELECT count(*) FROM api.workflows")
	denied("worker", "UPDATE eventstore.subscriptions SET handled = 0")
	denied("worker", "CREATE TABLE eventstore.mine (id int)")

	// The blob store of large step results (00013): the workers store and
	// read, the API and the engine read, none changes or deletes.
	blobKey := "grants/" + generation + "/s/" + strings.Repeat("0", 64) + ".json"
	allowed("worker", "INSERT INTO eventstore.blobs (key, execution, sha256, bytes, body) VALUES ('"+blobKey+"', 'grants', '"+strings.Repeat("0", 64)+"', 2, '\\x7b7d')")
	allowed("worker", "SELECT count(*) FROM eventstore.blobs")
	allowed("api", "SELECT count(*) FROM eventstore.blobs")
	allowed("engine", "SELECT count(*) FROM eventstore.blobs")
	denied("api", "INSERT INTO eventstore.blobs (key, execution, sha256, bytes, body) VALUES ('x', 'x', '"+strings.Repeat("0", 64)+"', 0, '')")
	denied("worker", "DELETE FROM eventstore.blobs")
	denied("worker", "UPDATE eventstore.blobs SET bytes = 0")
	denied("support", "SELECT count(*) FROM eventstore.blobs")

	// Every function's role appends to and reads the event store, and none
	// may change history.
	for role, pool := range pools {
		store, err := eventstore.Open(ctx, pool, eventstore.Options{})
		require.NoError(t, err, "aiflow_%s opens the event store", role)
		stream := "grants-" + role + "-" + generation
		_, err = store.Append(ctx, stream, eventstore.NoStream, eventstore.NewEvent{Type: "Probe", Data: []byte(`{"by":"` + role + `"}`)})
		require.NoError(t, err, "aiflow_%s appends", role)
		evs, err := store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{})
		require.NoError(t, err)
		require.Len(t, evs, 1)
		denied(role, "DELETE FROM eventstore.events")
	}
}

// One test, its steps in order: roles belong to the cluster, and each
// step builds on the one before.
func TestMigrationsRolesAndSeedThroughTheCustomResource(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()

	// A database that was migrated before the roles existed (an existing
	// cluster migrated by hand): the grants step gives the roles made now
	// the rights the migrations could not.
	b.createDatabase(t, "aiflow_old")
	u, _ := url.Parse(b.admin)
	u.Path = "/aiflow_old"
	m, err := migrate.New(u.String())
	require.NoError(t, err)
	_, err = m.Up(ctx)
	require.NoError(t, err)
	require.NoError(t, m.Close())

	f := b.function(t, "aiflow_old")
	res := b.handle(t, f, b.event(cfn.RequestCreate, map[string]any{"MigrationsVersion": latest(), "SeedSupportData": "true"}))
	require.Equal(t, cfn.StatusSuccess, res.Status, res.Reason)
	require.Equal(t, map[string]any{"Version": latest(), "Applied": "0", "Roles": "[aiflow_api aiflow_engine aiflow_support aiflow_worker]", "Seeded": "true"}, res.Data)
	b.requireLeastPrivilege(t, "aiflow_old", "1")
	var customers int
	require.NoError(t, b.rolePool(t, "aiflow_old", "aiflow_support", "support-password-1").QueryRow(ctx, "SELECT count(*) FROM support.customers").Scan(&customers))
	require.Positive(t, customers, "seeded")

	// A new database, the roles existing: Create migrates it whole.
	b.createDatabase(t, "aiflow_new")
	f = b.function(t, "aiflow_new")
	res = b.handle(t, f, b.event(cfn.RequestCreate, map[string]any{"MigrationsVersion": latest(), "SeedSupportData": "false"}))
	require.Equal(t, cfn.StatusSuccess, res.Status, res.Reason)
	require.Equal(t, latest(), res.Data["Applied"], "every migration applied")
	require.Equal(t, "false", res.Data["Seeded"])
	b.requireLeastPrivilege(t, "aiflow_new", "1")
	require.NoError(t, b.rolePool(t, "aiflow_new", "aiflow_support", "support-password-1").QueryRow(ctx, "SELECT count(*) FROM support.customers").Scan(&customers))
	require.Zero(t, customers, "not seeded")

	// The role secrets rotated: an Update sets the new passwords, and the
	// seed, asked for now, runs once however often it is asked.
	for _, role := range []string{"api", "engine", "support", "worker"} {
		b.put(t, "aiflow/"+role+"-db", map[string]any{"username": "aiflow_" + role, "password": role + "-password-2"})
	}
	for range 2 {
		res = b.handle(t, f, b.event(cfn.RequestUpdate, map[string]any{"MigrationsVersion": latest(), "SeedSupportData": "true"}))
		require.Equal(t, cfn.StatusSuccess, res.Status, res.Reason)
		require.Equal(t, "0", res.Data["Applied"])
	}
	b.requireLeastPrivilege(t, "aiflow_new", "2")
	var seeded int
	require.NoError(t, b.rolePool(t, "aiflow_new", "aiflow_support", "support-password-2").QueryRow(ctx, "SELECT count(*) FROM support.customers").Scan(&seeded))
	require.Equal(t, 36, seeded, "seeded once")
	_, err = pgx.Connect(ctx, func() string {
		u, _ := url.Parse(b.admin)
		u.User, u.Path = url.UserPassword("aiflow_api", "api-password-1"), "/aiflow_new"
		return u.String()
	}())
	require.ErrorContains(t, err, "password authentication failed", "the old password no longer works")

	// Delete leaves the data alone.
	res = b.handle(t, f, b.event(cfn.RequestDelete, map[string]any{"MigrationsVersion": latest()}))
	require.Equal(t, cfn.StatusSuccess, res.Status)
	require.NoError(t, b.rolePool(t, "aiflow_new", "aiflow_support", "support-password-2").QueryRow(ctx, "SELECT count(*) FROM support.customers").Scan(&seeded))
	require.Equal(t, 36, seeded)

	// Failures are answered as FAILED with a reason that says what to do.
	res = b.handle(t, f, b.event(cfn.RequestUpdate, map[string]any{"MigrationsVersion": "1"}))
	require.Equal(t, cfn.StatusFailed, res.Status)
	require.Contains(t, res.Reason, "MigrationsVersion is 1 but this function's newest migration is "+latest())
	res = b.handle(t, f, b.event(cfn.RequestUpdate, map[string]any{"SeedSupportData": "yes"}))
	require.Equal(t, cfn.StatusFailed, res.Status)
	require.Contains(t, res.Reason, "SeedSupportData")
	b.put(t, "aiflow/worker-db", map[string]any{"username": "postgres", "password": "worker-password-3"})
	res = b.handle(t, f, b.event(cfn.RequestUpdate, nil))
	require.Equal(t, cfn.StatusFailed, res.Status)
	require.Contains(t, res.Reason, `"postgres" is not a service role of aiflow`)
	require.NotContains(t, res.Reason, "password-3")
}

func TestDeleteNeedsNoDatabase(t *testing.T) {
	t.Parallel()
	var got []cfn.Response
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var res cfn.Response
		require.NoError(t, json.NewDecoder(r.Body).Decode(&res))
		mu.Lock()
		got = append(got, res)
		mu.Unlock()
	}))
	defer srv.Close()
	f, err := migratefunction.New(t.Context(), migratefunction.Options{
		Config:    config.MigrateFunction{Database: config.Database{URL: "postgres://aiflow_admin:pw@127.0.0.1:1/aiflow?sslmode=disable&connect_timeout=1"}},
		LogWriter: io.Discard,
	})
	require.NoError(t, err)
	defer f.Close()
	res, err := f.Handle(t.Context(), cfn.Event{RequestType: cfn.RequestDelete, RequestID: "r1", ResponseURL: srv.URL, LogicalResourceID: "DatabaseMigrations", StackID: "s", PhysicalResourceID: "aiflow-database-migrations"})
	require.NoError(t, err)
	require.Equal(t, cfn.StatusSuccess, res.Status)
	mu.Lock()
	require.Len(t, got, 1)
	mu.Unlock()

	// A Create that cannot reach the database fails the deploy at once.
	res, err = f.Handle(t.Context(), cfn.Event{RequestType: cfn.RequestCreate, RequestID: "r2", ResponseURL: srv.URL, LogicalResourceID: "DatabaseMigrations", StackID: "s"})
	require.NoError(t, err)
	require.Equal(t, cfn.StatusFailed, res.Status)
	require.NotContains(t, res.Reason, "pw@", "no password in the reason")
	require.Equal(t, migratefunction.PhysicalResourceID, res.PhysicalResourceID)
}

func TestDirectInvocationAndRefusedResponses(t *testing.T) {
	t.Parallel()
	db := pgclustertest.EmptyDatabase(t)
	f, err := migratefunction.New(t.Context(), migratefunction.Options{Config: config.MigrateFunction{Database: config.Database{URL: db}}, LogWriter: io.Discard})
	require.NoError(t, err)
	defer f.Close()

	// No ResponseURL: the response is the invocation's result.
	res, err := f.Handle(t.Context(), cfn.Event{RequestType: cfn.RequestCreate, RequestID: "r1", LogicalResourceID: "DatabaseMigrations", ResourceProperties: map[string]any{"MigrationsVersion": latest()}})
	require.NoError(t, err)
	require.Equal(t, cfn.StatusSuccess, res.Status, res.Reason)
	require.Equal(t, latest(), res.Data["Applied"])
	require.Equal(t, "[]", res.Data["Roles"])
	res, err = f.Handle(t.Context(), cfn.Event{RequestType: "Replace", RequestID: "r3"})
	require.ErrorContains(t, err, `request type "Replace" is none of Create, Update and Delete`)
	require.Equal(t, cfn.StatusFailed, res.Status)

	// A response URL that refuses the response (an expired signature) is
	// the invocation's error: CloudFormation never heard of the result.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<Error><Code>AccessDenied</Code></Error>", http.StatusForbidden)
	}))
	defer srv.Close()
	_, err = f.Handle(t.Context(), cfn.Event{RequestType: cfn.RequestUpdate, RequestID: "r2", ResponseURL: srv.URL, PhysicalResourceID: migratefunction.PhysicalResourceID})
	require.ErrorContains(t, err, "403 Forbidden")
}
