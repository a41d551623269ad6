-- The service registry (internal/registry, internal/registrystore): each
-- service name's versions and their instances. A change of a name is saved
-- with its events (the stream "service-<name>" of the event store) in one
-- transaction, and only when the name's revision is still the one the
-- change was decided on, so the rows and the history never disagree.
--
-- Who may do what (public.aiflow_grant_service_roles, redefined below):
--
--   aiflow_registry  owns the schema's data, as 00001 and 00007 give it
--   aiflow_api       reads and writes the three tables: the API's use cases
--                    register, heartbeat, drain and deregister
--   aiflow_worker    reads them and updates instances and revisions: the
--                    service step's workers discover instances and eject
--                    the ones whose calls fail; it inserts and deletes
--                    nothing

-- +goose Up
CREATE TABLE registry.service_names (
    name     text   PRIMARY KEY,
    -- Counts the saved changes of the name; a change names the revision
    -- it read and is refused when another change was saved meanwhile.
    revision bigint NOT NULL CHECK (revision >= 0)
);

CREATE TABLE registry.services (
    name          text        NOT NULL REFERENCES registry.service_names (name),
    version       text        NOT NULL,
    description   text        NOT NULL DEFAULT '',
    capabilities  text[]      NOT NULL DEFAULT '{}',
    metadata      jsonb       NOT NULL DEFAULT '{}',
    -- json, not jsonb: the operations' schemas keep their text, so a
    -- registration repeated as it was reads as unchanged.
    operations    json        NOT NULL,
    auth          jsonb,
    health_check  jsonb,
    balancing     text        NOT NULL CHECK (balancing IN ('round_robin', 'least_outstanding', 'weighted')),
    registered_at timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE INDEX services_capabilities ON registry.services USING gin (capabilities);

CREATE TABLE registry.instances (
    service        text        NOT NULL,
    id             text        NOT NULL,
    version        text        NOT NULL,
    endpoint       text,
    function_arn   text,
    weight         integer     NOT NULL CHECK (weight BETWEEN 1 AND 1000),
    zone           text        NOT NULL DEFAULT '',
    internal       boolean     NOT NULL DEFAULT false,
    metadata       jsonb       NOT NULL DEFAULT '{}',
    status         text        NOT NULL CHECK (status IN ('starting', 'healthy', 'unhealthy', 'draining')),
    status_reason  text        NOT NULL DEFAULT '',
    ttl_seconds    integer     NOT NULL CHECK (ttl_seconds > 0),
    registered_at  timestamptz NOT NULL,
    heartbeat_at   timestamptz NOT NULL,
    check_passes   integer     NOT NULL DEFAULT 0,
    check_failures integer     NOT NULL DEFAULT 0,
    checked_at     timestamptz,
    ejected_until  timestamptz,
    PRIMARY KEY (service, id),
    FOREIGN KEY (service, version) REFERENCES registry.services (name, version) ON DELETE CASCADE,
    CHECK ((endpoint IS NULL) <> (function_arn IS NULL))
);
CREATE INDEX instances_version ON registry.instances (service, version);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION public.aiflow_grant_service_roles() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    svc text;
    r   text;
BEGIN
    FOREACH svc IN ARRAY ARRAY['api', 'engine', 'registry', 'support'] LOOP
        r := 'aiflow_' || svc;
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), r);
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', svc, r);
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I', svc, r);
            EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO %I', svc, r);
            EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA %I TO %I', svc, r);
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', svc, r);
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO %I', svc, r);
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT EXECUTE ON FUNCTIONS TO %I', svc, r);
        END IF;
    END LOOP;
    -- What 00004 and 00006 took back: the audit log is append-only, its
    -- head only moves, and a published workflow version never changes.
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aiflow_api') THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON api.audit_log FROM aiflow_api;
        REVOKE INSERT, DELETE, TRUNCATE ON api.audit_head FROM aiflow_api;
        REVOKE UPDATE, DELETE, TRUNCATE ON api.workflow_versions FROM aiflow_api;
        -- The registry's use cases run in the API (00010).
        GRANT USAGE ON SCHEMA registry TO aiflow_api;
        GRANT SELECT, INSERT, UPDATE, DELETE ON registry.service_names, registry.services, registry.instances TO aiflow_api;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aiflow_worker') THEN
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO aiflow_worker', current_database());
        -- The service step's workers discover instances and eject them
        -- (00010).
        GRANT USAGE ON SCHEMA registry TO aiflow_worker;
        GRANT SELECT ON registry.service_names, registry.services, registry.instances TO aiflow_worker;
        GRANT UPDATE ON registry.service_names, registry.instances TO aiflow_worker;
    END IF;
    PERFORM eventstore.grant_to_services();
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION public.aiflow_grant_service_roles() FROM PUBLIC;

SELECT public.aiflow_grant_service_roles();

-- +goose Down
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aiflow_api') THEN
        REVOKE USAGE ON SCHEMA registry FROM aiflow_api;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aiflow_worker') THEN
        REVOKE USAGE ON SCHEMA registry FROM aiflow_worker;
    END IF;
END
$$;
-- +goose StatementEnd
DROP TABLE registry.instances;
DROP TABLE registry.services;
DROP TABLE registry.service_names;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION public.aiflow_grant_service_roles() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    svc text;
    r   text;
BEGIN
    FOREACH svc IN ARRAY ARRAY['api', 'engine', 'registry', 'support'] LOOP
        r := 'aiflow_' || svc;
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), r);
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', svc, r);
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I', svc, r);
            EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO %I', svc, r);
            EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA %I TO %I', svc, r);
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', svc, r);
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO %I', svc, r);
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT EXECUTE ON FUNCTIONS TO %I', svc, r);
        END IF;
    END LOOP;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aiflow_api') THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON api.audit_log FROM aiflow_api;
        REVOKE INSERT, DELETE, TRUNCATE ON api.audit_head FROM aiflow_api;
        REVOKE UPDATE, DELETE, TRUNCATE ON api.workflow_versions FROM aiflow_api;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aiflow_worker') THEN
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO aiflow_worker', current_database());
    END IF;
    PERFORM eventstore.grant_to_services();
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION public.aiflow_grant_service_roles() FROM PUBLIC;
