-- The blob store of large step results on PostgreSQL (internal/blob/pgblob):
-- a step marked large whose result is over the threshold keeps it here,
-- and the execution's state holds a reference (aiflow-blob:<key>). Keys
-- are content-addressed by execution and step (internal/blob.Key), so a
-- redelivered step writes the same row, and a row never changes.
--
-- Who may do what (eventstore.grant_to_services, redefined below):
--
--   aiflow_worker  reads and inserts: the step workers store results and
--                  resolve the references in their tasks' data
--   aiflow_api     reads: the API resolves references in the outputs it
--                  serves
--   aiflow_engine  reads
--
-- Rows go with the history they belong to: `aiflow archive --before
-- YYYY-MM`, once it has archived the months before YYYY-MM, deletes the
-- blobs made before it too.

-- +goose Up
CREATE TABLE eventstore.blobs (
    key          text        PRIMARY KEY,
    -- The key's first part: the hash of the execution's ARN
    -- (internal/blob.ExecutionPrefix), to delete its blobs with it.
    execution    text        NOT NULL,
    sha256       text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    bytes        bigint      NOT NULL CHECK (bytes >= 0),
    body         bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX blobs_execution ON eventstore.blobs (execution);
CREATE INDEX blobs_created_at ON eventstore.blobs (created_at);

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

-- +goose Down
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
        END IF;
    END LOOP;
END
$$;
-- +goose StatementEnd
DROP TABLE eventstore.blobs;
