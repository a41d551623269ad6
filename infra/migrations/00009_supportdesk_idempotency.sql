-- The support desk's idempotency keys (internal/supportdesk): one row per
-- change a tool made under a caller's key, written in the change's
-- transaction, with the result it answered. A call that repeats the key
-- is answered with that result and changes nothing again, so a step whose
-- message is delivered twice, or that is retried after its answer was
-- lost, has its effect once. A change that failed left no row, and its
-- key may be tried again.

-- +goose Up
CREATE TABLE support.idempotency_keys (
    actor        text        NOT NULL,
    key          text        NOT NULL CHECK (key <> ''),
    tool         text        NOT NULL,
    -- SHA-256 of the request's arguments: a key reused for other
    -- arguments is refused rather than answered with another request's
    -- result.
    request_hash text        NOT NULL,
    result       jsonb       NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (actor, key)
);

-- +goose Down
DROP TABLE support.idempotency_keys;
