package eventstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/aiflow/aiflow/internal/pgbinary"
)

// The fast path's statements go to PostgreSQL in a pgconn pipeline, with
// the parameters appendParams encoded: the lock (for streams appended to
// with Any), the append and the NOTIFY, then one Sync, so
// that PostgreSQL runs them as one implicit transaction (or within the
// caller's). That is what pgx's Batch sends, less its encoding: when the
// pool's connections cache statements (pgx's default query mode, in which
// its Batch prepared them), the statements are prepared once on each
// connection under names of their own; in pgx's other modes, which keep no
// prepared statement on the server (for a connection pooler, say), they go
// unnamed with each append, their parameters' types given.
//
// The connection's write buffer, which pgproto3 drops after each flush
// when it is over 1 KiB, would grow by doubling as the Bind message of the
// append is copied into it, parameter after parameter. pgbinary.Reserve
// grows it once to the size of what is left to queue, so that the
// parameters are copied once, into a buffer allocated once.

// Names of the fast path's statements where they are prepared.
const (
	lockStatementName   = "aiflow_eventstore_append_any_lock"
	appendStatementName = "aiflow_eventstore_append"
	notifyStatementName = "aiflow_eventstore_append_notify"
)

// notifyStatement tells subscribers, when the append commits, that there
// are new events.
const notifyStatement = `SELECT pg_notify($1, '')`

var (
	lockParamOIDs   = []uint32{pgtype.TextArrayOID, pgtype.Int8ArrayOID}
	notifyParamOIDs = []uint32{pgtype.TextOID}
	// notifyParams is the channel, in text format as pgx sends a string.
	notifyParams  = [][]byte{[]byte(NotifyChannel)}
	notifyFormats = []int16{pgtype.TextFormatCode}
	// appendResultFormats are the formats pgx reads appendStatement's
	// results in: the transaction id (text) as text, the positions and
	// versions (bigint[]) in binary. pgconn keeps them until the results
	// are read; nothing writes them.
	appendResultFormats = []int16{pgtype.TextFormatCode, pgtype.BinaryFormatCode, pgtype.BinaryFormatCode}
)

// runAppend runs the fast path's statements on conn with p's parameters,
// the lock first when lock is set, also after the append when it is not
// nil, and returns what the append statement returned: the transaction
// id, and the positions and versions of the events. Its error is the first
// the statements met, as PostgreSQL reported it (leftToSlowPath reads it),
// also's as an *alsoError. pgconn copies the parameters while the
// statements are queued, before anything is sent.
func (s *Store) runAppend(ctx context.Context, conn *pgx.Conn, p *appendParams, lock bool, also *AlsoStatement) (txText string, positions, versions []int64, err error) {
	var alsoValues [][]byte
	var alsoFormats []int16
	if also != nil {
		if alsoValues, alsoFormats, err = also.Statement.Bind(also.Params); err != nil {
			return "", nil, nil, &alsoError{err: alsoFailed(err)}
		}
	}
	var lockSD, appendSD, notifySD, alsoSD *pgconn.StatementDescription
	if s.prepares {
		if lock {
			if lockSD, err = prepareStatement(ctx, conn, lockStatementName, anyLockStatement, lockParamOIDs); err != nil {
				return "", nil, nil, err
			}
		}
		if appendSD, err = prepareStatement(ctx, conn, appendStatementName, appendStatement, appendParamOIDs[:]); err != nil {
			return "", nil, nil, err
		}
		if notifySD, err = prepareStatement(ctx, conn, notifyStatementName, notifyStatement, notifyParamOIDs); err != nil {
			return "", nil, nil, err
		}
		if also != nil {
			if alsoSD, err = prepareStatement(ctx, conn, also.Statement.Name, also.Statement.SQL, also.Statement.ParamOIDs); err != nil {
				return "", nil, nil, &alsoError{err: alsoFailed(err)}
			}
		}
	}

	pgc := conn.PgConn()
	pipe := pgc.StartPipeline(ctx)
	if lock {
		if lockSD != nil {
			pipe.SendQueryStatement(lockSD, p.values[:2], binaryFormats[:2], nil)
		} else {
			pipe.SendQueryParams(anyLockStatement, p.values[:2], lockParamOIDs, binaryFormats[:2], nil)
		}
	}
	// What is left to queue: the append's Bind and Execute, the NOTIFY's
	// Bind and Execute, the Sync; unnamed, the Parse and Describe of both.
	rest := pgbinary.BindMessageLen(appendStatementName, p.values[:], len(appendResultFormats)) + 256
	if appendSD == nil {
		rest += len(appendStatement) + len(notifyStatement) + 4*(appendParamCount+1) + 64
	}
	if also != nil {
		rest += pgbinary.BindMessageLen(also.Statement.Name, alsoValues, 0) + 64
		if alsoSD == nil {
			rest += len(also.Statement.SQL) + 4*len(alsoValues)
		}
	}
	if ctx.Err() == nil {
		// A pipeline that did not start (its context ended) sends
		// nothing, and would leave the connection an empty buffer
		// this large until its next flush of over 1 KiB.
		pgbinary.Reserve(pgc, rest)
	}
	if appendSD != nil {
		pipe.SendQueryStatement(appendSD, p.values[:], binaryFormats[:], appendResultFormats)
	} else {
		pipe.SendQueryParams(appendStatement, p.values[:], appendParamOIDs[:], binaryFormats[:], appendResultFormats)
	}
	switch {
	case alsoSD != nil:
		pipe.SendQueryStatement(alsoSD, alsoValues, alsoFormats, nil)
	case also != nil:
		pipe.SendQueryParams(also.Statement.SQL, alsoValues, also.Statement.ParamOIDs, alsoFormats, nil)
	}
	if notifySD != nil {
		pipe.SendQueryStatement(notifySD, notifyParams, notifyFormats, nil)
	} else {
		pipe.SendQueryParams(notifyStatement, notifyParams, notifyParamOIDs, notifyFormats, nil)
	}
	err = pipe.Sync()
	if err == nil && lock {
		err = discardResult(pipe)
	}
	if err == nil {
		txText, positions, versions, err = readAppendResult(pipe, conn.TypeMap())
	}
	if err == nil && also != nil {
		if err = discardResult(pipe); err != nil {
			err = &alsoError{err: alsoFailed(err)}
		}
	}
	if err == nil {
		err = discardResult(pipe)
	}
	if err == nil {
		var res any
		if res, err = pipe.GetResults(); err == nil {
			if _, ok := res.(*pgconn.PipelineSync); !ok {
				err = fmt.Errorf("reading the end of the append: got %T, not the end of the pipeline", res)
			}
		}
	}
	// Close reads what an error left unread, up to the Sync.
	if cerr := pipe.Close(); err == nil {
		err = cerr
	}
	return txText, positions, versions, err
}

