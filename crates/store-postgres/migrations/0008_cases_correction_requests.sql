-- The worker's requests for correction (訂正等の請求, 個人情報保護法 第34条) and their answers.
-- A request names a document of the case (target_type 'document') or other data in the
-- worker's words ('other'). The answer columns are filled once, together with status.
CREATE TABLE correction_requests (
    id                     uuid PRIMARY KEY,
    case_id                uuid NOT NULL REFERENCES cases (id),
    worker_id              uuid NOT NULL REFERENCES users (id),
    target_type            text COLLATE "C" NOT NULL CHECK (target_type IN ('document', 'other')),
    target_document        uuid REFERENCES documents (id),
    target_description     text COLLATE "C",
    kind                   text COLLATE "C" NOT NULL,
    what_is_wrong          text COLLATE "C" NOT NULL,
    should_say             text COLLATE "C" NOT NULL,
    responder              text COLLATE "C" NOT NULL,
    responder_organisation uuid NOT NULL REFERENCES organisations (id),
    filed_at               timestamptz NOT NULL,
    due                    date NOT NULL,
    status                 text COLLATE "C" NOT NULL CHECK (status IN ('received', 'answered')),
    decision               text COLLATE "C",
    reason                 text COLLATE "C",
    corrected_document     uuid REFERENCES documents (id),
    answered_by            uuid REFERENCES users (id),
    answered_at            timestamptz,
    version                bigint NOT NULL,
    CHECK ((target_type = 'document') = (target_document IS NOT NULL)),
    CHECK ((target_type = 'other') = (target_description IS NOT NULL)),
    CHECK ((status = 'answered') = (decision IS NOT NULL)),
    CHECK ((decision IS NULL) = (answered_by IS NULL AND answered_at IS NULL))
);
CREATE INDEX correction_requests_case ON correction_requests (case_id, filed_at);
CREATE INDEX correction_requests_worker ON correction_requests (worker_id);
-- The answering side's open requests.
CREATE INDEX correction_requests_responder ON correction_requests (responder_organisation, status);

-- What the worker asked, and when, is never rewritten or removed; an answer is added once
-- and then kept as given. TRUNCATE bypasses row triggers, so a statement trigger refuses it.
CREATE FUNCTION correction_requests_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.status = 'received'
            AND (NEW.id, NEW.case_id, NEW.worker_id, NEW.target_type, NEW.target_document,
                 NEW.target_description, NEW.kind, NEW.what_is_wrong, NEW.should_say,
                 NEW.responder, NEW.responder_organisation, NEW.filed_at, NEW.due)
                IS NOT DISTINCT FROM
                (OLD.id, OLD.case_id, OLD.worker_id, OLD.target_type, OLD.target_document,
                 OLD.target_description, OLD.kind, OLD.what_is_wrong, OLD.should_say,
                 OLD.responder, OLD.responder_organisation, OLD.filed_at, OLD.due)
        THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'a correction request keeps what was filed and is answered once'
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER correction_requests_answer_once BEFORE UPDATE ON correction_requests
    FOR EACH ROW EXECUTE FUNCTION correction_requests_kept();
CREATE TRIGGER correction_requests_no_delete BEFORE DELETE ON correction_requests
    FOR EACH ROW EXECUTE FUNCTION correction_requests_kept();
CREATE TRIGGER correction_requests_no_truncate BEFORE TRUNCATE ON correction_requests
    FOR EACH STATEMENT EXECUTE FUNCTION correction_requests_kept();
