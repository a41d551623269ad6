package enginetest

import (
	"context"

	"github.com/aiflow/aiflow/internal/engine"
)

// Store is an engine.Store for injecting failures into commits: Commit
// calls CommitFunc when that is set, and every other call goes to the
// embedded Store (usually engine.NewMemoryStore()). A CommitFunc that
// blocks, fails or refuses shows what the engine does when its store
// hangs, is unavailable or refuses a transition; it may call
// Store.Commit itself to let a commit through.
type Store struct {
	engine.Store
	CommitFunc func(ctx context.Context, commits []engine.Commit) error
}

var _ engine.Store = (*Store)(nil)

// Commit calls CommitFunc or the embedded Store's Commit.
func (s *Store) Commit(ctx context.Context, commits []engine.Commit) error {
	if s.CommitFunc != nil {
		return s.CommitFunc(ctx, commits)
	}
	return s.Store.Commit(ctx, commits)
}
