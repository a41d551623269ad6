// Package pgblob is the blob store (internal/blob) on PostgreSQL: the
// table eventstore.blobs (migration 00013), which the step workers' role
// reads and inserts into and the API's role reads. It is the store of
// `aiflow dev`, and of the step workers when AIFLOW_BLOB_STORE=postgres.
package pgblob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/blob"
)

// Store is a blob.Store on the table eventstore.blobs.
type Store struct {
	pool *pgxpool.Pool
}

var (
	_ blob.Store            = (*Store)(nil)
	_ blob.ExecutionDeleter = (*Store)(nil)
)

// New returns a store on pool's database, migrated to 00013 or later.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Put inserts body under key; a key already stored is left as it is,
// since keys are content-addressed.
func (s *Store) Put(ctx context.Context, key string, body []byte) (string, error) {
	execution, _, ok := strings.Cut(key, "/")
	if !ok {
		return "", fmt.Errorf("storing the blob %s: the key has no execution part (see blob.Key)", key)
	}
	sum := sha256.Sum256(body)
	_, err := s.pool.Exec(ctx, `INSERT INTO eventstore.blobs (key, execution, sha256, bytes, body) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (key) DO NOTHING`, key, execution, hex.EncodeToString(sum[:]), len(body), body)
	if err != nil {
		return "", fmt.Errorf("storing the blob %s: %w", key, err)
	}
	return blob.LocalScheme + key, nil
}

// Get reads the blob of uri.
func (s *Store) Get(ctx context.Context, uri string) ([]byte, error) {
	key, err := blob.LocalKey(uri)
	if err != nil {
		return nil, err
	}
	var body []byte
	err = s.pool.QueryRow(ctx, `SELECT body FROM eventstore.blobs WHERE key = $1`, key).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("reading %s: %w", uri, blob.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", uri, err)
	}
	return body, nil
}

// DeleteExecution deletes the blobs of an execution.
func (s *Store) DeleteExecution(ctx context.Context, executionARN string) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM eventstore.blobs WHERE execution = $1`, blob.ExecutionPrefix(executionARN))
	if err != nil {
		return 0, fmt.Errorf("deleting the blobs of %s: %w", executionARN, err)
	}
	return int(tag.RowsAffected()), nil
}

// DeleteBefore deletes the blobs stored before t, and returns how many
// there were: `aiflow archive` calls it with the month it archived up to.
func (s *Store) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM eventstore.blobs WHERE created_at < $1`, t)
	if err != nil {
		return 0, fmt.Errorf("deleting the blobs made before %s: %w", t.Format(time.RFC3339), err)
	}
	return tag.RowsAffected(), nil
}
