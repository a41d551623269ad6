package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aiflow/aiflow/internal/blob/pgblob"
	"github.com/aiflow/aiflow/internal/eventstore"
)

// deleteArchivedBlobs deletes the large step results (eventstore.blobs)
// stored before the month `aiflow archive` archived up to: they belong to
// the history it moved out. It prints how many there were, when any, and
// returns the command's status.
func deleteArchivedBlobs(ctx context.Context, store *eventstore.Store, before time.Time, e env) int {
	n, err := pgblob.New(store.Pool()).DeleteBefore(ctx, before)
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow archive: %v\n", err)
		return 1
	}
	if n > 0 {
		fmt.Fprintf(e.stdout, "deleted %d large step %s stored before %s\n", n, plural(n, "result"), before.Format("2006-01"))
	}
	return 0
}
