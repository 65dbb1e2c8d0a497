-- Issue 23: accounts for the student console. Only tables and columns are added.

-- A password (argon2id, PHC string) lets a user sign in to the console; '' = none (token-only users,
-- as every user before this migration).
ALTER TABLE users ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';

-- Sign-up invites (stored by their token's SHA-256): each use makes one user with `role`.
CREATE TABLE signup_invites (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    note TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    -- 0 = never.
    expires_at BIGINT NOT NULL,
    max_uses BIGINT NOT NULL,
    uses BIGINT NOT NULL,
    -- 0 = not revoked.
    revoked_at BIGINT NOT NULL
);
CREATE INDEX signup_invites_created ON signup_invites (created_at);

-- Console sessions (stored by their cookie's SHA-256).
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- 0 = signed in.
    revoked_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
