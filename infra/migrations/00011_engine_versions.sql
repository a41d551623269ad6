-- State machine versions, aliases and tags of the local engine
-- (internal/enginestore), the version and alias each execution was started
-- on, and the Step Functions version the HTTP API published with each
-- workflow version (internal/apistore).
--
-- A state machine keeps the number of its last version, which is never used
-- again, and its status: DELETING while executions of a deleted state
-- machine still run.

-- +goose Up
ALTER TABLE engine.state_machines
    ADD COLUMN status       text    NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'DELETING')),
    ADD COLUMN last_version integer NOT NULL DEFAULT 0 CHECK (last_version >= 0),
    ADD COLUMN tags         jsonb   NOT NULL DEFAULT '{}';

-- '' when the execution was started on the unqualified state machine ARN.
ALTER TABLE engine.executions
    ADD COLUMN version_arn text COLLATE "C" NOT NULL DEFAULT '',
    ADD COLUMN alias_arn   text COLLATE "C" NOT NULL DEFAULT '';

-- Listing the executions started on a version or an alias, newest first.
CREATE INDEX executions_version_idx ON engine.executions (version_arn, start_date DESC, arn DESC) WHERE version_arn <> '';
CREATE INDEX executions_alias_idx ON engine.executions (alias_arn, start_date DESC, arn DESC) WHERE alias_arn <> '';

CREATE TABLE engine.state_machine_versions (
    arn               text COLLATE "C" PRIMARY KEY,
    state_machine_arn text COLLATE "C" NOT NULL,
    version           integer     NOT NULL CHECK (version > 0),
    definition        text        NOT NULL,
    role_arn          text        NOT NULL,
    description       text        NOT NULL,
    revision_id       text        NOT NULL,
    creation_date     timestamptz NOT NULL,
    UNIQUE (state_machine_arn, version)
);

-- routing is the alias's routing configuration:
-- [{"stateMachineVersionArn": ..., "weight": ...}, ...].
CREATE TABLE engine.state_machine_aliases (
    arn               text COLLATE "C" PRIMARY KEY,
    state_machine_arn text COLLATE "C" NOT NULL,
    name              text        NOT NULL,
    description       text        NOT NULL,
    routing           jsonb       NOT NULL,
    creation_date     timestamptz NOT NULL,
    update_date       timestamptz NOT NULL
);

-- The Step Functions version a workflow version runs on: executions of the
-- workflow version start on this ARN. Versions published before there was
-- one have no row and start on the state machine's unqualified ARN.
CREATE TABLE api.workflow_version_arns (
    workflow                  text    NOT NULL,
    version                   integer NOT NULL,
    state_machine_version_arn text    NOT NULL,
    PRIMARY KEY (workflow, version),
    FOREIGN KEY (workflow, version) REFERENCES api.workflow_versions (workflow, version)
);

-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aiflow_engine') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON engine.state_machine_versions, engine.state_machine_aliases TO aiflow_engine;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aiflow_api') THEN
        GRANT SELECT, INSERT, UPDATE ON api.workflow_version_arns TO aiflow_api;
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE IF EXISTS api.workflow_version_arns;
DROP TABLE IF EXISTS engine.state_machine_aliases;
DROP TABLE IF EXISTS engine.state_machine_versions;
DROP INDEX IF EXISTS engine.executions_alias_idx;
DROP INDEX IF EXISTS engine.executions_version_idx;
ALTER TABLE engine.executions DROP COLUMN IF EXISTS alias_arn, DROP COLUMN IF EXISTS version_arn;
ALTER TABLE engine.state_machines DROP COLUMN IF EXISTS tags, DROP COLUMN IF EXISTS last_version, DROP COLUMN IF EXISTS status;
