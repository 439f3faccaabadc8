-- The worker's requests for correction (訂正等の請求, 個人情報保護法 第34条) and their answers.
-- A request names a document of the case (target_type 'document') or other data in the
-- worker's words ('other'). The answer columns are filled once, together with status.
CREATE TABLE correction_requests (
    id                     BLOB PRIMARY KEY,
    case_id                BLOB NOT NULL REFERENCES cases (id),
    worker_id              BLOB NOT NULL REFERENCES users (id),
    target_type            TEXT NOT NULL CHECK (target_type IN ('document', 'other')),
    target_document        BLOB REFERENCES documents (id),
    target_description     TEXT,
    kind                   TEXT NOT NULL,
    what_is_wrong          TEXT NOT NULL,
    should_say             TEXT NOT NULL,
    responder              TEXT NOT NULL,
    responder_organisation BLOB NOT NULL REFERENCES organisations (id),
    filed_at               INTEGER NOT NULL,
    due                    TEXT NOT NULL,
    status                 TEXT NOT NULL CHECK (status IN ('received', 'answered')),
    decision               TEXT,
    reason                 TEXT,
    corrected_document     BLOB REFERENCES documents (id),
    answered_by            BLOB REFERENCES users (id),
    answered_at            INTEGER,
    version                INTEGER NOT NULL,
    CHECK ((target_type = 'document') = (target_document IS NOT NULL)),
    CHECK ((target_type = 'other') = (target_description IS NOT NULL)),
    CHECK ((status = 'answered') = (decision IS NOT NULL)),
    CHECK ((decision IS NULL) = (answered_by IS NULL AND answered_at IS NULL))
) STRICT;
CREATE INDEX correction_requests_case ON correction_requests (case_id, filed_at);
CREATE INDEX correction_requests_worker ON correction_requests (worker_id);
-- The answering side's open requests.
CREATE INDEX correction_requests_responder ON correction_requests (responder_organisation, status);

-- What the worker asked, and when, is never rewritten or removed; an answer is added once
-- and then kept as given.
CREATE TRIGGER correction_requests_no_delete BEFORE DELETE ON correction_requests
BEGIN
    SELECT RAISE(ABORT, 'correction_requests are kept');
END;

CREATE TRIGGER correction_requests_answer_once BEFORE UPDATE ON correction_requests
WHEN OLD.status <> 'received'
    OR NEW.id IS NOT OLD.id
    OR NEW.case_id IS NOT OLD.case_id
    OR NEW.worker_id IS NOT OLD.worker_id
    OR NEW.target_type IS NOT OLD.target_type
    OR NEW.target_document IS NOT OLD.target_document
    OR NEW.target_description IS NOT OLD.target_description
    OR NEW.kind IS NOT OLD.kind
    OR NEW.what_is_wrong IS NOT OLD.what_is_wrong
    OR NEW.should_say IS NOT OLD.should_say
    OR NEW.responder IS NOT OLD.responder
    OR NEW.responder_organisation IS NOT OLD.responder_organisation
    OR NEW.filed_at IS NOT OLD.filed_at
    OR NEW.due IS NOT OLD.due
BEGIN
    SELECT RAISE(ABORT, 'a correction request keeps what was filed and is answered once');
END;
