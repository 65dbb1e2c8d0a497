-- Issue 23: training as a league job (the console's "Create model"), and the league's quotas.

-- A training job: its own queue (leased like `jobs`: an owner, a secret token, an expiry), its
-- settings as the trainer runs them, its progress, and the model it made.
CREATE TABLE trainings (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES users(id),
    -- The model's name.
    name TEXT NOT NULL,
    -- queued | running | completed | stopped | failed
    status TEXT NOT NULL,
    -- What the student chose on the form (JSON), and what the trainer ran: its config (TOML), the
    -- reward function, the track (a built-in's name or an upload's id), the seed, the minutes (the
    -- stop condition, and always the wall-clock cap) and the steps (a stop condition that trains the
    -- same model on every machine; 0 = none).
    form_json TEXT NOT NULL,
    config_toml TEXT NOT NULL,
    reward_code TEXT NOT NULL,
    track TEXT NOT NULL,
    seed BIGINT NOT NULL,
    minutes DOUBLE PRECISION NOT NULL,
    steps BIGINT NOT NULL,
    -- An existing model's weights it starts from ('' = fresh weights).
    init_model_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    -- Wall-clock time it has trained, over all its runs (a resumed job adds to it).
    trained_ms BIGINT NOT NULL,
    -- Environment steps trained (the trainer's count; `trainer train --steps` this many repeats it).
    env_steps BIGINT NOT NULL,
    stop_requested BIGINT NOT NULL,
    lease_owner TEXT NOT NULL,
    lease_token TEXT NOT NULL,
    lease_expires_at BIGINT NOT NULL,
    interruptions BIGINT NOT NULL,
    -- One JSON object per iteration (the trainer's metrics, the chart's series), newline-separated.
    metrics_jsonl TEXT NOT NULL,
    -- The end of the trainer's output.
    log_tail TEXT NOT NULL,
    failure_reason TEXT NOT NULL,
    -- The model it made ('' until it completes).
    model_id TEXT NOT NULL,
    -- A replay (GIF blob) of its best model so far driving a lap, and the iteration it is of.
    replay_sha256 TEXT NOT NULL DEFAULT '',
    replay_iteration BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX trainings_queue ON trainings (status, created_at);
CREATE INDEX trainings_owner ON trainings (owner_id, created_at);

-- The league's settings an admin changes at run time (quotas): one row per key.
CREATE TABLE league_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
