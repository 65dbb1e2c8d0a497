-- Slipstream league schema. Portable SQL for SQLite and PostgreSQL; {BLOB} is replaced by BLOB or BYTEA.
-- Flags are BIGINT 0/1 (sqlx's Any driver reads no SQLite booleans).
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);

CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    data {BLOB} NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE tracks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    info_json TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE races (
    id TEXT PRIMARY KEY,
    spec_json TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    opens_at BIGINT NOT NULL,
    closes_at BIGINT NOT NULL,
    private BIGINT NOT NULL
);

CREATE TABLE race_members (
    race_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (race_id, user_id)
);

CREATE TABLE invites (
    id TEXT PRIMARY KEY,
    race_id TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked BIGINT NOT NULL,
    uses BIGINT NOT NULL
);

CREATE TABLE models (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    sensor TEXT NOT NULL,
    action_space_type TEXT NOT NULL,
    network TEXT NOT NULL,
    deleted BIGINT NOT NULL,
    UNIQUE (owner_id, sha256)
);

CREATE TABLE submissions (
    id TEXT PRIMARY KEY,
    race_id TEXT NOT NULL,
    model_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL,
    laps_json TEXT NOT NULL,
    qualified BIGINT NOT NULL,
    score_ms BIGINT NOT NULL,
    off_track BIGINT NOT NULL,
    collisions BIGINT NOT NULL,
    failure_reason TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    trace_sha256 TEXT NOT NULL
);
CREATE INDEX submissions_race_user ON submissions (race_id, user_id);
CREATE INDEX submissions_user ON submissions (user_id, submitted_at);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    submission_id TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_owner TEXT NOT NULL,
    lease_token TEXT NOT NULL,
    lease_expires_at BIGINT NOT NULL,
    last_error TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX jobs_queue ON jobs (status, next_attempt_at, created_at);

CREATE TABLE leaderboard (
    race_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    score_ms BIGINT NOT NULL,
    achieved_at BIGINT NOT NULL,
    off_track BIGINT NOT NULL,
    best_lap_ms BIGINT NOT NULL,
    model_name TEXT NOT NULL,
    PRIMARY KEY (race_id, user_id)
);
CREATE INDEX leaderboard_rank ON leaderboard (race_id, score_ms, achieved_at, off_track);
