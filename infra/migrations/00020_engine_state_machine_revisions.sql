-- Every revision of a state machine (internal/engine, internal/enginestore):
-- its definition and role, written when the state machine is created or
-- updated. An execution's first commit names the revision it runs
-- (batch.start.revision) instead of carrying the whole definition, which
-- every execution of a state machine repeated, several KB for an AI
-- workflow: recovery, redrive and DescribeStateMachineForExecution read the
-- definition here. Executions started before this migration keep theirs
-- inline and are read as before. A revision is never changed or deleted,
-- not even with its state machine, whose executions may still run.
--
-- Up records the revisions that exist: each state machine's current one and
-- each version's. Down refuses while an execution started since up exists,
-- as its history names a revision that a release before this migration
-- cannot read; it drops the table otherwise.

-- +goose Up
CREATE TABLE engine.state_machine_revisions (
    state_machine_arn text COLLATE "C" NOT NULL,
    revision_id       text        NOT NULL,
    definition        text        NOT NULL,
    role_arn          text        NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (state_machine_arn, revision_id)
);

INSERT INTO engine.state_machine_revisions (state_machine_arn, revision_id, definition, role_arn)
SELECT arn, revision_id, definition, role_arn FROM engine.state_machines WHERE revision_id <> '';
INSERT INTO engine.state_machine_revisions (state_machine_arn, revision_id, definition, role_arn)
SELECT state_machine_arn, revision_id, definition, role_arn FROM engine.state_machine_versions WHERE revision_id <> ''
ON CONFLICT (state_machine_arn, revision_id) DO NOTHING;

-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aiflow_engine') THEN
        GRANT SELECT, INSERT ON engine.state_machine_revisions TO aiflow_engine;
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM engine.executions
               WHERE start_date >= (SELECT min(created_at) FROM engine.state_machine_revisions)) THEN
        RAISE EXCEPTION 'executions started since migration 00020 name their definition by revision (engine.state_machine_revisions), which a release before it cannot read: down refused';
    END IF;
END
$$;
-- +goose StatementEnd
DROP TABLE engine.state_machine_revisions;
