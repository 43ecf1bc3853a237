CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value NOT NULL            -- integers: change_seq, render_version, font_fingerprint
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('change_seq', 0);

CREATE TABLE templates (
    id           INTEGER PRIMARY KEY,
    source       TEXT NOT NULL UNIQUE,  -- 'file:<absolute path>' or 'builtin:<name>'
    content_hash INTEGER                -- Template::content_hash last seen (u64 as i64)
);

CREATE TABLE products (
    id     TEXT PRIMARY KEY,            -- the SUNMI product id, chain-wide
    fields TEXT NOT NULL                -- the product as a JSON object
);

CREATE TABLE labels (
    esl_id      TEXT PRIMARY KEY,
    shop_id     TEXT NOT NULL,
    model       TEXT NOT NULL,          -- SL121, SL126, SL126+, SL142, SL142+
    template_id INTEGER NOT NULL REFERENCES templates (id),
    product_id  TEXT NOT NULL,          -- no foreign key: a deleted product leaves its labels failing
    pending     INTEGER NOT NULL DEFAULT 0,
    acked_fp    BLOB,                   -- fingerprint of the last acknowledged image (16 bytes)
    acked_image BLOB,                   -- pixel hash of that image (16 bytes)
    acked_at    INTEGER                 -- when the platform acknowledged it, Unix seconds
);
-- product -> labels: a changed product marks exactly its labels.
CREATE INDEX labels_by_product ON labels (product_id);
-- template -> labels: an edited template marks its labels.
CREATE INDEX labels_by_template ON labels (template_id);
-- The plan: pending labels only, in the order that puts labels with equal pictures together.
CREATE INDEX labels_pending ON labels (template_id, model, product_id, esl_id) WHERE pending <> 0;
