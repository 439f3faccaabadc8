-- The access index: who may see which case and which of its categories, as the access
-- policy decides it (`policy::case_grants`), kept as rows so that lists, search, tasks,
-- exports and FHIR searches ask one indexed query instead of deciding every case.
--
-- Derived data, written by the application in the same transaction as the parties,
-- consents, 取扱規程 and case it derives from; rebuilt after a restore, never backed up.
--
-- subject: 'u:<user>' (the worker), 'm:<organisation>:<role>' (anyone holding the role
-- there), 'p:<organisation>:<role>:<user>' (one person holding it). A principal presents
-- its own keys (`policy::subject_keys`). scope: 'case' (the case itself) or a category code.
-- source: 'relation', 'rule' or 'consent:<consent id>'. A consent's rows carry the time it
-- is active [valid_from, valid_until), so an expired consent opens nothing.
-- opened_at and status copy the case's, for the lists' order and filter (every step that
-- changes the status rewrites them in the same transaction).
CREATE TABLE case_grants (
    case_id      uuid NOT NULL REFERENCES cases (id),
    employer_id  uuid NOT NULL,
    subject      text COLLATE "C" NOT NULL,
    relation     text COLLATE "C" NOT NULL,
    relation_org uuid,
    role         text COLLATE "C" NOT NULL,
    scope        text COLLATE "C" NOT NULL,
    source       text COLLATE "C" NOT NULL,
    valid_from   timestamptz,
    valid_until  timestamptz,
    opened_at    timestamptz NOT NULL,
    status       text COLLATE "C" NOT NULL,
    PRIMARY KEY (case_id, subject, scope, source, relation)
);
-- A principal's cases, newest first, optionally by status: one range per key.
CREATE INDEX case_grants_list ON case_grants (subject, scope, opened_at, case_id);
CREATE INDEX case_grants_status ON case_grants (subject, scope, status, opened_at, case_id);
-- A change of an employer's 取扱規程, applied to the rows of its cases.
CREATE INDEX case_grants_rules ON case_grants (employer_id, role, scope, source);

-- Cases whose consents name a role of an organisation (rebuilt when the rules let the role
-- see a category again).
CREATE INDEX consents_recipient ON consents (recipient_organisation, recipient_role);

-- A person's open tasks: by the organisation and role they are assigned to, soonest first
-- (only open ones are indexed).
CREATE INDEX tasks_open_by_assignee ON tasks (assignee_organisation, assignee_role, due, id)
    WHERE closed_at IS NULL;
