-- The event store (internal/eventstore) reads a stream through
-- eventstore.event_ids, whose UNIQUE (stream_id, version) index the
-- database keeps anyway to make a stream version taken once, and fetches
-- each event by its position and month. events_stream_idx held the same
-- key again on every partition of eventstore.events; without it an append
-- writes one index entry less per event. No guarantee changes: event ids
-- and stream versions stay unique by the two indexes of event_ids.

-- +goose Up
DROP INDEX IF EXISTS eventstore.events_stream_idx;

-- +goose Down
CREATE INDEX IF NOT EXISTS events_stream_idx ON eventstore.events (stream_id, version);
