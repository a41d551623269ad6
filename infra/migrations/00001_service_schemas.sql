-- One schema per service. Each service connects with its own role
-- (infra/scripts/setup-db.sh makes them) and may use only its own schema.

-- +goose Up
CREATE SCHEMA IF NOT EXISTS api;
CREATE SCHEMA IF NOT EXISTS engine;
CREATE SCHEMA IF NOT EXISTS registry;
CREATE SCHEMA IF NOT EXISTS support;

-- Where the service roles exist, give each the use of its own schema and of
-- every table, sequence and function that later migrations (run by this same
-- role) create in it. The same grants are in setup-db.sh, so the order in
-- which the two run does not matter.
-- +goose StatementBegin
DO $$
DECLARE
    svc text;
BEGIN
    FOREACH svc IN ARRAY ARRAY['api', 'engine', 'registry', 'support'] LOOP
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aiflow_' || svc) THEN
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', svc, 'aiflow_' || svc);
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I', svc, 'aiflow_' || svc);
            EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO %I', svc, 'aiflow_' || svc);
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', svc, 'aiflow_' || svc);
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO %I', svc, 'aiflow_' || svc);
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT EXECUTE ON FUNCTIONS TO %I', svc, 'aiflow_' || svc);
        END IF;
    END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP SCHEMA IF EXISTS support CASCADE;
DROP SCHEMA IF EXISTS registry CASCADE;
DROP SCHEMA IF EXISTS engine CASCADE;
DROP SCHEMA IF EXISTS api CASCADE;
