-- Issue 11: fair tie-breaks, crash-proof attempts, bootstrap token rotation and token listing.
-- Only columns are added; nothing is dropped but an index that is made again.

-- Leaderboard ties are ordered by when the submission was made (its `submitted_at`), not when its
-- evaluation finished (`achieved_at`, still shown). -1 marks rows made before this migration:
-- `Store::connect` recomputes them from their submissions (see store/leaderboards.rs).
ALTER TABLE leaderboard ADD COLUMN submitted_at BIGINT NOT NULL DEFAULT -1;
DROP INDEX leaderboard_rank;
CREATE INDEX leaderboard_rank ON leaderboard (race_id, score_ms, submitted_at, off_track);

-- The bootstrap admin token (`--admin-token`) is marked, so that starting with another one retires
-- it; existing ones are recognised by what the server named them. Tokens record their last use.
ALTER TABLE tokens ADD COLUMN bootstrap BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN last_used_at BIGINT NOT NULL DEFAULT 0;
UPDATE tokens SET bootstrap = 1
    WHERE description = 'bootstrap admin token' AND user_id IN (SELECT id FROM users WHERE name = 'admin');
CREATE INDEX tokens_user ON tokens (user_id, created_at);

-- A lost lease (the worker or the server stopped) is an interruption, not a failed attempt: counted
-- apart, with its own, higher limit.
ALTER TABLE jobs ADD COLUMN interruptions BIGINT NOT NULL DEFAULT 0;
