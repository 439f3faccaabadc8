-- Coordinators' records of consultations (相談記録) on a case. `author_role` is the role's
-- stable code, as the author acted in it when writing.
CREATE TABLE consultation_notes (
    id              BLOB PRIMARY KEY,
    case_id         BLOB NOT NULL REFERENCES cases (id),
    author          BLOB NOT NULL REFERENCES users (id),
    author_role     TEXT NOT NULL,
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    body            TEXT NOT NULL,
    created_at      INTEGER NOT NULL
) STRICT;
-- A case's notes, oldest first.
CREATE INDEX consultation_notes_case ON consultation_notes (case_id, created_at);

-- Append-only: a note is kept as written, and a correction is a new note, so what was
-- recorded, and when, cannot be rewritten or removed afterwards.
CREATE TRIGGER consultation_notes_no_update BEFORE UPDATE ON consultation_notes
BEGIN
    SELECT RAISE(ABORT, 'consultation_notes is append-only');
END;

CREATE TRIGGER consultation_notes_no_delete BEFORE DELETE ON consultation_notes
BEGIN
    SELECT RAISE(ABORT, 'consultation_notes is append-only');
END;
