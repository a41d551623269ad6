-- The API's audit log (internal/audit): one row per mutating request and
-- per denial, append-only and hash-chained. Each row's hash is SHA-256 over
-- a canonical encoding of its seq, the previous row's hash and its fields,
-- so `aiflow audit verify` finds a changed, removed or reordered row.
--
-- The details are stored as json, not jsonb: json keeps the exact text that
-- was hashed, where jsonb would reorder keys and rewrite numbers.

-- +goose Up
CREATE TABLE api.audit_log (
    seq         bigint      PRIMARY KEY CHECK (seq > 0),
    recorded_at timestamptz NOT NULL,
    actor       text        NOT NULL,
    action      text        NOT NULL,
    resource    text        NOT NULL,
    outcome     text        NOT NULL CHECK (outcome IN ('allowed', 'denied', 'failed', 'succeeded')),
    request_id  text        NOT NULL,
    source_ip   text        NOT NULL,
    user_agent  text        NOT NULL,
    details     json        NOT NULL,
    prev_hash   bytea       NOT NULL CHECK (length(prev_hash) = 32),
    hash        bytea       NOT NULL CHECK (length(hash) = 32)
);

CREATE INDEX audit_log_actor_idx ON api.audit_log (actor, seq);
CREATE INDEX audit_log_recorded_idx ON api.audit_log (recorded_at);

-- The head of the chain: the last seq and its hash. Appends lock this one
-- row (SELECT ... FOR UPDATE), which serializes them, so the chain never
-- forks however many API instances append at once.
CREATE TABLE api.audit_head (
    id   boolean PRIMARY KEY DEFAULT true CHECK (id),
    seq  bigint  NOT NULL CHECK (seq >= 0),
    hash bytea   NOT NULL CHECK (length(hash) = 32)
);
INSERT INTO api.audit_head (id, seq, hash) VALUES (true, 0, decode(repeat('00', 32), 'hex'));

-- Append-only: rows are never updated or deleted, and the table is never
-- truncated, whoever asks. (The owner can still drop the trigger; the hash
-- chain is what shows that it happened.)
-- +goose StatementBegin
CREATE FUNCTION api.audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'api.audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON api.audit_log
    FOR EACH ROW EXECUTE FUNCTION api.audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON api.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION api.audit_log_append_only();

-- The API's role appends and reads; it may move the head, never rewrite
-- rows. 00001's default privileges gave it UPDATE and DELETE on every new
-- table, so they are taken back here.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aiflow_api') THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON api.audit_log FROM aiflow_api;
        GRANT SELECT, INSERT ON api.audit_log TO aiflow_api;
        GRANT SELECT, UPDATE ON api.audit_head TO aiflow_api;
        REVOKE INSERT, DELETE, TRUNCATE ON api.audit_head FROM aiflow_api;
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE IF EXISTS api.audit_head;
DROP TABLE IF EXISTS api.audit_log;
DROP FUNCTION IF EXISTS api.audit_log_append_only();
