package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/audit"
	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/blob/pgblob"
	"github.com/aiflow/aiflow/internal/control"
	"github.com/aiflow/aiflow/internal/httpapi"
	"github.com/aiflow/aiflow/internal/ratelimit"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/steps/detailstore"
	"github.com/aiflow/aiflow/internal/telemetry"
	"github.com/aiflow/aiflow/internal/workflow"
)

// devTokenTTL is how long the development token printed by aiflow dev is
// valid.
const devTokenTTL = 24 * time.Hour

// devExamples is where aiflow dev finds the example workflows it publishes
// at start, and their tool catalog.
const devExamples = "examples"

// devKey returns the HMAC key of development tokens: the configured one
// (AIFLOW_AUTH_HMAC_KEY), or one made once and kept in the data folder (readable by its owner
// only), so tokens stay valid across restarts.
func devKey(configured telemetry.Secret, dataDir string) ([]byte, error) {
	if configured != "" {
		return []byte(configured.Reveal()), nil
	}
	path := filepath.Join(dataDir, "dev-key")
	if raw, err := os.ReadFile(path); err == nil && len(bytes.TrimSpace(raw)) >= 32 {
		return bytes.TrimSpace(raw), nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("making the development key: %w", err)
	}
	key := []byte(hex.EncodeToString(b))
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("making %s: %w", dataDir, err)
	}
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return nil, fmt.Errorf("keeping the development key: %w", err)
	}
	return key, nil
}

// devCatalog reads the examples' catalogs (MCP tools and services), which
// workflows published to aiflow dev are checked against; nil when there
// are none.
func devCatalog() (*workflow.Catalog, error) {
	return readCatalogsIn(devExamples)
}

// newDevAPI builds the HTTP API of aiflow dev over its engine, with
// development tokens signed by key, each principal's requests limited by
// limiter, and the use cases it serves, which
// publish the examples at start.
func newDevAPI(pool *pgxpool.Pool, d *devEngine, reg *registry.Registry, details *detailstore.Store, key []byte, limiter *ratelimit.Limiter, requests httpapi.RequestObserver, logger *slog.Logger) (*httpapi.Server, *control.Service, error) {
	verifier, err := auth.NewVerifier(auth.VerifierOptions{Issuer: auth.DevIssuer, Audience: []string{auth.DevAudience}, HMACKey: key})
	if err != nil {
		return nil, nil, err
	}
	failures, err := httpapi.NewFailureLimiter()
	if err != nil {
		return nil, nil, err
	}
	catalog, err := devCatalog()
	if err != nil {
		return nil, nil, err
	}
	store := apistore.New(pool)
	approvals := &httpapi.ApprovalWorker{Store: store, Tokens: d.engine}
	if err := d.subscribe(workflow.ApprovalQueueSubstitution, approvals.Handle); err != nil {
		return nil, nil, err
	}
	api := httpapi.New(httpapi.Options{
		DB: pool, Version: versionString(), Logger: logger,
		Store: store, Machines: d.engine, Details: details, Tokens: httpapi.BrokerStream{Broker: d.stream},
		Authenticator: verifier, Audit: audit.New(pool, audit.Options{}), Limiter: limiter,
		FailureLimiter: failures, Catalog: catalog, QueueURLs: d.queueOf, Registry: reg,
		Requests: requests, MCP: apiMCPServers(d.mcp, logger), Blobs: pgblob.New(pool),
	})
	return api, api.Control(), nil
}

// publishExamples publishes every example workflow, as the principal
// "dev", and returns their names.
func publishExamples(ctx context.Context, c *control.Service) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(devExamples, "*.yaml"))
	if err != nil || len(files) == 0 {
		return nil, err
	}
	var names []string
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", f, err)
		}
		if _, err := c.Publish(ctx, control.PublishParams{Definition: src, Principal: "dev"}); err != nil {
			var ce *control.Error
			if errors.As(err, &ce) {
				for _, fe := range ce.Fields {
					err = fmt.Errorf("%w\n  %s: %s", err, fe.Location, fe.Detail)
				}
			}
			return nil, fmt.Errorf("publishing %s: %w", f, err)
		}
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".yaml"))
	}
	sort.Strings(names)
	return names, nil
}
