-- Issue 13: seasons group public races and award points by finishing position.
CREATE TABLE seasons (
    id TEXT PRIMARY KEY,
    spec_json TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX seasons_created ON seasons (created_at);
