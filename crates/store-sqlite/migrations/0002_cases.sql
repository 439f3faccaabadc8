-- Support cases: cases, their parties, documents, history, tasks, consents, third-party
-- provision records and each employer's 取扱規程.
--
-- Times are INTEGER microseconds since the Unix epoch (UTC); ids are 16-byte UUID blobs;
-- enums are stored by their stable codes. Domain values whose shape is the domain's business
-- (the case state, document bodies, steps, the rules) are JSON text beside the columns that
-- lists and statistics filter on.
--
-- No ON DELETE CASCADE anywhere: health information and the records about its provision
-- must never disappear as a side effect of deleting something else.

-- One worker's support at one employer. `path` and `status` repeat what `state` says so
-- that lists and statistics need not parse JSON; every write sets all three together.
CREATE TABLE cases (
    id           BLOB PRIMARY KEY,
    worker_id    BLOB NOT NULL REFERENCES users (id),
    employer_id  BLOB NOT NULL REFERENCES organisations (id),
    workplace_id BLOB REFERENCES workplaces (id),
    path         TEXT NOT NULL,
    status       TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (json_valid(state)),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    version      INTEGER NOT NULL
) STRICT;
-- The employer's case list, usually by status.
CREATE INDEX cases_employer_status ON cases (employer_id, status);
-- The worker's own cases.
CREATE INDEX cases_worker ON cases (worker_id);

-- Who else takes part in a case: the line manager, the hospital, coordinators.
CREATE TABLE case_parties (
    case_id         BLOB NOT NULL REFERENCES cases (id),
    kind            TEXT NOT NULL,
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    -- The person; NULL for a hospital as a whole.
    user_id         BLOB REFERENCES users (id),
    added_by        BLOB NOT NULL,
    added_at        INTEGER NOT NULL
) STRICT;
-- One row per party. A plain UNIQUE constraint treats NULLs as distinct, so a hospital
-- could be attached twice; coalescing to an empty blob (never a valid 16-byte id) makes
-- "no person" a single value.
CREATE UNIQUE INDEX case_parties_unique
    ON case_parties (case_id, kind, organisation_id, coalesce(user_id, x''));
-- "Cases this organisation takes part in" for hospitals and coordinators.
CREATE INDEX case_parties_organisation ON case_parties (organisation_id);

-- Document drafts and finalised (確定) documents. `body` is the DocumentBody as JSON;
-- `stage` and `revision` repeat it for filtering. A finalised row is never updated: the
-- adapter's update refuses it, and a correction is a new row.
CREATE TABLE documents (
    id         BLOB PRIMARY KEY,
    case_id    BLOB NOT NULL REFERENCES cases (id),
    form       TEXT NOT NULL,
    stage      TEXT NOT NULL CHECK (stage IN ('draft', 'finalised')),
    revision   INTEGER NOT NULL,
    body       TEXT NOT NULL CHECK (json_valid(body)),
    created_by BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version    INTEGER NOT NULL
) STRICT;
CREATE INDEX documents_case ON documents (case_id);

-- The case's history: one row per accepted step. The actor has no foreign key, like the
-- audit log: the history names whoever acted, whatever becomes of the account.
CREATE TABLE case_events (
    id          BLOB PRIMARY KEY,
    case_id     BLOB NOT NULL REFERENCES cases (id),
    step        TEXT NOT NULL CHECK (json_valid(step)),
    actor       BLOB NOT NULL,
    actor_role  TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    at          INTEGER NOT NULL
) STRICT;
CREATE INDEX case_events_case ON case_events (case_id, at);

-- What each case waits for, assigned to a role within an organisation. `due` is a calendar
-- date ('YYYY-MM-DD'), so that text order is date order.
CREATE TABLE tasks (
    id                    BLOB PRIMARY KEY,
    case_id               BLOB NOT NULL REFERENCES cases (id),
    kind                  TEXT NOT NULL,
    assignee_role         TEXT NOT NULL,
    assignee_organisation BLOB NOT NULL REFERENCES organisations (id),
    due                   TEXT NOT NULL,
    opened_at             INTEGER NOT NULL,
    closed_at             INTEGER
) STRICT;
-- An organisation's open tasks (closed_at IS NULL).
CREATE INDEX tasks_assignee ON tasks (assignee_organisation, closed_at);
CREATE INDEX tasks_case ON tasks (case_id);

-- The worker's consents. A withdrawal only sets `withdrawn_at`; a new consent is a new row,
-- so the history of what the worker agreed to is kept. `categories` is a JSON array of
-- category codes.
CREATE TABLE consents (
    id                     BLOB PRIMARY KEY,
    case_id                BLOB NOT NULL REFERENCES cases (id),
    worker_id              BLOB NOT NULL REFERENCES users (id),
    recipient_organisation BLOB NOT NULL,
    recipient_role         TEXT NOT NULL,
    recipient_person       BLOB,
    categories             TEXT NOT NULL CHECK (json_valid(categories)),
    purpose                TEXT NOT NULL,
    granted_at             INTEGER NOT NULL,
    expires_at             INTEGER,
    withdrawn_at           INTEGER,
    explanation_version    INTEGER NOT NULL
) STRICT;
CREATE INDEX consents_case ON consents (case_id);
CREATE INDEX consents_worker ON consents (worker_id);

-- 第三者提供記録: one provision of a worker's information to another organisation. These
-- must outlive what they name (kept at least 3 years after the last provision, 個人情報保護法
-- 施行規則 21条), so the only foreign key is to the consent the provision rests on, which is
-- never deleted (a withdrawal is an update); everything else is a plain id.
CREATE TABLE disclosures (
    id                BLOB PRIMARY KEY,
    case_id           BLOB NOT NULL,
    worker_id         BLOB NOT NULL,
    from_organisation BLOB NOT NULL,
    to_organisation   BLOB NOT NULL,
    to_role           TEXT NOT NULL,
    categories        TEXT NOT NULL CHECK (json_valid(categories)),
    consent_id        BLOB NOT NULL REFERENCES consents (id),
    at                INTEGER NOT NULL,
    what_kind         TEXT NOT NULL,
    what_id           BLOB NOT NULL
) STRICT;
CREATE INDEX disclosures_worker ON disclosures (worker_id);
CREATE INDEX disclosures_case ON disclosures (case_id);

-- Append-only, like the audit log: a provision record is evidence and may not be changed
-- or removed. A retention purge (after the 3 years) will drop these triggers explicitly,
-- inside its own transaction, and put them back.
CREATE TRIGGER disclosures_no_update BEFORE UPDATE ON disclosures
BEGIN
    SELECT RAISE(ABORT, 'disclosures is append-only');
END;

CREATE TRIGGER disclosures_no_delete BEFORE DELETE ON disclosures
BEGIN
    SELECT RAISE(ABORT, 'disclosures is append-only');
END;

-- Each employer's 健康情報等取扱規程 (HandlingRules as JSON); one row per employer.
CREATE TABLE handling_rules (
    employer_id BLOB PRIMARY KEY REFERENCES organisations (id),
    rules       TEXT NOT NULL CHECK (json_valid(rules)),
    updated_by  BLOB NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL
) STRICT;
