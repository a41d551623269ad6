package apistore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

// TestClaimKeysConcurrently: claims made at once, committed together,
// store each key once, as its one claim that comes back created, and every
// other claim of the key gets that one back.
func TestClaimKeysConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := apistore.New(pgclustertest.PackagePool(t))
	// The package's database outlives a run: each run has its principal.
	principal := fmt.Sprintf("claims-%d", rand.Uint64())
	const keys, claimsPerKey = 12, 5
	type result struct {
		stored  apistore.IdempotencyKey
		created bool
		err     error
	}
	results := make([][]result, keys)
	for i := range results {
		results[i] = make([]result, claimsPerKey)
	}
	var wg sync.WaitGroup
	for k := range keys {
		for c := range claimsPerKey {
			wg.Go(func() {
				stored, created, err := s.ClaimKey(ctx, apistore.IdempotencyKey{Principal: principal, Key: fmt.Sprintf("order-%d", k),
					RequestHash: fmt.Sprintf("h%d-%d", k, c), ExecutionARN: fmt.Sprintf("arn:e%d-%d", k, c), CreatedAt: t0})
				results[k][c] = result{stored, created, err}
			})
		}
	}
	wg.Wait()
	for k, claims := range results {
		var winner *apistore.IdempotencyKey
		for _, r := range claims {
			require.NoError(t, r.err)
			if r.created {
				require.Nil(t, winner, "key %d is stored once", k)
				winner = &r.stored
			}
		}
		require.NotNil(t, winner, "key %d is stored", k)
		for _, r := range claims {
			require.Equal(t, winner.RequestHash, r.stored.RequestHash, "every claim of key %d gets the stored one", k)
			require.Equal(t, winner.ExecutionARN, r.stored.ExecutionARN)
		}
	}
}

func TestClaimKeyWithAnEndedContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := apistore.New(pgclustertest.PackagePool(t))
	_, _, err := s.ClaimKey(ctx, apistore.IdempotencyKey{Principal: "ended", Key: "k", RequestHash: "h", ExecutionARN: "arn:e", CreatedAt: t0})
	require.ErrorIs(t, err, context.Canceled)
}
