-- Events' data kept as json, its text checked to be JSON, instead of
-- jsonb. The event store writes data in one canonical form already
-- (compact, keys sorted: internal/eventstore/canonical.go) and no query
-- reads inside it, so jsonb's parse into its binary form on every insert
-- (about a seventh of PostgreSQL's CPU on the engine's peers' benchmark,
-- docs/performance.md) and its printing on every read bought nothing:
-- reads now return the bytes the store wrote. The check that data is an
-- object stays (json_typeof reads only the first token). The type change
-- rewrites the table under an exclusive lock, in a time that grows with
-- the events stored (docs/operations.md). It leaves the column with the
-- default compression, so LZ4 (00016) is set again, on the table and
-- every partition, where the server has it. metadata, a few dozen bytes,
-- stays jsonb.

-- +goose Up
ALTER TABLE eventstore.events DROP CONSTRAINT IF EXISTS events_data_check;
ALTER TABLE eventstore.events ALTER COLUMN data TYPE json USING data::json;
ALTER TABLE eventstore.events ADD CONSTRAINT events_data_check CHECK (json_typeof(data) = 'object');
-- +goose StatementBegin
DO $$
DECLARE
    part regclass;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        RETURN;
    END IF;
    ALTER TABLE eventstore.events ALTER COLUMN data SET COMPRESSION lz4;
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'eventstore.events'::regclass LOOP
        EXECUTE format('ALTER TABLE %s ALTER COLUMN data SET COMPRESSION lz4', part);
    END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose Down
ALTER TABLE eventstore.events DROP CONSTRAINT IF EXISTS events_data_check;
ALTER TABLE eventstore.events ALTER COLUMN data TYPE jsonb USING data::jsonb;
ALTER TABLE eventstore.events ADD CONSTRAINT events_data_check CHECK (jsonb_typeof(data) = 'object');
-- +goose StatementBegin
DO $$
DECLARE
    part regclass;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        RETURN;
    END IF;
    ALTER TABLE eventstore.events ALTER COLUMN data SET COMPRESSION lz4;
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'eventstore.events'::regclass LOOP
        EXECUTE format('ALTER TABLE %s ALTER COLUMN data SET COMPRESSION lz4', part);
    END LOOP;
END
$$;
-- +goose StatementEnd
