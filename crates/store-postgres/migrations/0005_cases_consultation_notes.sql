-- Coordinators' records of consultations (相談記録) on a case. author_role is the role's
-- stable code, as the author acted in it when writing.
CREATE TABLE consultation_notes (
    id              uuid PRIMARY KEY,
    case_id         uuid NOT NULL REFERENCES cases (id),
    author          uuid NOT NULL REFERENCES users (id),
    author_role     text COLLATE "C" NOT NULL,
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    body            text COLLATE "C" NOT NULL,
    created_at      timestamptz NOT NULL
);
-- A case's notes, oldest first.
CREATE INDEX consultation_notes_case ON consultation_notes (case_id, created_at);

-- Append-only: a note is kept as written, and a correction is a new note, so what was
-- recorded, and when, cannot be rewritten or removed afterwards. Row triggers refuse
-- UPDATE and DELETE; TRUNCATE bypasses row triggers, so a statement trigger refuses it too.
CREATE FUNCTION consultation_notes_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'consultation_notes is append-only' USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER consultation_notes_no_update BEFORE UPDATE ON consultation_notes
    FOR EACH ROW EXECUTE FUNCTION consultation_notes_append_only();
CREATE TRIGGER consultation_notes_no_delete BEFORE DELETE ON consultation_notes
    FOR EACH ROW EXECUTE FUNCTION consultation_notes_append_only();
CREATE TRIGGER consultation_notes_no_truncate BEFORE TRUNCATE ON consultation_notes
    FOR EACH STATEMENT EXECUTE FUNCTION consultation_notes_append_only();
