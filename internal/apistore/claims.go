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

// claimQueue holds the idempotency keys waiting to be claimed. Claims in
// one process are committed in groups, as the audit log's records are:
// while one batch is being written, the claims that arrive queue up, and
// the next batch records them all in one statement and one commit. A
// start that sends a key waits for its claim's commit before it starts
// anything, so each commit it does not wait for alone is time it does
// not spend.
type claimQueue struct {
	queue    []*pendingClaim
	flushing bool // a flush is running; it drains the queue
}

// pendingClaim is a claim waiting for its batch, and where its result
// goes.
type pendingClaim struct {
	key  IdempotencyKey
	done chan claimResult // buffered: the writer never waits for the caller
}

type claimResult struct {
	stored  IdempotencyKey
	created bool
	err     error
}

// claim queues k and returns its result once its batch is committed; the
// caller whose claim finds no batch running writes the batch itself. When
// ctx ends first, it returns ctx's error, and the claim may still be
// recorded (a retry with the same key then finds it).
func (s *Store) claim(ctx context.Context, k IdempotencyKey) (IdempotencyKey, bool, error) {
	if err := ctx.Err(); err != nil {
		return IdempotencyKey{}, false, fmt.Errorf("recording an idempotency key: %w", err)
	}
	p := &pendingClaim{key: k, done: make(chan claimResult, 1)}
	s.mu.Lock()
	s.claims.queue = append(s.claims.queue, p)
	lead := !s.claims.flushing
	s.claims.flushing = true
	s.mu.Unlock()
	if lead {
		s.flushClaims(context.WithoutCancel(ctx))
	}
	select {
	case r := <-p.done:
		return r.stored, r.created, r.err
	case <-ctx.Done():
		return IdempotencyKey{}, false, fmt.Errorf("recording an idempotency key: %w", ctx.Err())
	}
}

// flushClaims records one batch from the queue, and starts the next flush
// when more claims are waiting.
func (s *Store) flushClaims(ctx context.Context) {
	s.mu.Lock()
	n := min(len(s.claims.queue), maxClaimBatch)
	batch := make([]*pendingClaim, n)
	copy(batch, s.claims.queue)
	s.claims.queue = s.claims.queue[n:]
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, claimBatchTimeout)
	results := s.claimBatch(ctx, batch)
	cancel()
	for i, p := range batch {
		p.done <- results[i]
	}

	s.mu.Lock()
	if len(s.claims.queue) == 0 {
		s.claims.flushing = false
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	go s.flushClaims(context.Background())
}

// claimID is a principal's key.
type claimID struct{ principal, key string }

// claimBatch records the batch's keys in one statement: each principal's
// key that is new is stored as its first claim in the batch asks. A
// claim of a key stored before, or claimed earlier in the same batch,
// comes back as stored, read after the insert is committed.
func (s *Store) claimBatch(ctx context.Context, batch []*pendingClaim) []claimResult {
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
	for i, p := range batch {
		id := claimID{p.key.Principal, p.key.Key}
		if _, ok := first[id]; ok {
			continue
		}
		first[id] = i
		principals, keys = append(principals, p.key.Principal), append(keys, p.key.Key)
		hashes, arns, times = append(hashes, p.key.RequestHash), append(arns, p.key.ExecutionARN), append(times, p.key.CreatedAt)
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
	for i, p := range batch {
		id := claimID{p.key.Principal, p.key.Key}
		if created[id] && first[id] == i {
			results[i] = claimResult{stored: p.key, created: true}
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
	for i, p := range batch {
		if results[i].created {
			continue
		}
		k, ok := stored[claimID{p.key.Principal, p.key.Key}]
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
