-- Redrive (internal/engine, internal/enginestore): how often an execution
-- was redriven and when last, for DescribeExecution, ListExecutions and its
-- redriveFilter. A redrive turns a closed execution's row RUNNING again;
-- what it resumes from is in the execution's history.

-- +goose Up
ALTER TABLE engine.executions
    ADD COLUMN redrive_count integer NOT NULL DEFAULT 0 CHECK (redrive_count >= 0),
    ADD COLUMN redrive_date  timestamptz;

-- +goose Down
ALTER TABLE engine.executions
    DROP COLUMN IF EXISTS redrive_date,
    DROP COLUMN IF EXISTS redrive_count;
