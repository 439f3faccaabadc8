-- One-time codes with which a worker lets a hospital attach itself to their case. Only the
-- SHA-256 of the code is kept, so a database leak yields no usable code.
CREATE TABLE share_codes (
    code_hash            text COLLATE "C" PRIMARY KEY,
    case_id              uuid NOT NULL REFERENCES cases (id),
    worker_id            uuid NOT NULL REFERENCES users (id),
    created_at           timestamptz NOT NULL,
    expires_at           timestamptz NOT NULL,
    used_at              timestamptz,
    used_by_organisation uuid REFERENCES organisations (id),
    used_by_user         uuid REFERENCES users (id)
);
CREATE INDEX share_codes_case ON share_codes (case_id);
