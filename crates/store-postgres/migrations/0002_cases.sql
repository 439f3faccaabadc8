-- Support cases: the case and its parties, documents, history, tasks, the worker's
-- consents, the records of provision to third parties and each employer's 取扱規程.
--
-- Domain values whose shape is the domain's business (the case state, a document body, a
-- step, the rules, a set of categories) are kept as text holding serde_json output, not
-- jsonb: jsonb reorders keys and normalises numbers, and the exports of both backends are
-- compared, so the stored bytes should be exactly what SQLite keeps. The columns beside
-- them (status, stage, kind, ...) are copies for lists and statistics to filter on.
--
-- No foreign key cascades: nothing about a case disappears because something it names
-- was deleted; a delete that would orphan a row is refused instead.

CREATE TABLE cases (
    id           uuid PRIMARY KEY,
    worker_id    uuid NOT NULL REFERENCES users (id),
    employer_id  uuid NOT NULL REFERENCES organisations (id),
    workplace_id uuid REFERENCES workplaces (id),
    -- Copies of state.path and state.status, written together with state.
    path         text COLLATE "C" NOT NULL,
    status       text COLLATE "C" NOT NULL,
    state        text COLLATE "C" NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    version      bigint NOT NULL
);
-- The employer's case list is filtered by status; the worker's by the worker.
CREATE INDEX cases_employer_status ON cases (employer_id, status);
CREATE INDEX cases_worker ON cases (worker_id);

-- Line managers, hospitals and coordinators taking part in a case. A hospital as a whole
-- has no user, so user_id is NULL there; NULLS NOT DISTINCT keeps that hospital from
-- being attached twice (a plain UNIQUE treats every NULL as different).
CREATE TABLE case_parties (
    case_id         uuid NOT NULL REFERENCES cases (id),
    kind            text COLLATE "C" NOT NULL,
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    user_id         uuid REFERENCES users (id),
    added_by        uuid NOT NULL,
    added_at        timestamptz NOT NULL,
    UNIQUE NULLS NOT DISTINCT (case_id, kind, organisation_id, user_id)
);
-- "Cases this organisation takes part in" looks parties up by organisation.
CREATE INDEX case_parties_organisation ON case_parties (organisation_id);

-- Drafts and finalised (確定) documents. body is the DocumentBody as JSON; stage and
-- revision are copies of what it holds. A finalised row is never rewritten: the update
-- statement only touches rows whose stage is still 'draft'.
CREATE TABLE documents (
    id         uuid PRIMARY KEY,
    case_id    uuid NOT NULL REFERENCES cases (id),
    form       text COLLATE "C" NOT NULL,
    stage      text COLLATE "C" NOT NULL CHECK (stage IN ('draft', 'finalised')),
    -- bigint: the domain's revision is a u32, which integer cannot hold in full.
    revision   bigint NOT NULL CHECK (revision BETWEEN 0 AND 4294967295),
    body       text COLLATE "C" NOT NULL,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version    bigint NOT NULL
);
CREATE INDEX documents_case ON documents (case_id);

-- Each accepted step, for the case's history. step is the Step as JSON.
CREATE TABLE case_events (
    id          uuid PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES cases (id),
    step        text COLLATE "C" NOT NULL,
    actor       uuid NOT NULL,
    actor_role  text COLLATE "C" NOT NULL,
    from_status text COLLATE "C" NOT NULL,
    to_status   text COLLATE "C" NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, at);

-- What a case waits for, and who must act.
CREATE TABLE tasks (
    id                    uuid PRIMARY KEY,
    case_id               uuid NOT NULL REFERENCES cases (id),
    kind                  text COLLATE "C" NOT NULL,
    assignee_role         text COLLATE "C" NOT NULL,
    assignee_organisation uuid NOT NULL REFERENCES organisations (id),
    due                   date NOT NULL,
    opened_at             timestamptz NOT NULL,
    closed_at             timestamptz
);
-- An organisation's open tasks (closed_at IS NULL) are its to-do list.
CREATE INDEX tasks_assignee ON tasks (assignee_organisation, closed_at);
CREATE INDEX tasks_case ON tasks (case_id);

-- The worker's consents. A withdrawal only sets withdrawn_at; a new consent is a new row,
-- so what the worker agreed to, and when, stays on record. categories is a JSON array of
-- category codes.
CREATE TABLE consents (
    id                     uuid PRIMARY KEY,
    case_id                uuid NOT NULL REFERENCES cases (id),
    worker_id              uuid NOT NULL REFERENCES users (id),
    recipient_organisation uuid NOT NULL,
    recipient_role         text COLLATE "C" NOT NULL,
    recipient_person       uuid,
    categories             text COLLATE "C" NOT NULL,
    purpose                text COLLATE "C" NOT NULL,
    granted_at             timestamptz NOT NULL,
    expires_at             timestamptz,
    withdrawn_at           timestamptz,
    -- bigint: the domain's version is a u32, which integer cannot hold in full.
    explanation_version    bigint NOT NULL CHECK (explanation_version BETWEEN 0 AND 4294967295)
);
CREATE INDEX consents_case ON consents (case_id);
CREATE INDEX consents_worker ON consents (worker_id);

-- 第三者提供記録: one provision of a worker's information to another organisation. Kept
-- at least 3 years after the last provision of its line (個人情報保護法施行規則 21条);
-- the consent it rests on is a foreign key, so no record exists without its consent.
CREATE TABLE disclosures (
    id                uuid PRIMARY KEY,
    case_id           uuid NOT NULL,
    worker_id         uuid NOT NULL,
    from_organisation uuid NOT NULL,
    to_organisation   uuid NOT NULL,
    to_role           text COLLATE "C" NOT NULL,
    categories        text COLLATE "C" NOT NULL,
    consent_id        uuid NOT NULL REFERENCES consents (id),
    at                timestamptz NOT NULL,
    what_kind         text COLLATE "C" NOT NULL,
    what_id           uuid NOT NULL
);
CREATE INDEX disclosures_worker ON disclosures (worker_id);
CREATE INDEX disclosures_case ON disclosures (case_id);

-- Provision records are evidence, like the audit log: append-only. Row triggers refuse
-- UPDATE and DELETE; TRUNCATE bypasses row triggers, so a statement trigger refuses it too.
-- Purging records past their retention will be a deliberate, separate change.
CREATE FUNCTION disclosures_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'disclosures is append-only' USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER disclosures_no_update BEFORE UPDATE ON disclosures
    FOR EACH ROW EXECUTE FUNCTION disclosures_append_only();
CREATE TRIGGER disclosures_no_delete BEFORE DELETE ON disclosures
    FOR EACH ROW EXECUTE FUNCTION disclosures_append_only();
CREATE TRIGGER disclosures_no_truncate BEFORE TRUNCATE ON disclosures
    FOR EACH STATEMENT EXECUTE FUNCTION disclosures_append_only();

-- Each employer's 健康情報等取扱規程 (one row per employer; none stored means the
-- defaults). rules is the HandlingRules as JSON.
CREATE TABLE handling_rules (
    employer_id uuid PRIMARY KEY REFERENCES organisations (id),
    rules       text COLLATE "C" NOT NULL,
    updated_by  uuid NOT NULL,
    updated_at  timestamptz NOT NULL,
    version     bigint NOT NULL
);
