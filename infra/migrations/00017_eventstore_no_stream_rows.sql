-- A stream's version is its last event's in eventstore.event_ids, whose
-- UNIQUE (stream_id, version) the database keeps anyway to make a version
-- taken once, and whose rows are never archived. The event store
-- (internal/eventstore) no longer writes or reads eventstore.streams, the
-- row per stream that every append updated (a heap tuple and its WAL, and in
-- a group commit a row lock): an append expecting an exact version checks
-- that it is stored and inserts the next ones, a writer that took one first
-- breaking the unique index; one expecting any version reads the last under
-- a transaction-level advisory lock of the stream. No guarantee changes: an
-- event id is used once and a stream version taken once, by the two unique
-- indexes of event_ids.
--
-- Every release's appends kept streams.version equal to the stream's last
-- version in event_ids, so nothing is lost with the table. Run this
-- migration once no process of an older release appends: those write the
-- table. The grant function stops naming it; down puts it back, each
-- stream's row rebuilt from event_ids.

-- +goose Up
DROP TABLE eventstore.streams;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION eventstore.grant_to_services() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['aiflow_api', 'aiflow_engine', 'aiflow_registry', 'aiflow_support', 'aiflow_worker'] LOOP
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('GRANT USAGE ON SCHEMA eventstore TO %I', r);
            EXECUTE format('GRANT SELECT, INSERT ON eventstore.events, eventstore.event_ids TO %I', r);
            EXECUTE format('GRANT USAGE ON SEQUENCE eventstore.position_seq TO %I', r);
            EXECUTE format('GRANT EXECUTE ON FUNCTION eventstore.ensure_partition(timestamptz) TO %I', r);
            IF r <> 'aiflow_worker' THEN
                EXECUTE format('GRANT SELECT, INSERT, UPDATE ON eventstore.subscriptions TO %I', r);
            END IF;
            -- The blobs of large step results (00013).
            IF r = 'aiflow_worker' THEN
                EXECUTE format('GRANT SELECT, INSERT ON eventstore.blobs TO %I', r);
            ELSIF r IN ('aiflow_api', 'aiflow_engine') THEN
                EXECUTE format('GRANT SELECT ON eventstore.blobs TO %I', r);
            END IF;
        END IF;
    END LOOP;
END
$$;
-- +goose StatementEnd

SELECT eventstore.grant_to_services();

-- +goose Down
CREATE TABLE eventstore.streams (
    stream_id  text        PRIMARY KEY,
    version    bigint      NOT NULL CHECK (version > 0),
    updated_at timestamptz NOT NULL
);
INSERT INTO eventstore.streams (stream_id, version, updated_at)
SELECT stream_id, max(version), max(recorded_at) FROM eventstore.event_ids GROUP BY stream_id;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION eventstore.grant_to_services() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['aiflow_api', 'aiflow_engine', 'aiflow_registry', 'aiflow_support', 'aiflow_worker'] LOOP
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('GRANT USAGE ON SCHEMA eventstore TO %I', r);
            EXECUTE format('GRANT SELECT, INSERT ON eventstore.events, eventstore.event_ids TO %I', r);
            EXECUTE format('GRANT SELECT, INSERT, UPDATE ON eventstore.streams TO %I', r);
            EXECUTE format('GRANT USAGE ON SEQUENCE eventstore.position_seq TO %I', r);
            EXECUTE format('GRANT EXECUTE ON FUNCTION eventstore.ensure_partition(timestamptz) TO %I', r);
            IF r <> 'aiflow_worker' THEN
                EXECUTE format('GRANT SELECT, INSERT, UPDATE ON eventstore.subscriptions TO %I', r);
            END IF;
            -- The blobs of large step results (00013).
            IF r = 'aiflow_worker' THEN
                EXECUTE format('GRANT SELECT, INSERT ON eventstore.blobs TO %I', r);
            ELSIF r IN ('aiflow_api', 'aiflow_engine') THEN
                EXECUTE format('GRANT SELECT ON eventstore.blobs TO %I', r);
            END IF;
        END IF;
    END LOOP;
END
$$;
-- +goose StatementEnd

SELECT eventstore.grant_to_services();
