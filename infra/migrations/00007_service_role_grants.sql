-- The grants of the service roles in one function, run after every
-- deploy's migrations (internal/migrate's Grant, which functions/migrate
-- calls), so that a role made after the migrations that created its tables
-- gets the same rights as one that existed before them:
--
--   aiflow_api       its schema api, and the event store
--   aiflow_engine    its schema engine, and the event store (the recorder)
--   aiflow_registry  its schema registry, and the event store
--   aiflow_support   its schema support, and the event store
--   aiflow_worker    the event store only: the step workers append detail
--                    events to the executions' sibling streams and read them
--                    back (token budgets); no schema of its own
--
-- A later migration that needs other grants redefines this function
-- (CREATE OR REPLACE) and calls it.

-- +goose Up

-- The event store's grants, now with the step workers' role, which may
-- append and read events but not move subscriptions.
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

-- +goose StatementBegin
CREATE FUNCTION public.aiflow_grant_service_roles() RETURNS void
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
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aiflow_worker') THEN
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO aiflow_worker', current_database());
    END IF;
    PERFORM eventstore.grant_to_services();
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION public.aiflow_grant_service_roles() FROM PUBLIC;

SELECT public.aiflow_grant_service_roles();

-- +goose Down
DROP FUNCTION IF EXISTS public.aiflow_grant_service_roles();
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION eventstore.grant_to_services() RETURNS void
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
