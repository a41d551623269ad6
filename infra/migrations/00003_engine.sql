-- The local engine's store (internal/enginestore): state machines and the
-- summaries of executions, for describing and listing them. Execution
-- histories live in the event store, one stream per execution, written in
-- the same transaction as the summaries.
--
-- ARNs sort byte by byte (COLLATE "C"), the order Go's strings have, so
-- that listings page the same way whatever the database's locale.

-- +goose Up
CREATE TABLE engine.state_machines (
    arn           text COLLATE "C" PRIMARY KEY,
    name          text        NOT NULL,
    definition    text        NOT NULL,
    role_arn      text        NOT NULL,
    type          text        NOT NULL,
    creation_date timestamptz NOT NULL,
    update_date   timestamptz NOT NULL,
    revision_id   text        NOT NULL
);

-- One row per execution, rewritten by every commit of the execution. seq is
-- the last commit's number: a retried older commit never overwrites a newer
-- summary. The identity columns (state machine, name, start date, input,
-- trace header) are those of the first commit. Free space is left in each
-- page so that the updates, which change no indexed column but the status
-- once, stay on their page (HOT).
CREATE TABLE engine.executions (
    arn               text COLLATE "C" PRIMARY KEY,
    state_machine_arn text COLLATE "C" NOT NULL,
    name              text        NOT NULL,
    status            text        NOT NULL,
    start_date        timestamptz NOT NULL,
    stop_date         timestamptz,
    input             text        NOT NULL,
    output            text        NOT NULL,
    error             text        NOT NULL,
    cause             text        NOT NULL,
    trace_header      text        NOT NULL,
    seq               bigint      NOT NULL CHECK (seq > 0),
    UNIQUE (state_machine_arn, name)
) WITH (fillfactor = 80);

-- Listing: a state machine's executions, newest first, paged by
-- (start_date, arn).
CREATE INDEX executions_listing_idx ON engine.executions (state_machine_arn, start_date DESC, arn DESC);

-- Recovery: the executions still running.
CREATE INDEX executions_open_idx ON engine.executions (start_date, arn) WHERE status = 'RUNNING';

-- The engine's role uses these tables. 00001 set default privileges for
-- the role that runs migrations, and setup-db.sh for aiflow_owner; this
-- grant covers a database migrated by yet another role.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aiflow_engine') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON engine.state_machines, engine.executions TO aiflow_engine;
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE IF EXISTS engine.executions;
DROP TABLE IF EXISTS engine.state_machines;
