-- Issue 13: head-to-head matches (several submissions racing in one world), raced by the
-- evaluation queue, and the events that make them: elimination brackets and rating ladders.
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    spec_json TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_created ON events (created_at);

CREATE TABLE matches (
    id TEXT PRIMARY KEY,
    race_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_key TEXT NOT NULL,
    entrants_json TEXT NOT NULL,
    status TEXT NOT NULL,
    result_json TEXT NOT NULL,
    failure_reason TEXT NOT NULL,
    replay_sha256 TEXT NOT NULL,
    -- Each seat's SIM_TRACE_LOG blob, in grid order (a JSON list; '' for a seat that forfeited).
    traces_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL
);
CREATE INDEX matches_event ON matches (event_id, created_at);
CREATE UNIQUE INDEX matches_event_key ON matches (event_id, event_key);

ALTER TABLE jobs ADD COLUMN match_id TEXT NOT NULL DEFAULT '';
