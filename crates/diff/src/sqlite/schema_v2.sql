-- Version 2: scene fingerprints, push intents, the run lease.
--
-- * labels.acked_fp now holds a label's scene fingerprint (esl_render::Scene::fingerprint,
--   32 bytes); templates.content_hash esl_render::Template::content_hash (32 bytes, JSON and
--   picture pixels). The 16-byte values and integer hashes of version 1 can never match, so
--   the first run after the migration binds every label once; pictures that did not change
--   are found pixel-identical (acked_image) and not pushed again.
-- * labels.push_run, push_fp: the intent of the run about to push the label (its run id and
--   the fingerprint it pushes). An acknowledgement is recorded only while the intent is still
--   that run's and that fingerprint's; an intent left behind (the run died or was overtaken)
--   means nobody knows what the label shows, so the next run pushes it whatever the
--   fingerprints say.
-- * leases: one row per lease; `holder` holds it until `expires_at` (milliseconds since the
--   Unix epoch) unless it renews it. Runs take the lease 'run' before changing labels.
ALTER TABLE labels ADD COLUMN push_run TEXT;
ALTER TABLE labels ADD COLUMN push_fp BLOB;
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
