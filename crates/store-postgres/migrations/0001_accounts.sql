-- Foundation: organisations, people, sessions, idempotency and the audit log.
-- The same tables as the SQLite schema, in PostgreSQL types: uuid ids, timestamptz times
-- (the application truncates to microseconds, which timestamptz keeps exactly), bytea
-- for secrets and hashes. Text is COLLATE "C" so that comparison and ORDER BY follow
-- code points, as SQLite's BINARY collation does, whatever the database locale.

CREATE TABLE settings (
    name  text COLLATE "C" PRIMARY KEY,
    value text COLLATE "C" NOT NULL
);

CREATE TABLE organisations (
    id          uuid PRIMARY KEY,
    kind        text COLLATE "C" NOT NULL,
    name        text COLLATE "C" NOT NULL,
    prefecture  smallint NOT NULL CHECK (prefecture BETWEEN 1 AND 47),
    agency_kind text COLLATE "C",
    created_at  timestamptz NOT NULL,
    version     bigint NOT NULL
);

CREATE TABLE workplaces (
    id                         uuid PRIMARY KEY,
    organisation_id            uuid NOT NULL REFERENCES organisations (id),
    name                       text COLLATE "C" NOT NULL,
    prefecture                 smallint NOT NULL CHECK (prefecture BETWEEN 1 AND 47),
    has_occupational_physician boolean NOT NULL,
    created_at                 timestamptz NOT NULL
);
CREATE INDEX workplaces_organisation ON workplaces (organisation_id);

CREATE TABLE users (
    id                  uuid PRIMARY KEY,
    login               text COLLATE "C" NOT NULL UNIQUE,
    display_name        text COLLATE "C" NOT NULL,
    email               text COLLATE "C",
    password_hash       text COLLATE "C" NOT NULL,
    active              boolean NOT NULL,
    operator            boolean NOT NULL,
    demo                boolean NOT NULL,
    totp_secret         bytea,
    totp_pending_secret bytea,
    totp_last_step      bigint,
    created_at          timestamptz NOT NULL,
    password_changed_at timestamptz NOT NULL,
    version             bigint NOT NULL
);

CREATE TABLE memberships (
    id              uuid PRIMARY KEY,
    user_id         uuid NOT NULL REFERENCES users (id),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    role            text COLLATE "C" NOT NULL,
    detail          text COLLATE "C" NOT NULL,
    created_at      timestamptz NOT NULL,
    UNIQUE (user_id, organisation_id, role)
);
CREATE INDEX memberships_organisation ON memberships (organisation_id);

CREATE TABLE invitations (
    id              uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    role            text COLLATE "C" NOT NULL,
    detail          text COLLATE "C" NOT NULL,
    token_hash      text COLLATE "C" NOT NULL UNIQUE,
    invited_by      uuid NOT NULL REFERENCES users (id),
    note            text COLLATE "C",
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    used_by         uuid REFERENCES users (id),
    created_at      timestamptz NOT NULL
);
CREATE INDEX invitations_organisation ON invitations (organisation_id);

CREATE TABLE sessions (
    id_hash               text COLLATE "C" PRIMARY KEY,
    handle                text COLLATE "C" NOT NULL UNIQUE,
    user_id               uuid NOT NULL REFERENCES users (id),
    created_at            timestamptz NOT NULL,
    last_seen_at          timestamptz NOT NULL,
    pending_second_factor boolean NOT NULL,
    csrf_token            text COLLATE "C" NOT NULL,
    user_agent            text COLLATE "C",
    client_ip             text COLLATE "C"
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE recovery_codes (
    user_id uuid NOT NULL REFERENCES users (id),
    digest  text COLLATE "C" NOT NULL,
    used_at timestamptz,
    PRIMARY KEY (user_id, digest)
);

CREATE TABLE login_failures (
    key text COLLATE "C" NOT NULL,
    at  timestamptz NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at);

CREATE TABLE idempotency (
    scope       text COLLATE "C" NOT NULL,
    key         text COLLATE "C" NOT NULL,
    fingerprint text COLLATE "C" NOT NULL,
    status      integer NOT NULL CHECK (status BETWEEN 0 AND 65535),
    body        text COLLATE "C" NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);

-- The audit log: append-only, hash-chained (see ryoritsu_domain::audit). No foreign keys:
-- the record outlives whatever it names. seq is given by the application (the chain
-- decides it), so it is a plain bigint, not an identity column.
CREATE TABLE audit_event (
    seq          bigint PRIMARY KEY,
    at           timestamptz NOT NULL,
    actor        uuid,
    actor_role   text COLLATE "C",
    organisation uuid,
    action       text COLLATE "C" NOT NULL,
    target       text COLLATE "C",
    category     text COLLATE "C",
    case_id      uuid,
    outcome      text COLLATE "C" NOT NULL,
    purpose      text COLLATE "C",
    operation_id text COLLATE "C",
    client_ip    text COLLATE "C",
    prev_hash    bytea NOT NULL CHECK (octet_length(prev_hash) = 32),
    hash         bytea NOT NULL CHECK (octet_length(hash) = 32)
);

-- Refuses any change to a stored record. Row triggers catch UPDATE and DELETE; TRUNCATE
-- bypasses row triggers, so a statement trigger refuses it too. The chain would still
-- name the damage, but refusing it keeps honest mistakes from happening at all.
CREATE FUNCTION audit_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();

-- The latest record's sequence number and hash, moved by every append. Its one row is
-- also the lock that serialises appends across server instances (SELECT ... FOR UPDATE).
CREATE TABLE audit_head (
    id   smallint PRIMARY KEY CHECK (id = 1),
    seq  bigint NOT NULL,
    hash bytea NOT NULL CHECK (octet_length(hash) = 32)
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));
