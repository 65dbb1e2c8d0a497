-- Issue 12: an animated replay of each completed evaluation, stored as a blob beside its trace.
ALTER TABLE submissions ADD COLUMN replay_sha256 TEXT NOT NULL DEFAULT '';
