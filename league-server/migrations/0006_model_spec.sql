-- Issue 22: a model's settings (its world: sensor, action space, network, car, step) stored at
-- upload, as JSON (the trainer's ModelSpec), instead of re-read from the file whenever a
-- head-to-head event asks who can race whom. Models uploaded before this migration have '' and are
-- filled from their file the first time they are needed.
ALTER TABLE models ADD COLUMN spec_json TEXT NOT NULL DEFAULT '';
