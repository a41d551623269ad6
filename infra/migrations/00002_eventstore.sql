-- The event store (internal/eventstore): every service appends to and reads
-- from it, so it has a schema of its own that every service role may use.

-- +goose Up
CREATE SCHEMA IF NOT EXISTS eventstore;

-- Global positions, in the order appends took them.
CREATE SEQUENCE eventstore.position_seq AS bigint;

-- One row per stream: its current version. Appends lock this row, which is
-- what makes optimistic concurrency per stream safe.
CREATE TABLE eventstore.streams (
    stream_id  text        PRIMARY KEY,
    version    bigint      NOT NULL CHECK (version > 0),
    updated_at timestamptz NOT NULL
);

-- One row per event ever appended, never archived: the database enforces
-- that an event id is used once and a stream version is taken once,
-- across every monthly partition (a unique index on the partitioned table
-- would have to include the month).
CREATE TABLE eventstore.event_ids (
    event_id     uuid        PRIMARY KEY,
    stream_id    text        NOT NULL,
    version      bigint      NOT NULL,
    position     bigint      NOT NULL,
    recorded_at  timestamptz NOT NULL,
    content_hash bytea       NOT NULL,
    UNIQUE (stream_id, version)
);

-- The events, partitioned by the month they were recorded (UTC).
-- tx_id is the appending transaction: subscribers read in (tx_id, position)
-- order up to the oldest transaction still running, so an event whose
-- commit finishes after a higher position was visible is never skipped.
CREATE TABLE eventstore.events (
    position       bigint      NOT NULL,
    tx_id          xid8        NOT NULL DEFAULT pg_current_xact_id(),
    event_id       uuid        NOT NULL,
    stream_id      text        NOT NULL,
    version        bigint      NOT NULL,
    type           text        NOT NULL,
    schema_version integer     NOT NULL CHECK (schema_version > 0),
    data           jsonb       NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    metadata       jsonb       NOT NULL CHECK (jsonb_typeof(metadata) = 'object'),
    recorded_at    timestamptz NOT NULL
) PARTITION BY RANGE (recorded_at);

CREATE INDEX events_stream_idx ON eventstore.events (stream_id, version);
CREATE INDEX events_position_idx ON eventstore.events (position);
CREATE INDEX events_tx_idx ON eventstore.events (tx_id, position);

-- Durable subscriptions and their checkpoints (the last event handled, in
-- (tx_id, position) order).
CREATE TABLE eventstore.subscriptions (
    name            text        PRIMARY KEY,
    checkpoint_tx   xid8        NOT NULL DEFAULT '0',
    checkpoint_pos  bigint      NOT NULL DEFAULT 0,
    handled         bigint      NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Partitions: the store creates each month's partition ahead of time
-- through this function, which runs with its owner's rights, so the
-- service roles need no right to create tables.
-- +goose StatementBegin
CREATE FUNCTION eventstore.ensure_partition(month_start timestamptz) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET TimeZone = 'UTC'
AS $$
DECLARE
    start_at timestamptz := date_trunc('month', month_start);
    part     text := 'events_' || to_char(start_at, 'YYYY_MM');
BEGIN
    IF to_regclass('eventstore.' || part) IS NOT NULL THEN
        RETURN part;
    END IF;
    -- Two sessions may race to make the same month. The catalog query below
    -- takes a fresh snapshot after the lock, unlike to_regclass's cache.
    PERFORM pg_advisory_xact_lock(hashtext('eventstore.ensure_partition'));
    IF NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'eventstore' AND c.relname = part) THEN
        BEGIN
            EXECUTE format('CREATE TABLE eventstore.%I PARTITION OF eventstore.events FOR VALUES FROM (%L) TO (%L)',
                           part, start_at, start_at + interval '1 month');
        EXCEPTION WHEN duplicate_table THEN
            NULL; -- made by a session that did not take the lock (an operator by hand)
        END;
    END IF;
    RETURN part;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION eventstore.ensure_partition(timestamptz) FROM PUBLIC;

-- What every service role may do here: append and read events, move stream
-- versions and subscription checkpoints. Never change or delete an event.
-- setup-db.sh calls this too, for roles made after the migration ran.
-- +goose StatementBegin
CREATE FUNCTION eventstore.grant_to_services() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['aiflow_api', 'aiflow_engine', 'aiflow_registry', 'aiflow_support'] LOOP
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('GRANT USAGE ON SCHEMA eventstore TO %I', r);
            EXECUTE format('GRANT SELECT, INSERT ON eventstore.events, eventstore.event_ids TO %I', r);
            EXECUTE format('GRANT SELECT, INSERT, UPDATE ON eventstore.streams, eventstore.subscriptions TO %I', r);
            EXECUTE format('GRANT USAGE ON SEQUENCE eventstore.position_seq TO %I', r);
            EXECUTE format('GRANT EXECUTE ON FUNCTION eventstore.ensure_partition(timestamptz) TO %I', r);
        END IF;
    END LOOP;
END
$$;
-- +goose StatementEnd
SELECT eventstore.grant_to_services();

-- +goose Down
DROP SCHEMA IF EXISTS eventstore CASCADE;
