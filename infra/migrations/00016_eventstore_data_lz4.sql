-- Events' data compressed with LZ4 instead of PostgreSQL's default pglz.
-- An event's data over about 2 KB (most of the local engine's commits: a
-- transition's history events and thread snapshots) is compressed as it is
-- stored; with LZ4 in place of pglz, PostgreSQL's CPU on the engine's
-- peers' benchmark fell by about a tenth (docs/performance.md).
-- Reads decompress either kind, so rows stored before keep theirs. A
-- partitioned table's setting reaches only partitions made after it, so
-- every existing partition is set too. A server built without LZ4 keeps
-- pglz.

-- +goose Up
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
-- +goose StatementBegin
DO $$
DECLARE
    part regclass;
BEGIN
    ALTER TABLE eventstore.events ALTER COLUMN data SET COMPRESSION default;
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'eventstore.events'::regclass LOOP
        EXECUTE format('ALTER TABLE %s ALTER COLUMN data SET COMPRESSION default', part);
    END LOOP;
END
$$;
-- +goose StatementEnd
