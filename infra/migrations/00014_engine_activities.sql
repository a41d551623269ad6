-- The local engine's activities (internal/enginestore): an activity is a
-- name and its ARN, created by CreateActivity and kept until
-- DeleteActivity, so that a durable engine still knows the activities its
-- state machines name after a restart. Tasks waiting for a worker need no
-- row: they are in their executions' histories, and a restarted engine
-- offers them again.

-- +goose Up
CREATE TABLE engine.activities (
    arn           text COLLATE "C" PRIMARY KEY,
    name          text        NOT NULL,
    creation_date timestamptz NOT NULL
);

-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aiflow_engine') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON engine.activities TO aiflow_engine;
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE IF EXISTS engine.activities;