// prepareStatement prepares sql as name on conn, unless it is prepared
// there already, and checks that its parameters are of the types the store
// encodes.
func prepareStatement(ctx context.Context, conn *pgx.Conn, name, sql string, paramOIDs []uint32) (*pgconn.StatementDescription, error) {
	sd, err := conn.Prepare(ctx, name, sql)
	if err != nil {
		return nil, fmt.Errorf("preparing %s: %w", name, err)
	}
	if !slices.Equal(sd.ParamOIDs, paramOIDs) {
		return nil, fmt.Errorf("preparing %s: its parameters are of the types %v, where the store encodes %v", name, sd.ParamOIDs, paramOIDs)
	}
	return sd, nil
}

// discardResult reads the next statement's result and drops its rows.
func discardResult(pipe *pgconn.Pipeline) error {
	rr, err := nextResult(pipe)
	if err != nil {
		return err
	}
	_, err = rr.Close()
	return err
}

// nextResult returns the reader of the next statement's result.
func nextResult(pipe *pgconn.Pipeline) (*pgconn.ResultReader, error) {
	res, err := pipe.GetResults()
	if err != nil {
		return nil, err
	}
	rr, ok := res.(*pgconn.ResultReader)
	if !ok {
		return nil, fmt.Errorf("reading a result of the append: got %T, not a statement's result", res)
	}
	return rr, nil
}

// readAppendResult reads the append statement's one row as pgx's Scan
// would.
func readAppendResult(pipe *pgconn.Pipeline, m *pgtype.Map) (txText string, positions, versions []int64, err error) {
	rr, err := nextResult(pipe)
	if err != nil {
		return "", nil, nil, err
	}
	rows := 0
	for rr.NextRow() {
		if rows++; rows == 1 {
			err = scanAppendRow(m, rr.FieldDescriptions(), rr.Values(), &txText, &positions, &versions)
		}
	}
	if _, cerr := rr.Close(); cerr != nil {
		return "", nil, nil, cerr
	}
	if err == nil && rows != 1 {
		err = fmt.Errorf("reading the append statement's result: %d rows, not 1", rows)
	}
	return txText, positions, versions, err
}

// scanAppendRow reads the columns of the append statement's row.
func scanAppendRow(m *pgtype.Map, fields []pgconn.FieldDescription, values [][]byte, txText *string, positions, versions *[]int64) error {
	if len(fields) != 3 || len(values) != 3 {
		return fmt.Errorf("reading the append statement's row: %d columns, not 3", len(values))
	}
	if err := m.Scan(fields[0].DataTypeOID, fields[0].Format, values[0], txText); err != nil {
		return fmt.Errorf("reading the transaction id the append statement returned: %w", err)
	}
	if err := m.Scan(fields[1].DataTypeOID, fields[1].Format, values[1], positions); err != nil {
		return fmt.Errorf("reading the positions the append statement returned: %w", err)
	}
	if err := m.Scan(fields[2].DataTypeOID, fields[2].Format, values[2], versions); err != nil {
		return fmt.Errorf("reading the versions the append statement returned: %w", err)
	}
	return nil
}
