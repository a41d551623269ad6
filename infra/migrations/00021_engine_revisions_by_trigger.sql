-- Every revision of a state machine is recorded by the database itself
-- (engine.state_machine_revisions, 00020), whoever writes the state machine
-- or version: a trigger on each table inserts the row's revision when it is
-- inserted, or when its definition, role or revision changes. Before, only
-- the engine store's own statements recorded revisions, so a process of a
-- release before 00020, still running beside a migrated database, could
-- change a state machine without its revision being kept; each engine
-- therefore asked, at its start, which revisions the store kept, and wrote
-- an execution's whole definition for any other. With this migration, the
-- engine names the revision in every execution's first commit.
--
-- Up records, too, the revisions of rows written since 00020 by such a
-- process. Down drops the triggers and their functions; the revisions
-- recorded stay.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION engine.keep_revision() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    machine text;
BEGIN
    IF NEW.revision_id = '' THEN
        RETURN NULL;
    END IF;
    -- A state machine's row is its own; a version's names its state machine.
    IF TG_TABLE_NAME = 'state_machines' THEN
        machine := NEW.arn;
    ELSE
        machine := NEW.state_machine_arn;
    END IF;
    INSERT INTO engine.state_machine_revisions (state_machine_arn, revision_id, definition, role_arn)
    VALUES (machine, NEW.revision_id, NEW.definition, NEW.role_arn)
    ON CONFLICT (state_machine_arn, revision_id) DO NOTHING;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER keep_revision AFTER INSERT OR UPDATE OF definition, role_arn, revision_id ON engine.state_machines
    FOR EACH ROW EXECUTE FUNCTION engine.keep_revision();
CREATE TRIGGER keep_revision AFTER INSERT OR UPDATE OF definition, role_arn, revision_id ON engine.state_machine_versions
    FOR EACH ROW EXECUTE FUNCTION engine.keep_revision();

INSERT INTO engine.state_machine_revisions (state_machine_arn, revision_id, definition, role_arn)
SELECT arn, revision_id, definition, role_arn FROM engine.state_machines WHERE revision_id <> ''
ON CONFLICT (state_machine_arn, revision_id) DO NOTHING;
INSERT INTO engine.state_machine_revisions (state_machine_arn, revision_id, definition, role_arn)
SELECT state_machine_arn, revision_id, definition, role_arn FROM engine.state_machine_versions WHERE revision_id <> ''
ON CONFLICT (state_machine_arn, revision_id) DO NOTHING;

-- +goose Down
DROP TRIGGER keep_revision ON engine.state_machine_versions;
DROP TRIGGER keep_revision ON engine.state_machines;
DROP FUNCTION engine.keep_revision();
