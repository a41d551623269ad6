package apistore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Bounds of a batch of claims.
const (
	// maxClaimBatch bounds the claims one statement records.
	maxClaimBatch = 500
	// claimBatchTimeout bounds a batch's statements, which no caller's
	// context governs alone.
	claimBatchTimeout = 30 * time.Second
)

// Claims in one process are committed in groups (batchcall), as the
// audit log's records are: while one batch is being written, the claims
// that arrive queue up, and the next batch records them all in one
// statement and one commit. A start that sends a key waits for its
// claim's commit before it starts anything, so each commit it does not
// wait for alone is time it does not spend.

type claimResult struct {
	stored  IdempotencyKey
	created bool
	err     error
}

// claim records k in a batch and returns its result once the batch is
// committed. When ctx ends first, it returns ctx's error, and the claim
// is still recorded with its batch (a retry with the same key then finds
// it).
func (s *Store) claim(ctx context.Context, k IdempotencyKey) (IdempotencyKey, bool, error) {
	r, err := s.claims.Do(ctx, k)
	if err != nil {
		return IdempotencyKey{}, false, fmt.Errorf("recording an idempotency key: %w", err)
	}
	return r.stored, r.created, r.err
}

// claimID is a principal's key.
type claimID struct{ principal, key string }

// claimBatch records the batch's keys in one statement: each principal's
// key that is new is stored as its first claim in the batch asks. A
// claim of a key stored before, or claimed earlier in the same batch,
// comes back as stored, read after the insert is committed.
func (s *Store) claimBatch(ctx context.Context, batch []IdempotencyKey) []claimResult {
	results := make([]claimResult, len(batch))
	fail := func(err error) []claimResult {
		for i := range results {
			results[i] = claimResult{err: err}
		}
		return results
	}
	first := make(map[claimID]int, len(batch))
	var principals, keys, hashes, arns []string
	var times []time.Time
	for i, k := range batch {
		id := claimID{k.Principal, k.Key}
		if _, ok := first[id]; ok {
			continue
		}
		first[id] = i
		principals, keys = append(principals, k.Principal), append(keys, k.Key)
		hashes, arns, times = append(hashes, k.RequestHash), append(arns, k.ExecutionARN), append(times, k.CreatedAt)
	}
	rows, err := s.pool.Query(ctx, `INSERT INTO api.idempotency_keys (principal, key, request_hash, execution_arn, created_at)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
		ON CONFLICT (principal, key) DO NOTHING RETURNING principal, key`, principals, keys, hashes, arns, times)
	if err != nil {
		return fail(fmt.Errorf("recording %d idempotency keys: %w", len(principals), interpret(err)))
	}
	created := make(map[claimID]bool, len(principals))
	var id claimID
	if _, err := pgx.ForEachRow(rows, []any{&id.principal, &id.key}, func() error {
		created[id] = true
		return nil
	}); err != nil {
		return fail(fmt.Errorf("recording %d idempotency keys: %w", len(principals), interpret(err)))
	}
	var readPrincipals, readKeys []string
	for i, k := range batch {
		id := claimID{k.Principal, k.Key}
		if created[id] && first[id] == i {
			results[i] = claimResult{stored: k, created: true}
			continue
		}
		readPrincipals, readKeys = append(readPrincipals, id.principal), append(readKeys, id.key)
	}
	if len(readKeys) == 0 {
		return results
	}
	stored, err := s.storedKeys(ctx, readPrincipals, readKeys)
	if err != nil {
		for i := range results {
			if !results[i].created {
				results[i] = claimResult{err: err}
			}
		}
		return results
	}
	for i, key := range batch {
		if results[i].created {
			continue
		}
		k, ok := stored[claimID{key.Principal, key.Key}]
		if !ok {
			results[i] = claimResult{err: fmt.Errorf("reading an idempotency key: %w", ErrNotFound)}
			continue
		}
		results[i] = claimResult{stored: k}
	}
	return results
}

// storedKeys reads the stored claims of the principals' keys.
func (s *Store) storedKeys(ctx context.Context, principals, keys []string) (map[claimID]IdempotencyKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT k.principal, k.key, k.request_hash, k.execution_arn, k.created_at
		FROM api.idempotency_keys k JOIN unnest($1::text[], $2::text[]) AS q(principal, key) USING (principal, key)`, principals, keys)
	if err != nil {
		return nil, fmt.Errorf("reading %d idempotency keys: %w", len(keys), interpret(err))
	}
	out := make(map[claimID]IdempotencyKey, len(keys))
	var k IdempotencyKey
	if _, err := pgx.ForEachRow(rows, []any{&k.Principal, &k.Key, &k.RequestHash, &k.ExecutionARN, &k.CreatedAt}, func() error {
		out[claimID{k.Principal, k.Key}] = k
		return nil
	}); err != nil {
		return nil, fmt.Errorf("reading %d idempotency keys: %w", len(keys), interpret(err))
	}
	return out, nil
}
