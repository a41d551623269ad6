package eventstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// StreamSummaries is the built-in projection api.stream_summaries: one row
// per stream with its category (the stream id up to the first "-", as in
// "execution-01J..."), version, event count, first and last event types and
// times. The API lists executions and their progress from it.
func StreamSummaries() Projection {
	return Projection{
		Name:   "stream_summaries",
		Schema: "api",
		Tables: []string{"stream_summaries"},
		CreateFunc: func(ctx context.Context, tx pgx.Tx, t TableNames) error {
			_, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE %s (
				stream_id         text        PRIMARY KEY,
				category          text        NOT NULL,
				version           bigint      NOT NULL,
				events            bigint      NOT NULL,
				first_type        text        NOT NULL,
				last_type         text        NOT NULL,
				first_recorded_at timestamptz NOT NULL,
				last_recorded_at  timestamptz NOT NULL,
				last_position     bigint      NOT NULL
			)`, t["stream_summaries"]))
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, fmt.Sprintf(`CREATE INDEX ON %s (category, last_recorded_at DESC)`, t["stream_summaries"]))
			return err
		},
		HandleFunc: func(ctx context.Context, tx pgx.Tx, t TableNames, ev Event) error {
			category, _, _ := strings.Cut(ev.StreamID, "-")
			_, err := tx.Exec(ctx, fmt.Sprintf(`INSERT INTO %s AS s
				(stream_id, category, version, events, first_type, last_type, first_recorded_at, last_recorded_at, last_position)
				VALUES ($1, $2, $3, 1, $4, $4, $5, $5, $6)
				ON CONFLICT (stream_id) DO UPDATE SET
					version = greatest(s.version, EXCLUDED.version),
					events = s.events + 1,
					last_type = EXCLUDED.last_type,
					last_recorded_at = EXCLUDED.last_recorded_at,
					last_position = EXCLUDED.last_position`, t["stream_summaries"]),
				ev.StreamID, category, ev.Version, ev.Type, ev.RecordedAt, ev.Position)
			return err
		},
	}
}

// BuiltinProjections are the projections aiflow runs, by name.
func BuiltinProjections() map[string]Projection {
	out := map[string]Projection{}
	for _, p := range []Projection{StreamSummaries()} {
		out[p.Name] = p
	}
	return out
}
