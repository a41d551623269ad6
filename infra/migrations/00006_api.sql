-- The HTTP API's own tables (internal/httpapi): published workflows and
-- their immutable versions, idempotency keys of execution starts, and the
-- approval steps waiting for a person.

-- +goose Up
CREATE TABLE api.workflows (
    name              text        PRIMARY KEY,
    state_machine_arn text        NOT NULL,
    latest_version    integer     NOT NULL CHECK (latest_version > 0),
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);

-- One row per published version; a version never changes once written.
CREATE TABLE api.workflow_versions (
    workflow     text        NOT NULL REFERENCES api.workflows (name),
    version      integer     NOT NULL CHECK (version > 0),
    definition   text        NOT NULL,
    asl          text        NOT NULL,
    graph        text        NOT NULL,
    input_schema text,
    checksum     text        NOT NULL,
    created_by   text        NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (workflow, version)
);

-- +goose StatementBegin
CREATE FUNCTION api.workflow_versions_immutable() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'api.workflow_versions is immutable: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER workflow_versions_immutable BEFORE UPDATE OR DELETE ON api.workflow_versions
    FOR EACH ROW EXECUTE FUNCTION api.workflow_versions_immutable();

-- An Idempotency-Key of one principal: the hash of the request it first
-- came with and the execution that request started.
CREATE TABLE api.idempotency_keys (
    principal     text        NOT NULL,
    key           text        NOT NULL,
    request_hash  text        NOT NULL,
    execution_arn text        NOT NULL,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created_idx ON api.idempotency_keys (created_at);

-- Approval steps. The task token resolves the step; it is never shown to
-- a client.
CREATE TABLE api.approvals (
    id            text        PRIMARY KEY,
    execution_arn text        NOT NULL,
    step_id       text        NOT NULL,
    task_token    text        NOT NULL UNIQUE,
    message       text        NOT NULL,
    approvers     text[]      NOT NULL,
    status        text        NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
    decided_by    text,
    comment       text,
    created_at    timestamptz NOT NULL,
    decided_at    timestamptz
);
CREATE INDEX approvals_pending_idx ON api.approvals (status, created_at, id);
CREATE INDEX approvals_execution_idx ON api.approvals (execution_arn, created_at);

-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aiflow_api') THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON api.workflow_versions FROM aiflow_api;
        GRANT SELECT, INSERT ON api.workflow_versions TO aiflow_api;
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE IF EXISTS api.approvals;
DROP TABLE IF EXISTS api.idempotency_keys;
DROP TABLE IF EXISTS api.workflow_versions;
DROP FUNCTION IF EXISTS api.workflow_versions_immutable();
DROP TABLE IF EXISTS api.workflows;
