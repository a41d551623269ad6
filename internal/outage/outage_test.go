package outage_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/outage"
)

// TestClassify: the errors that say the database could not be reached
// (or cut the connection, or shut down) are of the unavailable class; the
// caller's own deadline, a missing row and a constraint violation are not.
func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		err         error
		unavailable bool
	}{
		{"nil", nil, false},
		{"terminated backend", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, true},
		{"starting up", &pgconn.PgError{Code: "57P03"}, true},
		{"connection exception", &pgconn.PgError{Code: "08006"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"connection dropped", fmt.Errorf("reading rows: %w", io.ErrUnexpectedEOF), true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"no rows", pgx.ErrNoRows, false},
		{"our deadline", fmt.Errorf("querying: %w", context.DeadlineExceeded), false},
		{"cancelled", context.Canceled, false},
		{"classified already", &outage.Error{Dependency: "the desk"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.unavailable, outage.Is(tc.err))
			got := outage.Classify(tc.err)
			require.Equal(t, tc.unavailable, errors.Is(got, outage.ErrUnavailable))
			if tc.err != nil {
				require.ErrorIs(t, got, tc.err, "the library's error is kept for the log")
			}
		})
	}
}
