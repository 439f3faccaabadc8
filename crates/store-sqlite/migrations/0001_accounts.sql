-- Foundation: organisations, people, sessions, idempotency and the audit log.
-- Times are INTEGER microseconds since the Unix epoch (UTC); ids are 16-byte UUID blobs.

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE organisations (
    id          BLOB PRIMARY KEY,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    prefecture  INTEGER NOT NULL CHECK (prefecture BETWEEN 1 AND 47),
    agency_kind TEXT,
    created_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL
) STRICT;

CREATE TABLE workplaces (
    id                         BLOB PRIMARY KEY,
    organisation_id            BLOB NOT NULL REFERENCES organisations (id),
    name                       TEXT NOT NULL,
    prefecture                 INTEGER NOT NULL CHECK (prefecture BETWEEN 1 AND 47),
    has_occupational_physician INTEGER NOT NULL,
    created_at                 INTEGER NOT NULL
) STRICT;
CREATE INDEX workplaces_organisation ON workplaces (organisation_id);

CREATE TABLE users (
    id                  BLOB PRIMARY KEY,
    login               TEXT NOT NULL UNIQUE,
    display_name        TEXT NOT NULL,
    email               TEXT,
    password_hash       TEXT NOT NULL,
    active              INTEGER NOT NULL,
    operator            INTEGER NOT NULL,
    demo                INTEGER NOT NULL,
    totp_secret         BLOB,
    totp_pending_secret BLOB,
    totp_last_step      INTEGER,
    created_at          INTEGER NOT NULL,
    password_changed_at INTEGER NOT NULL,
    version             INTEGER NOT NULL
) STRICT;

CREATE TABLE memberships (
    id              BLOB PRIMARY KEY,
    user_id         BLOB NOT NULL REFERENCES users (id),
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    role            TEXT NOT NULL,
    detail          TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    UNIQUE (user_id, organisation_id, role)
) STRICT;
CREATE INDEX memberships_organisation ON memberships (organisation_id);

CREATE TABLE invitations (
    id              BLOB PRIMARY KEY,
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    role            TEXT NOT NULL,
    detail          TEXT NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,
    invited_by      BLOB NOT NULL REFERENCES users (id),
    note            TEXT,
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER,
    used_by         BLOB REFERENCES users (id),
    created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX invitations_organisation ON invitations (organisation_id);

CREATE TABLE sessions (
    id_hash               TEXT PRIMARY KEY,
    handle                TEXT NOT NULL UNIQUE,
    user_id               BLOB NOT NULL REFERENCES users (id),
    created_at            INTEGER NOT NULL,
    last_seen_at          INTEGER NOT NULL,
    pending_second_factor INTEGER NOT NULL,
    csrf_token            TEXT NOT NULL,
    user_agent            TEXT,
    client_ip             TEXT
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE recovery_codes (
    user_id BLOB NOT NULL REFERENCES users (id),
    digest  TEXT NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (user_id, digest)
) STRICT;

CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at  INTEGER NOT NULL
) STRICT;
CREATE INDEX login_failures_key ON login_failures (key, at);

CREATE TABLE idempotency (
    scope       TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status      INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
) STRICT;

-- The audit log: append-only, hash-chained (see ryoritsu_domain::audit). No foreign keys:
-- the record outlives whatever it names.
CREATE TABLE audit_event (
    seq          INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    actor        BLOB,
    actor_role   TEXT,
    organisation BLOB,
    action       TEXT NOT NULL,
    target       TEXT,
    category     TEXT,
    case_id      BLOB,
    outcome      TEXT NOT NULL,
    purpose      TEXT,
    operation_id TEXT,
    client_ip    TEXT,
    prev_hash    BLOB NOT NULL,
    hash         BLOB NOT NULL
) STRICT;

CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
BEGIN
    SELECT RAISE(ABORT, 'audit_event is append-only');
END;

CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
BEGIN
    SELECT RAISE(ABORT, 'audit_event is append-only');
END;

-- The latest record's sequence number and hash, moved by every append.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash BLOB NOT NULL
) STRICT;
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, zeroblob(32));
