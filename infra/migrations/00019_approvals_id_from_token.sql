-- An approval's id is its task token's hash, "apr_" and the first 12 bytes
-- of the token's SHA-256 in hex (internal/apistore.ApprovalID), as every
-- release has made it since the table was created, and the store now
-- refuses an approval with any other id. So the primary key makes a task
-- token one approval, and the unique index on task_token, which repeated
-- that guarantee with a key of some 150 bytes a row, goes: it was more
-- than a quarter of the WAL of an approval's insert and about a fifth of
-- its time (docs/performance.md). A CHECK computing the hash in the
-- database cost as much as the index saved, so the store holds the rule.
-- Down puts the index back; it fails, naming the token, if two approvals
-- came to share one meanwhile (no release of the store lets them).

-- +goose Up
ALTER TABLE api.approvals DROP CONSTRAINT approvals_task_token_key;

-- +goose Down
ALTER TABLE api.approvals ADD CONSTRAINT approvals_task_token_key UNIQUE (task_token);
