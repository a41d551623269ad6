package eventstore

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

// requireConflict requires err to be a *ConflictError saying the stream
// is at actual.
func requireConflict(t *testing.T, err error, actual int64) {
	t.Helper()
	var conflict *ConflictError
	require.ErrorAs(t, err, &conflict)
	require.Equal(t, actual, conflict.Actual)
}

// TestKnownVersionsSkipOnlyTheProbesOfStoredVersions: a store that saw a
// version committed appends after it without probing for it, and the
// expectations keep their meaning: a stream moved by another store since is
// a conflict (its next version is taken), and a version the store does not
// know stored is probed, a gap refused.
func TestKnownVersionsSkipOnlyTheProbesOfStoredVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgclustertest.PackagePool(t)
	mine, err := Open(ctx, pool, Options{})
	require.NoError(t, err)
	other, err := Open(ctx, pool, Options{}) // knows nothing of mine's appends
	require.NoError(t, err)
	x := fastStream(t)

	_, err = mine.Append(ctx, x, NoStream, fastEvents("A1", "A2", "A3")...)
	require.NoError(t, err)
	reqs := []preparedRequest{
		{streamID: x, expected: Exact(2)}, {streamID: x, expected: Exact(3)}, {streamID: x, expected: Exact(4)},
		{streamID: x, expected: Any}, {streamID: x, expected: NoStream}, {streamID: fastStream(t), expected: Exact(1)},
	}
	mine.known.markStored(reqs)
	for i, want := range []bool{true, true, false, false, false, false} {
		require.Equal(t, want, reqs[i].stored, "request %d", i)
	}

	_, err = other.Append(ctx, x, Exact(3), fastEvents("B4", "B5")...)
	require.NoError(t, err)
	_, err = mine.Append(ctx, x, Exact(3), fastEvents("C")...)
	requireConflict(t, err, 5) // 3 known stored, not probed: 4 is taken
	_, err = mine.Append(ctx, x, Exact(7), fastEvents("D")...)
	requireConflict(t, err, 5) // 7 not known: probed, not stored
	res, err := mine.Append(ctx, x, Exact(5), fastEvents("E6")...)
	require.NoError(t, err)
	require.Equal(t, int64(6), res.Version)
	res, err = mine.Append(ctx, x, Exact(6), fastEvents("F7")...)
	require.NoError(t, err)
	require.Equal(t, int64(7), res.Version)

	evs, err := mine.ReadStream(ctx, x, ReadStreamOptions{})
	require.NoError(t, err)
	var got []string
	for i, e := range evs {
		require.Equal(t, int64(i+1), e.Version)
		got = append(got, e.Type)
	}
	require.Equal(t, []string{"A1", "A2", "A3", "B4", "B5", "E6", "F7"}, got)
}

// TestKnownVersionsRecordOnlyCommittedAppends: an append rolled back
// teaches the store nothing, so an expectation of the version it would have
// written is still probed and refused.
func TestKnownVersionsRecordOnlyCommittedAppends(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, pgclustertest.PackagePool(t), Options{})
	require.NoError(t, err)
	x := fastStream(t)
	_, err = s.Append(ctx, x, NoStream, fastEvents("A1")...)
	require.NoError(t, err)

	refused := errors.New("refused by the caller")
	_, err = s.AppendManyWith(ctx, []AppendRequest{{StreamID: x, Expected: Exact(1), Events: fastEvents("B2")}},
		func(context.Context, pgx.Tx) error { return refused })
	require.ErrorIs(t, err, refused)
	_, err = s.Append(ctx, x, Exact(2), fastEvents("C3")...)
	requireConflict(t, err, 1)

	res, err := s.AppendManyWith(ctx, []AppendRequest{{StreamID: x, Expected: Exact(1), Events: fastEvents("D2")}},
		func(context.Context, pgx.Tx) error { return nil })
	require.NoError(t, err)
	require.Equal(t, int64(2), res[0].Version)
	reqs := []preparedRequest{{streamID: x, expected: Exact(2)}}
	s.known.markStored(reqs)
	require.True(t, reqs[0].stored, "a committed append with the caller's statements is known")
}

func TestKnownVersionsKeepTheHighestAndForgetAllWhenFull(t *testing.T) {
	t.Parallel()
	var k knownVersions
	k.record([]AppendResult{{StreamID: "a", Version: 3}})
	k.record([]AppendResult{{StreamID: "a", Version: 2}}) // an older result, read later
	require.Equal(t, int64(3), k.versions["a"])

	many := make([]AppendResult, maxKnownStreams-1)
	for i := range many {
		many[i] = AppendResult{StreamID: fmt.Sprint("s", i), Version: 1}
	}
	k.record(many)
	require.Len(t, k.versions, maxKnownStreams)
	k.record([]AppendResult{{StreamID: "b", Version: 1}})
	require.Equal(t, map[string]int64{"b": 1}, k.versions, "full: forgot them all, then learnt b")
}
