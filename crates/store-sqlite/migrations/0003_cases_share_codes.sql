-- One-time codes with which a worker lets a hospital attach itself to their case. Only the
-- SHA-256 of the code is kept, so a database leak yields no usable code.
CREATE TABLE share_codes (
    code_hash            TEXT PRIMARY KEY,
    case_id              BLOB NOT NULL REFERENCES cases (id),
    worker_id            BLOB NOT NULL REFERENCES users (id),
    created_at           INTEGER NOT NULL,
    expires_at           INTEGER NOT NULL,
    used_at              INTEGER,
    used_by_organisation BLOB REFERENCES organisations (id),
    used_by_user         BLOB REFERENCES users (id)
) STRICT;
CREATE INDEX share_codes_case ON share_codes (case_id);
