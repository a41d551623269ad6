package enginestore

import (
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/aiflow/aiflow/internal/pgbinary"
)

// The summaries' upsert with its parameters encoded by pgbinary.
//
// Given to pgx as Go slices, the upsert's sixteen arrays went through its
// generic array encoder, which boxes every element in an interface: about
// twenty allocations an execution, for a statement of sixty rows. The
// store sends them encoded in PostgreSQL's binary format into a pooled
// buffer instead, the upsert prepared once a connection where the pool's
// connections cache statements; the bytes are those pgx sends for the same
// values (summaryparams_test.go holds them to pgx's), so the database
// writes the same rows.

// upsertParamOIDs are the types of upsertStatement's parameters, in order.
var upsertParamOIDs = []uint32{
	pgtype.TextArrayOID, pgtype.TextArrayOID, pgtype.TextArrayOID, pgtype.TextArrayOID, // arn, machine, name, status
	pgtype.TimestamptzArrayOID, pgtype.TimestamptzArrayOID, // start, stop
	pgtype.TextArrayOID, pgtype.TextArrayOID, pgtype.TextArrayOID, pgtype.TextArrayOID, pgtype.TextArrayOID, // input, output, error, cause, trace
	pgtype.Int8ArrayOID, pgtype.Int4ArrayOID, pgtype.TimestamptzArrayOID, // seq, redrive count, redrive date
	pgtype.TextArrayOID, pgtype.TextArrayOID, // version, alias
}

// upsertEncoded is upsertStatement with its parameters encoded by
// upsertParams.
var upsertEncoded = pgbinary.Statement{Name: "enginestore_upsert_summaries", SQL: upsertStatement, ParamOIDs: upsertParamOIDs}

// upsertParams are upsertStatement's parameters for s. The caller releases
// them.
func upsertParams(s *summaries) *pgbinary.Params {
	p := pgbinary.Get()
	n := len(s.arns)
	texts := func(col []string) { p.TextArray(n, func(i int) string { return col[i] }) }
	times := func(col []*time.Time) {
		p.NullableTimestamptzArray(n, func(i int) (time.Time, bool) {
			if col[i] == nil {
				return time.Time{}, false
			}
			return *col[i], true
		})
	}
	texts(s.arns)
	texts(s.machines)
	texts(s.names)
	texts(s.statuses)
	p.TimestamptzArray(n, func(i int) time.Time { return s.starts[i] })
	times(s.stops)
	texts(s.inputs)
	texts(s.outputs)
	texts(s.errs)
	texts(s.causes)
	texts(s.trace)
	p.Int8Array(n, func(i int) int64 { return s.seqs[i] })
	p.Int4Array(n, func(i int) int32 { return s.redriveCounts[i] })
	times(s.redriveDates)
	texts(s.versions)
	texts(s.aliases)
	return p
}
